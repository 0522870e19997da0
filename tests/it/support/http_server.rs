//! A small HTTP/1.1 server on 127.0.0.1 for tests, written on plain tokio
//! TCP so that every fault is ours to inject: throttling (per connection),
//! resets, stalls, error statuses, lying Content-Length, redirects,
//! Content-Disposition, servers without ranges or lengths, changing ETags.
//!
//! ```ignore
//! let server = TestServer::start([
//!     Resource::file("/a.bin", data.clone()).rate(1 << 20).reset_after(100_000, 2),
//!     Resource::redirect("/old", "/a.bin"),
//! ]).await;
//! let url = server.url("/a.bin");
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One path the server answers, and how.
#[derive(Clone, Debug)]
pub struct Resource {
    path: String,
    body: Arc<Vec<u8>>,
    redirect_to: Option<String>,
    ranges: bool,
    length: bool,
    etag: bool,
    content_disposition: Option<String>,
    /// A new ETag on every response, as if the file changed each time.
    etag_per_request: bool,
    /// Sent as `Content-Range` on every 206 instead of the true one.
    content_range: Option<String>,
    /// Bytes per second by connection number (cycled); empty = unthrottled.
    rates: Vec<u64>,
    faults: Vec<(Fault, usize)>,
    /// Sent as `Retry-After` with injected error statuses.
    retry_after: Option<String>,
    /// Sent as `Set-Cookie` with every answer that has a body.
    set_cookie: Option<String>,
}

/// A misbehaviour applied to the first `n` responses of a resource.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Status(u16),
    ResetAfter(usize),
    StallAfter(usize),
    /// Announce more bytes than are sent, then close.
    LongerContentLength,
}

impl Resource {
    /// A file served with ranges, a length and an ETag.
    pub fn file(path: &str, body: Vec<u8>) -> Self {
        Resource {
            path: path.to_owned(),
            body: Arc::new(body),
            redirect_to: None,
            ranges: true,
            length: true,
            etag: true,
            content_disposition: None,
            content_range: None,
            etag_per_request: false,
            rates: Vec::new(),
            faults: Vec::new(),
            retry_after: None,
            set_cookie: None,
        }
    }

    /// A 302 to `to` (a path on this server or an absolute URL).
    pub fn redirect(path: &str, to: &str) -> Self {
        Resource {
            redirect_to: Some(to.to_owned()),
            ..Resource::file(path, Vec::new())
        }
    }

    /// Ignore Range headers: always 200 with the whole body.
    pub fn no_ranges(mut self) -> Self {
        self.ranges = false;
        self
    }

    /// No Content-Length: the body ends when the connection closes.
    pub fn no_length(mut self) -> Self {
        self.length = false;
        self
    }

    pub fn no_etag(mut self) -> Self {
        self.etag = false;
        self
    }

    pub fn content_disposition(mut self, value: &str) -> Self {
        self.content_disposition = Some(value.to_owned());
        self
    }

    /// Every response carries another ETag: a file that never stops changing.
    pub fn etag_per_request(mut self) -> Self {
        self.etag_per_request = true;
        self
    }

    /// Every partial answer claims this `Content-Range`, whatever it sends.
    pub fn content_range(mut self, value: &str) -> Self {
        self.content_range = Some(value.to_owned());
        self
    }

    /// Every connection sends at most `bytes_per_sec`.
    pub fn rate(self, bytes_per_sec: u64) -> Self {
        self.rates(&[bytes_per_sec])
    }

    /// Connection i (in accept order, over the server) gets `rates[i % len]`.
    pub fn rates(mut self, rates: &[u64]) -> Self {
        self.rates = rates.to_vec();
        self
    }

    /// The first `times` responses answer `status` instead.
    pub fn fail_first(mut self, status: u16, times: usize) -> Self {
        self.faults.push((Fault::Status(status), times));
        self
    }

    /// Every answer with a body says `Set-Cookie: value`.
    pub fn set_cookie(mut self, value: &str) -> Self {
        self.set_cookie = Some(value.to_owned());
        self
    }

    /// Injected error statuses (`fail_first`) say `Retry-After: value`.
    pub fn retry_after(mut self, value: &str) -> Self {
        self.retry_after = Some(value.to_owned());
        self
    }

    /// The first `times` responses close the connection after `bytes` of body.
    pub fn reset_after(mut self, bytes: usize, times: usize) -> Self {
        self.faults.push((Fault::ResetAfter(bytes), times));
        self
    }

    /// The first `times` responses go silent after `bytes` of body.
    pub fn stall_after(mut self, bytes: usize, times: usize) -> Self {
        self.faults.push((Fault::StallAfter(bytes), times));
        self
    }

    /// The first `times` responses announce a longer body than they send.
    pub fn wrong_length(mut self, times: usize) -> Self {
        self.faults.push((Fault::LongerContentLength, times));
        self
    }
}

#[derive(Debug)]
struct Served {
    resource: Resource,
    version: usize,
    requests: usize,
    /// Where each request's Range started (None: no Range).
    range_starts: Vec<Option<u64>>,
    /// When each request arrived.
    arrivals: Vec<std::time::Instant>,
    /// The secrets each request carried.
    secrets: Vec<Secrets>,
}

#[derive(Debug, Default)]
struct State {
    resources: Mutex<HashMap<String, Served>>,
    accepted: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Body bytes sent, by connection number.
    sent: Mutex<HashMap<usize, u64>>,
}

pub struct TestServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(resources: impl IntoIterator<Item = Resource>) -> TestServer {
        TestServer::start_on("127.0.0.1:0", resources).await
    }

    /// The same on IPv6's loopback: its URLs name `[::1]`.
    pub async fn start_ipv6(resources: impl IntoIterator<Item = Resource>) -> TestServer {
        TestServer::start_on("[::1]:0", resources).await
    }

    async fn start_on(at: &str, resources: impl IntoIterator<Item = Resource>) -> TestServer {
        let listener = TcpListener::bind(at).await.expect("bind the test server");
        let addr = listener.local_addr().expect("test server address");
        let state = Arc::new(State::default());
        for resource in resources {
            state.resources.lock().unwrap().insert(
                resource.path.clone(),
                Served {
                    resource,
                    version: 1,
                    requests: 0,
                    range_starts: Vec::new(),
                    arrivals: Vec::new(),
                    secrets: Vec::new(),
                },
            );
        }
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let number = accept_state.accepted.fetch_add(1, Ordering::SeqCst);
                let state = accept_state.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, number, &state).await;
                });
            }
        });
        TestServer { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests `path` has received.
    pub fn requests(&self, path: &str) -> usize {
        self.state
            .resources
            .lock()
            .unwrap()
            .get(path)
            .map_or(0, |s| s.requests)
    }

    /// Where the Range of each request to `path` started, in arrival order
    /// (None for a request without one).
    pub fn range_starts(&self, path: &str) -> Vec<Option<u64>> {
        self.state
            .resources
            .lock()
            .unwrap()
            .get(path)
            .map_or_else(Vec::new, |s| s.range_starts.clone())
    }

    /// When each request to `path` arrived, in order.
    pub fn arrivals(&self, path: &str) -> Vec<std::time::Instant> {
        self.state
            .resources
            .lock()
            .unwrap()
            .get(path)
            .map_or_else(Vec::new, |s| s.arrivals.clone())
    }

    /// The `Authorization` and `Cookie` each request to `path` carried.
    pub fn secrets(&self, path: &str) -> Vec<Secrets> {
        self.state
            .resources
            .lock()
            .unwrap()
            .get(path)
            .map_or_else(Vec::new, |s| s.secrets.clone())
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// The most responses that were being sent at the same time: connections
    /// in use, leaving out idle keep-alive ones.
    pub fn max_concurrent_responses(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Body bytes each connection sent, by connection number (accept order).
    pub fn bytes_sent_by_connection(&self) -> HashMap<usize, u64> {
        self.state.sent.lock().unwrap().clone()
    }

    /// Serves a new body at `path`, with a new ETag.
    pub fn replace(&self, path: &str, body: Vec<u8>) {
        let mut resources = self.state.resources.lock().unwrap();
        let served = resources.get_mut(path).expect("replace a known resource");
        served.resource.body = Arc::new(body);
        served.version += 1;
    }
}

struct Request {
    head: bool,
    path: String,
    range: Option<(u64, Option<u64>)>,
    if_range: Option<String>,
    /// The `Authorization` and `Cookie` headers, as received.
    secrets: Secrets,
}

/// What a request carried that only its own host may see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    pub authorization: Option<String>,
    pub cookie: Option<String>,
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let head = parts.next() == Some("HEAD");
    let path = parts.next().unwrap_or("/").to_owned();
    let mut request = Request {
        head,
        path,
        range: None,
        if_range: None,
        secrets: Secrets::default(),
    };
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(Some(request));
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "range" => {
                request.range = value.strip_prefix("bytes=").and_then(|r| {
                    let (a, b) = r.split_once('-')?;
                    Some((a.parse().ok()?, b.parse().ok()))
                })
            }
            "if-range" => request.if_range = Some(value.to_owned()),
            "authorization" => request.secrets.authorization = Some(value.to_owned()),
            "cookie" => request.secrets.cookie = Some(value.to_owned()),
            _ => {}
        }
    }
}

async fn serve(stream: TcpStream, number: usize, state: &State) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader).await? {
        let found = {
            let mut resources = state.resources.lock().unwrap();
            resources.get_mut(&request.path).map(|served| {
                let fault = served
                    .resource
                    .faults
                    .iter()
                    .find(|(_, times)| served.requests < *times)
                    .map(|(fault, _)| *fault);
                served.requests += 1;
                if served.resource.etag_per_request {
                    served.version += 1;
                }
                served
                    .range_starts
                    .push(request.range.map(|(start, _)| start));
                served.arrivals.push(std::time::Instant::now());
                served.secrets.push(request.secrets.clone());
                (served.resource.clone(), served.version, fault)
            })
        };
        let stream = reader.get_mut();
        let Some((resource, version, fault)) = found else {
            stream
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await?;
            continue;
        };
        if let Some(to) = &resource.redirect_to {
            let head = format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            continue;
        }
        if let Some(Fault::Status(status)) = fault {
            let retry_after = resource
                .retry_after
                .as_ref()
                .map(|value| format!("Retry-After: {value}\r\n"))
                .unwrap_or_default();
            let head =
                format!("HTTP/1.1 {status} Injected\r\n{retry_after}Content-Length: 0\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            continue;
        }
        let in_flight = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(in_flight, Ordering::SeqCst);
        let keep_alive = respond(stream, &request, &resource, version, fault, number, state).await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !keep_alive? {
            return Ok(());
        }
    }
    Ok(())
}

/// Sends one file response; false when the connection must close after it.
async fn respond(
    stream: &mut TcpStream,
    request: &Request,
    resource: &Resource,
    version: usize,
    fault: Option<Fault>,
    connection: usize,
    state: &State,
) -> std::io::Result<bool> {
    let body = &resource.body;
    let total = body.len() as u64;
    let etag = format!("\"v{version}\"");
    let validator_ok = request.if_range.as_deref().is_none_or(|v| v == etag);
    let range = match request.range {
        Some((start, end)) if resource.ranges && validator_ok && start < total => {
            Some((start, end.unwrap_or(total - 1).min(total - 1)))
        }
        _ => None,
    };
    let (start, end) = range.unwrap_or((0, total.saturating_sub(1)));
    let len = if total == 0 { 0 } else { end - start + 1 };
    let mut head = match (range, &resource.content_range) {
        (Some(_), Some(lie)) => {
            format!("HTTP/1.1 206 Partial Content\r\nContent-Range: {lie}\r\n")
        }
        (Some(_), None) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{end}/{total}\r\n"
        ),
        (None, _) => "HTTP/1.1 200 OK\r\n".to_owned(),
    };
    if resource.ranges {
        head.push_str("Accept-Ranges: bytes\r\n");
    }
    if resource.etag {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    if let Some(cookie) = &resource.set_cookie {
        head.push_str(&format!("Set-Cookie: {cookie}\r\n"));
    }
    if let Some(cd) = &resource.content_disposition {
        head.push_str(&format!("Content-Disposition: {cd}\r\n"));
    }
    let mut keep_alive = true;
    match (resource.length, fault) {
        (_, Some(Fault::LongerContentLength)) => {
            head.push_str(&format!("Content-Length: {}\r\n", len + 1000));
            keep_alive = false;
        }
        (true, _) => head.push_str(&format!("Content-Length: {len}\r\n")),
        (false, _) => {
            head.push_str("Connection: close\r\n");
            keep_alive = false;
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if request.head {
        return Ok(keep_alive);
    }
    let rate = match resource.rates.as_slice() {
        [] => None,
        rates => Some(rates[connection % rates.len()]),
    };
    let data = &body[start as usize..(start + len) as usize];
    let cut = match fault {
        Some(Fault::ResetAfter(n) | Fault::StallAfter(n)) => n.min(data.len()),
        _ => data.len(),
    };
    let count = |bytes: usize| {
        *state.sent.lock().unwrap().entry(connection).or_default() += bytes as u64;
    };
    send_throttled(stream, &data[..cut], rate, count).await?;
    match fault {
        Some(Fault::ResetAfter(_)) => {
            // A zero linger turns the close into a real TCP reset.
            stream.set_zero_linger()?;
            Ok(false)
        }
        Some(Fault::StallAfter(_)) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(false)
        }
        _ => Ok(keep_alive),
    }
}

async fn send_throttled(
    stream: &mut TcpStream,
    data: &[u8],
    rate: Option<u64>,
    count: impl Fn(usize),
) -> std::io::Result<()> {
    let Some(rate) = rate else {
        stream.write_all(data).await?;
        count(data.len());
        return Ok(());
    };
    let started = Instant::now();
    let mut sent = 0u64;
    for chunk in data.chunks(16 * 1024) {
        // Wait before a chunk, not after the last: the response is over
        // when its last byte is out.
        let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        stream.write_all(chunk).await?;
        count(chunk.len());
        sent += chunk.len() as u64;
    }
    Ok(())
}
