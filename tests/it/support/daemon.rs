//! A real `haul daemon` process on 127.0.0.1:0 with temporary directories,
//! and raw clients for it: HTTP bodies and WebSocket frames as text, so
//! tests assert the wire format itself.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Daemon {
    child: Child,
    pub addr: String,
    /// The aria2-compatible port's address, when started with `--aria2-listen`.
    pub aria2: Option<String>,
    pub token: String,
    pub root: PathBuf,
    pub state: PathBuf,
    _dirs: tempfile::TempDir,
    http: reqwest::Client,
    /// What the daemon wrote to stderr, when started with `start_watched`.
    stderr: Option<Arc<Mutex<Vec<u8>>>>,
}

/// Flags that make failures quick to observe in tests.
const TEST_FLAGS: &[&str] = &[
    "--retry-wait",
    "10ms",
    "--stall-timeout",
    "2s",
    "--max-tries",
    "3",
];

impl Daemon {
    pub async fn start() -> Daemon {
        Daemon::start_with(&[]).await
    }

    /// Starts the daemon with extra flags, on fresh directories.
    pub async fn start_with(flags: &[&str]) -> Daemon {
        let dirs = tempfile::tempdir().expect("temporary directory");
        let (root, state) = (dirs.path().join("downloads"), dirs.path().join("state"));
        Daemon::start_in(dirs, root, state, flags, false).await
    }

    /// Like `start_with`, keeping what the daemon writes to stderr (see
    /// `stderr`) instead of passing it through.
    pub async fn start_watched(flags: &[&str]) -> Daemon {
        let dirs = tempfile::tempdir().expect("temporary directory");
        let (root, state) = (dirs.path().join("downloads"), dirs.path().join("state"));
        Daemon::start_in(dirs, root, state, flags, true).await
    }

    /// Starts the daemon on the given download root and state directory
    /// (which the caller owns, e.g. on a file system of a chosen size).
    pub async fn start_at(root: &Path, state: &Path, flags: &[&str]) -> Daemon {
        let dirs = tempfile::tempdir().expect("temporary directory");
        Daemon::start_in(dirs, root.to_owned(), state.to_owned(), flags, false).await
    }

    async fn start_in(
        dirs: tempfile::TempDir,
        root: PathBuf,
        state: PathBuf,
        flags: &[&str],
        watched: bool,
    ) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_haul"))
            .arg("daemon")
            .args(["--listen", "127.0.0.1:0", "--dir"])
            .arg(&root)
            .arg("--state-dir")
            .arg(&state)
            .args(TEST_FLAGS)
            .args(flags)
            .env_remove("HAUL_RPC_SECRET")
            .env(
                "HAUL_LOG",
                std::env::var("HAUL_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(if watched {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .kill_on_drop(true)
            .spawn()
            .expect("the haul binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().map(|mut pipe| {
            let kept = Arc::new(Mutex::new(Vec::new()));
            let sink = kept.clone();
            tokio::spawn(async move {
                let mut chunk = vec![0; 8192];
                while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
                    sink.lock()
                        .expect("the stderr buffer")
                        .extend_from_slice(&chunk[..n]);
                }
            });
            kept
        });
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the daemon says where it listens within 20 s")
            .expect("stdout is readable")
            .expect("the daemon printed its address");
        // http://, or https:// with --rpc-certificate.
        let addr = line
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        let aria2 = match flags.contains(&"--aria2-listen") {
            false => None,
            true => {
                let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
                    .await
                    .expect("the daemon says where the aria2 port is within 20 s")
                    .expect("stdout is readable")
                    .expect("the daemon printed the aria2 port's address");
                // http://, or https:// with --rpc-certificate.
                line.split("://")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .map(str::to_owned)
            }
        };
        let given = |flag: &str| flags.iter().position(|f| *f == flag).map(|i| flags[i + 1]);
        let token = match (given("--rpc-secret"), given("--rpc-secret-file")) {
            (Some(secret), _) => secret.to_owned(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .expect("the secret file")
                .trim()
                .to_owned(),
            (None, None) => std::fs::read_to_string(state.join("rpc-secret"))
                .expect("the token file")
                .trim()
                .to_owned(),
        };
        // Keep draining stdout so the daemon never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Daemon {
            child,
            addr,
            aria2,
            token,
            root,
            state,
            _dirs: dirs,
            http: reqwest::Client::new(),
            stderr,
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the daemon has not been waited for")
    }

    /// Whether the daemon process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What the daemon wrote to stderr so far (`start_watched` only).
    pub fn stderr(&self) -> String {
        let kept = self.stderr.as_ref().expect("started with start_watched");
        String::from_utf8_lossy(&kept.lock().expect("the stderr buffer")).into_owned()
    }

    /// Stops this daemon with SIGTERM and starts a new one on the same
    /// directories (and a new port); returns the old one's exit status.
    pub async fn restart(self, flags: &[&str]) -> (Daemon, std::process::ExitStatus) {
        let Daemon {
            mut child,
            root,
            state,
            _dirs,
            ..
        } = self;
        let status = terminate(&mut child).await;
        (
            Daemon::start_in(_dirs, root, state, flags, false).await,
            status,
        )
    }

    /// Kills this daemon with SIGKILL (no checkpoint, no goodbye) and starts
    /// a new one on the same directories.
    pub async fn kill_and_restart(self, flags: &[&str]) -> Daemon {
        let Daemon {
            mut child,
            root,
            state,
            _dirs,
            ..
        } = self;
        child.start_kill().expect("SIGKILL the daemon");
        child.wait().await.expect("the killed daemon is reaped");
        Daemon::start_in(_dirs, root, state, flags, false).await
    }

    /// SIGTERM, then the exit status.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        terminate(&mut self.child).await
    }

    pub fn url(&self) -> String {
        format!("http://{}/jsonrpc", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/jsonrpc/ws", self.addr)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// POSTs `body` (any bytes, JSON or not) to /jsonrpc with the token; the
    /// status and the body text.
    pub async fn post(&self, body: impl AsRef<[u8]>) -> (u16, String) {
        self.post_with(
            &[("authorization", &format!("Bearer {}", self.token))],
            body,
        )
        .await
    }

    /// POSTs `body` to /jsonrpc with exactly these extra headers.
    pub async fn post_with(
        &self,
        headers: &[(&str, &str)],
        body: impl AsRef<[u8]>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .post(self.url())
            .header("content-type", "application/json")
            .body(body.as_ref().to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the daemon answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    /// Calls `method` over HTTP and returns the whole response object.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (status, text) = self.post(&body.to_string()).await;
        assert_eq!(status, 200, "{method}: {text}");
        serde_json::from_str(&text).expect("a JSON response")
    }

    /// The `result` of calling `method`; panics on an error response.
    pub async fn result(&self, method: &str, params: Value) -> Value {
        let response = self.call(method, params).await;
        match response.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} failed: {response}"),
        }
    }

    /// Adds a download and returns its gid.
    pub async fn add(&self, params: Value) -> String {
        let result = self.result("download.add", params).await;
        result["gid"].as_str().expect("a gid").to_owned()
    }

    /// Polls `download.status` of `gid` until `done` says so (60 s at most).
    pub async fn status_until(&self, gid: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.result("download.status", json!({"gid": gid})).await;
            if done(&status) {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out: {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The status of `gid` once it is complete or in error.
    pub async fn finished(&self, gid: &str) -> Value {
        self.status_until(gid, |s| {
            matches!(s["state"].as_str(), Some("complete" | "error"))
        })
        .await
    }

    /// A GET to `path` on the daemon's port.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut request = self.http.get(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the daemon answers");
        (
            response.status().as_u16(),
            response.text().await.expect("a body"),
        )
    }

    /// A WebSocket authenticated with the bearer header.
    pub async fn ws(&self) -> Ws {
        let bearer = format!("Bearer {}", self.token);
        self.ws_with(&[("authorization", &bearer)])
            .await
            .expect("the upgrade is accepted")
    }

    /// An authenticated WebSocket whose socket takes in little at a time
    /// (a 4 KiB receive buffer): a client that stops reading stops the
    /// daemon's writes soon, rather than after megabytes of kernel buffers.
    pub async fn ws_small_window(&self) -> Ws {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .set_recv_buffer_size(4096)
            .expect("a receive buffer size");
        let tcp = socket
            .connect(self.addr.parse().expect("a socket address"))
            .await
            .expect("the daemon accepts");
        let mut request = self.ws_url().into_client_request().expect("a request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", self.token).parse().expect("a header"),
        );
        let (stream, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
            .await
            .expect("the upgrade is accepted");
        Ws {
            stream,
            protocol: None,
        }
    }

    /// A WebSocket upgrade with exactly these extra headers: the socket, or
    /// the refusal's status and body.
    pub async fn ws_with(&self, headers: &[(&str, &str)]) -> Result<Ws, (u16, String)> {
        let mut request = self
            .ws_url()
            .into_client_request()
            .expect("a WebSocket request");
        for (name, value) in headers {
            request.headers_mut().insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                value.parse().expect("a header value"),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, response)) => {
                let protocol = response
                    .headers()
                    .get("sec-websocket-protocol")
                    .map(|v| v.to_str().unwrap_or_default().to_owned());
                Ok(Ws { stream, protocol })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err((status, body))
            }
            Err(e) => panic!("WebSocket handshake failed: {e}"),
        }
    }
}

async fn terminate(child: &mut Child) -> std::process::ExitStatus {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the daemon exits within 20 s of SIGTERM")
        .expect("the exit status")
}

/// A raw WebSocket to the daemon.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The subprotocol the server accepted, if it named one.
    pub protocol: Option<String>,
}

impl Ws {
    pub async fn send(&mut self, text: &str) {
        self.stream
            .send(Message::text(text))
            .await
            .expect("the frame is sent");
    }

    /// Sends a WebSocket ping with `payload`.
    pub async fn ping(&mut self, payload: &[u8]) {
        self.stream
            .send(Message::Ping(payload.to_vec().into()))
            .await
            .expect("the ping is sent");
    }

    /// The next frame of any kind, within `timeout`; `None` when the
    /// connection ended or nothing came.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Message> {
        tokio::time::timeout(timeout, self.stream.next())
            .await
            .ok()?
            .and_then(Result::ok)
    }

    /// Reads frames until the connection ends: how many it read, and whether
    /// it ended (closed or broken) rather than stayed silent for `timeout`.
    pub async fn drain_until_closed(&mut self, timeout: Duration) -> (usize, bool) {
        let mut read = 0;
        loop {
            match tokio::time::timeout(timeout, self.stream.next()).await {
                Err(_) => return (read, false),
                Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => return (read, true),
                Ok(Some(Ok(_))) => read += 1,
            }
        }
    }

    /// The next text frame, within `timeout`.
    pub async fn next_text(&mut self, timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match frame {
                Ok(Message::Text(text)) => return Some(text.to_string()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Sends a call and returns its response, keeping notifications that
    /// arrive meanwhile in `seen`.
    pub async fn call(&mut self, request: &str, seen: &mut Vec<Value>) -> Value {
        let id = serde_json::from_str::<Value>(request).expect("a JSON request")["id"].clone();
        self.send(request).await;
        loop {
            let text = self
                .next_text(Duration::from_secs(10))
                .await
                .expect("a response within 10 s");
            let message: Value = serde_json::from_str(&text).expect("JSON");
            if message.get("id") == Some(&id) && message.get("method").is_none() {
                return message;
            }
            seen.push(message);
        }
    }

    /// Notifications until `done` holds for one (included), within `timeout`.
    pub async fn notifications_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(text) = self.next_text(left).await else {
                panic!("no matching notification within {timeout:?}; got {seen:#?}")
            };
            let message: Value = serde_json::from_str(&text).expect("JSON");
            let finished = done(&message);
            seen.push(message);
            if finished {
                return seen;
            }
        }
    }
}
