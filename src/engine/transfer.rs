//! One connection's work: ranged GETs written straight into the `.part`
//! file, with per-range retries, from one of the download's sources (its
//! URL or a mirror) until that source fails or is dropped.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, Response, StatusCode};

use super::digest::{self, DigestAuth};
use super::network::{proxy_failure, tls_failure};
use crate::backoff::Backoff;

use super::control::Park;
use super::error::{Failure, FailureCode};
use super::events::RestartReason;
use super::limiter::Limiter;
use super::segments::{Claim, Meter, Segment, SegmentTable, UNKNOWN_END};

/// A failed attempt, and whether trying again may help.
#[derive(Debug)]
pub struct AttemptError {
    pub failure: Failure,
    pub transient: bool,
    /// The answer came from another version of the remote file: no retry of
    /// this range can help, the download must start over.
    pub changed: Option<RestartReason>,
    /// How long the server asked to wait first (`Retry-After` on a 429 or
    /// 503).
    pub retry_after: Option<Duration>,
    /// The source was dropped meanwhile: go on from another, no retry here.
    pub dropped: bool,
}

/// Why a connection gave up.
#[derive(Debug)]
pub enum ConnectionEnd {
    Failed(Failure),
    /// The remote file is not the one the bytes so far came from.
    Changed(RestartReason, String),
    /// Its source failed or was dropped while others are left: the
    /// connection goes on from one of them, with the range it held.
    SourceLost(Option<Arc<Segment>>),
}

impl AttemptError {
    pub fn transient(code: FailureCode, message: impl Into<String>) -> Self {
        AttemptError {
            failure: Failure::new(code, message),
            transient: true,
            changed: None,
            retry_after: None,
            dropped: false,
        }
    }

    pub fn permanent(failure: Failure) -> Self {
        AttemptError {
            failure,
            transient: false,
            changed: None,
            retry_after: None,
            dropped: false,
        }
    }

    fn changed(reason: RestartReason, message: String) -> Self {
        AttemptError {
            failure: Failure::new(FailureCode::InvalidResponse, message),
            transient: false,
            changed: Some(reason),
            retry_after: None,
            dropped: false,
        }
    }

    fn dropped() -> Self {
        AttemptError {
            dropped: true,
            ..AttemptError::permanent(Failure::new(FailureCode::Network, "the source was dropped"))
        }
    }

    /// Error statuses: timeouts, throttling and a server's (or its CDN's)
    /// temporary trouble may pass (408, 425, 429, 500, 502, 503, 504 and
    /// Cloudflare's 520 to 524); the rest will not. The message names the
    /// URL that answered (after redirects).
    pub fn status(status: StatusCode, url: &reqwest::Url, headers: &HeaderMap) -> Self {
        if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            return AttemptError::permanent(Failure::new(
                FailureCode::Proxy,
                format!(
                    "the proxy answered {status} for {url}: give the right user and password \
                     in the proxy URL (scheme://user:password@host:port)"
                ),
            ));
        }
        let failure = Failure::new(
            FailureCode::HttpStatus,
            format!("the server answered {status} for {url}"),
        );
        let transient = matches!(
            status.as_u16(),
            408 | 425 | 429 | 500 | 502 | 503 | 504 | 520..=524
        );
        let asks_to_wait = matches!(status.as_u16(), 429 | 503);
        AttemptError {
            failure,
            transient,
            changed: None,
            retry_after: asks_to_wait.then(|| retry_after(headers)).flatten(),
            dropped: false,
        }
    }

    pub fn request(err: reqwest::Error) -> Self {
        // The same certificate or the same credentials again meet the same
        // refusal: these end the download with the fix in the message.
        if let Some(failure) = tls_failure(&err).or_else(|| proxy_failure(&err)) {
            return AttemptError::permanent(failure);
        }
        if err.is_redirect() {
            return AttemptError::permanent(Failure::new(
                FailureCode::InvalidResponse,
                "too many redirects",
            ));
        }
        // A body cut short of its Content-Length is the server breaking its
        // promise; anything else (refused, reset, timed out) is the network.
        let incomplete = std::iter::successors(std::error::Error::source(&err), |e| e.source())
            .filter_map(|e| e.downcast_ref::<hyper::Error>())
            .any(hyper::Error::is_incomplete_message);
        let code = if incomplete {
            FailureCode::InvalidResponse
        } else {
            FailureCode::Network
        };
        AttemptError::transient(code, error_chain(&err))
    }
}

/// `a: b: c` for an error and its sources, without the URL reqwest repeats.
fn error_chain(err: &reqwest::Error) -> String {
    let mut message = err.to_string();
    if let Some(url) = err.url() {
        message = message.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        message = format!("{message}: {e}");
        source = e.source();
    }
    message
}

/// How a download retries against its server, the same for its probe and
/// every connection.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// `--retry-wait`: the first wait, doubling up to a minute.
    pub first: Duration,
    /// `--max-tries` failed tries in a row at most; 0 for no limit.
    pub max_tries: u32,
    /// `--max-retry-wait`: the longest `Retry-After` honoured.
    pub max_wait: Duration,
}

impl RetryPolicy {
    pub fn start(self) -> Retries {
        let backoff = Backoff::new(self.first, Duration::from_secs(60));
        Retries {
            backoff: match self.max_tries {
                0 => backoff,
                tries => backoff.giving_up_after(tries),
            },
            max_wait: self.max_wait,
        }
    }
}

/// One retry loop's state.
#[derive(Debug)]
pub struct Retries {
    backoff: Backoff,
    max_wait: Duration,
}

impl Retries {
    /// The wait before trying again after `err`, or `None` when the tries
    /// are used up: the backoff's, or what the server asked for when that is
    /// longer (capped at `max_wait`, so a server cannot park a download for
    /// a day).
    pub fn after(&mut self, err: &AttemptError) -> Option<Duration> {
        let delay = self.backoff.next_delay()?;
        Some(match err.retry_after {
            Some(asked) => asked.min(self.max_wait).max(delay),
            None => delay,
        })
    }

    /// A try made progress: the next failure waits the first wait again.
    pub fn reset(&mut self) {
        self.backoff.reset();
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            Some(
                at.duration_since(std::time::SystemTime::now())
                    .unwrap_or_default(),
            )
        }
    }
}

/// How long a connection with nothing worth doing waits before it asks again.
const CLAIM_AGAIN: Duration = Duration::from_millis(20);

/// One place the file comes from: the download's URL, or a mirror of it.
/// Each is asked on its own terms (its validators, its credentials).
#[derive(Debug)]
pub struct Source {
    /// Where its redirects ended: its connections go there directly.
    pub url: url::Url,
    /// The URL as given, for statuses and logs (without a password).
    pub shown: String,
    pub headers: HeaderMap,
    /// Its strong validator: a server answers a range of a changed file
    /// with the whole new one.
    pub if_range: Option<HeaderValue>,
    /// What every answer of it must agree with, If-Range or not.
    pub identity: Identity,
    /// Answers its Digest challenges, when its URL has credentials.
    pub digest: Option<Arc<DigestAuth>>,
    /// `host:port`, for the per-host connection slots.
    pub host: String,
    /// Bytes received from it since the start, for its speed.
    pub received: AtomicU64,
    pub connections: AtomicU32,
    dropped: AtomicBool,
    /// Why it is no longer used.
    reason: Mutex<Option<String>>,
}

impl Source {
    pub fn new(
        url: url::Url,
        shown: String,
        headers: HeaderMap,
        if_range: Option<HeaderValue>,
        identity: Identity,
        digest: Option<Arc<DigestAuth>>,
    ) -> Source {
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        Source {
            url,
            shown,
            headers,
            if_range,
            identity,
            digest,
            host,
            received: AtomicU64::new(0),
            connections: AtomicU32::new(0),
            dropped: AtomicBool::new(false),
            reason: Mutex::new(None),
        }
    }

    /// A source never used: it failed before the transfer began.
    pub fn unusable(shown: String, url: url::Url, reason: String) -> Source {
        let source = Source::new(
            url,
            shown,
            HeaderMap::new(),
            None,
            Identity::default(),
            None,
        );
        source.dropped.store(true, Ordering::SeqCst);
        *source.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        source
    }

    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Why it was dropped, if it was.
    pub fn reason(&self) -> Option<String> {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What every connection of one download shares.
#[derive(Debug)]
pub struct Transfer {
    /// The first is the reference the others were checked against.
    pub sources: Vec<Arc<Source>>,
    pub file: Arc<File>,
    pub table: Arc<SegmentTable>,
    pub limiters: [Arc<Limiter>; 2],
    pub stall_timeout: Duration,
    pub retries: RetryPolicy,
    /// Where its connections sleep before retrying (see `control::Park`).
    pub park: Arc<Park>,
    /// Held while a source is dropped, so that the last one never is.
    dropping: Mutex<()>,
}

/// A response and the offset just past the last byte it will deliver.
#[derive(Debug)]
pub struct Body {
    pub response: Response,
    pub end: u64,
}

impl Transfer {
    pub fn new(
        sources: Vec<Arc<Source>>,
        file: Arc<File>,
        table: Arc<SegmentTable>,
        limiters: [Arc<Limiter>; 2],
        stall_timeout: Duration,
        retries: RetryPolicy,
        park: Arc<Park>,
    ) -> Transfer {
        Transfer {
            sources,
            file,
            table,
            limiters,
            stall_timeout,
            retries,
            park,
            dropping: Mutex::new(()),
        }
    }

    /// Bytes received since the start, from every source.
    pub fn received(&self) -> u64 {
        self.sources
            .iter()
            .map(|s| s.received.load(Ordering::Relaxed))
            .sum()
    }

    /// Connections open now, to every source.
    pub fn connections(&self) -> u32 {
        self.sources
            .iter()
            .map(|s| s.connections.load(Ordering::Relaxed))
            .sum()
    }

    /// Stops using source `i` for `reason`, unless it is the last one left:
    /// whether it was dropped.
    pub fn drop_source(&self, i: usize, reason: String) -> bool {
        let _one_at_a_time = self.dropping.lock().unwrap_or_else(|e| e.into_inner());
        let others = self
            .sources
            .iter()
            .enumerate()
            .any(|(j, s)| j != i && !s.is_dropped());
        let source = &self.sources[i];
        if !others || source.is_dropped() {
            return others && source.is_dropped();
        }
        tracing::info!(url = %source.shown, %reason, "no longer downloading from a source");
        *source.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        source.dropped.store(true, Ordering::SeqCst);
        true
    }

    /// The source in use with the fewest connections, for a connection
    /// whose own source is gone.
    pub fn least_busy_source(&self) -> Option<usize> {
        self.sources
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_dropped())
            .min_by_key(|(_, s)| s.connections.load(Ordering::Relaxed))
            .map(|(i, _)| i)
    }

    /// One connection to source `source`: takes ranges until none is left.
    /// `first` is a range already claimed with `meter`, and the body that
    /// serves it if there is one (the probe's).
    pub async fn run_connection(
        self: Arc<Self>,
        mut first: Option<(Arc<Segment>, Option<Body>)>,
        meter: Arc<Meter>,
        source: usize,
        client: Client,
    ) -> Result<(), ConnectionEnd> {
        let from = &self.sources[source];
        loop {
            if from.is_dropped() {
                return Err(ConnectionEnd::SourceLost(first.map(|(segment, _)| segment)));
            }
            let (segment, body) = match first.take() {
                Some((segment, body)) => (segment, body),
                None => match self.table.claim(&meter) {
                    Claim::Range(segment) => (segment, None),
                    // Idle for a moment, connection kept: the owners of what
                    // is left may slow down, and then this one helps.
                    Claim::Wait => {
                        tokio::time::sleep(CLAIM_AGAIN).await;
                        continue;
                    }
                    Claim::Done => return Ok(()),
                },
            };
            self.fetch(source, segment, body, &meter, &client).await?;
        }
    }

    /// Fetches `segment` from source `source`. When that source fails and
    /// others are left, it is dropped and the segment handed back.
    async fn fetch(
        &self,
        source: usize,
        segment: Arc<Segment>,
        mut body: Option<Body>,
        meter: &Meter,
        client: &Client,
    ) -> Result<(), ConnectionEnd> {
        let from = &self.sources[source];
        let mut retries = self.retries.start();
        while segment.remaining() > 0 {
            let before = segment.pos();
            let attempt = match body.take() {
                Some(body) => self.stream(from, &segment, body, meter).await,
                None => self.request_and_stream(from, &segment, meter, client).await,
            };
            let Err(err) = attempt else { continue };
            if err.dropped {
                return Err(ConnectionEnd::SourceLost(Some(segment)));
            }
            if segment.pos() > before {
                retries.reset();
            }
            let delay = match err.transient && err.changed.is_none() {
                true => retries.after(&err),
                false => None,
            };
            // A local fault (the disk) is no source's: another would meet it too.
            let local = matches!(err.failure.code, FailureCode::Io | FailureCode::DiskFull);
            let Some(delay) = delay else {
                if local {
                    return Err(ConnectionEnd::Failed(err.failure));
                }
                // This source is done for; another may serve the rest.
                let why = match err.changed {
                    Some(_) => format!("serves another file: {}", err.failure.message),
                    None => format!("failed: {}", err.failure.message),
                };
                if self.drop_source(source, why) {
                    return Err(ConnectionEnd::SourceLost(Some(segment)));
                }
                return Err(match err.changed {
                    Some(reason) => ConnectionEnd::Changed(reason, err.failure.message),
                    None => ConnectionEnd::Failed(err.failure),
                });
            };
            let url = &from.shown;
            tracing::debug!(%url, error = %err.failure, ?delay, "retrying range");
            self.park.sleep(delay).await;
        }
        Ok(())
    }

    async fn request_and_stream(
        &self,
        from: &Source,
        segment: &Segment,
        meter: &Meter,
        client: &Client,
    ) -> Result<(), AttemptError> {
        let ranged = self.table.ranges();
        if !ranged {
            segment.set_pos(0); // a stream without ranges can only start over
        }
        let (pos, end) = (segment.pos(), segment.end());
        let build = || {
            let mut request = client.get(from.url.clone()).headers(from.headers.clone());
            if ranged {
                request = request.header(header::RANGE, format!("bytes={pos}-{}", end - 1));
                if let Some(validator) = &from.if_range {
                    request = request.header(header::IF_RANGE, validator.clone());
                }
            }
            request
        };
        let asked = Instant::now();
        let response =
            digest::send(from.digest.as_deref(), &from.url, build, self.stall_timeout).await?;
        meter.record_overhead(asked.elapsed());
        let status = response.status();
        if !status.is_success() {
            return Err(AttemptError::status(
                status,
                response.url(),
                response.headers(),
            ));
        }
        let body_end = if ranged {
            check_range(&response, pos, end, &from.identity, from.if_range.is_some())?;
            end
        } else {
            // Starting over, the stream's length is whatever this answer says.
            let len = response.content_length().unwrap_or(UNKNOWN_END);
            segment.set_end(len);
            len
        };
        self.stream(
            from,
            segment,
            Body {
                response,
                end: body_end,
            },
            meter,
        )
        .await
    }

    async fn stream(
        &self,
        from: &Source,
        segment: &Segment,
        mut body: Body,
        meter: &Meter,
    ) -> Result<(), AttemptError> {
        from.connections.fetch_add(1, Ordering::Relaxed);
        let result = self.copy_body(from, segment, &mut body, meter).await;
        from.connections.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Copies the body into the file at the segment's position, until the
    /// body or the segment (whose end a stealer may lower) ends.
    async fn copy_body(
        &self,
        from: &Source,
        segment: &Segment,
        body: &mut Body,
        meter: &Meter,
    ) -> Result<(), AttemptError> {
        loop {
            if from.is_dropped() {
                return Err(AttemptError::dropped());
            }
            let chunk = tokio::time::timeout(self.stall_timeout, body.response.chunk())
                .await
                .map_err(|_| {
                    let secs = self.stall_timeout.as_secs_f64();
                    AttemptError::transient(
                        FailureCode::Network,
                        format!("no data for {secs:.1} s"),
                    )
                })?
                .map_err(AttemptError::request)?;
            let (pos, end) = (segment.pos(), segment.end());
            let Some(chunk) = chunk else {
                if end == UNKNOWN_END {
                    segment.set_end(pos); // a stream without length ends here
                    return Ok(());
                }
                return Err(AttemptError::transient(
                    FailureCode::InvalidResponse,
                    format!(
                        "the body ended at byte {pos}, before byte {}",
                        end.min(body.end)
                    ),
                ));
            };
            // A node that may have lost its lease writes nothing: the file
            // may be another node's to write now.
            if !self.park.may_write() {
                return Err(AttemptError::transient(
                    FailureCode::Internal,
                    "this node's cluster lease may have run out: another node may write this file now".to_owned(),
                ));
            }
            let limit = end.min(body.end);
            let len = (chunk.len() as u64).min(limit.saturating_sub(pos));
            self.file
                .write_all_at(&chunk[..len as usize], pos)
                .map_err(|e| {
                    // A full disk may clear (another download finishes, a
                    // user deletes something): worth the retries. Nothing
                    // else a write says will change.
                    let failure = Failure::io("write", &e);
                    match failure.code {
                        FailureCode::DiskFull => AttemptError {
                            transient: true,
                            ..AttemptError::permanent(failure)
                        },
                        _ => AttemptError::permanent(failure),
                    }
                })?;
            segment.set_pos(pos + len);
            from.received.fetch_add(len, Ordering::Relaxed);
            meter.record(chunk.len() as u64, Instant::now());
            for limiter in &self.limiters {
                limiter.take(len as usize).await;
            }
            if pos + len >= limit {
                if limit == body.end {
                    // Read the end of the body so the connection goes back
                    // to the pool for this worker's next request.
                    let _ = tokio::time::timeout(self.stall_timeout, body.response.chunk()).await;
                }
                // Otherwise the rest of this body belongs to a stealer: the
                // connection closes when it is dropped.
                return Ok(());
            }
        }
    }
}

/// A range request must get exactly the range asked for, of the version of
/// the file the other bytes came from.
fn check_range(
    response: &Response,
    pos: u64,
    end: u64,
    identity: &Identity,
    sent_if_range: bool,
) -> Result<(), AttemptError> {
    let invalid = |message: String| {
        AttemptError::permanent(Failure::new(FailureCode::InvalidResponse, message))
    };
    let answered = Identity::of(response.headers(), None);
    if response.status() != StatusCode::PARTIAL_CONTENT {
        // With If-Range, a whole body is how the server says the file
        // changed; without, the server stopped serving ranges: either way
        // these bytes cannot continue the others.
        let answered = Identity {
            total: response.content_length(),
            ..answered
        };
        return Err(match identity.differs(&answered) {
            Some(why) => AttemptError::changed(RestartReason::RemoteChanged, why),
            None if sent_if_range => AttemptError::changed(
                RestartReason::RemoteChanged,
                "the server answered a range with the whole file: its validator no longer matches"
                    .into(),
            ),
            None => AttemptError::changed(
                RestartReason::NotResumable,
                "the server no longer serves ranges of this file".into(),
            ),
        });
    }
    let (start, total) = match content_range(response.headers()) {
        Some((start, _, total)) if start == pos => (start, total),
        _ => {
            return Err(invalid(format!(
                "the server sent another range than bytes {pos}-{}",
                end - 1
            )))
        }
    };
    let answered = Identity { total, ..answered };
    if let Some(why) = identity.differs(&answered) {
        return Err(AttemptError::changed(RestartReason::RemoteChanged, why));
    }
    match response.content_length() {
        Some(len) if len != end - start => Err(invalid(format!(
            "Content-Length {len} does not match the {} bytes of the range",
            end - start
        ))),
        _ => Ok(()),
    }
}

/// What tells one version of a remote file from another, as far as a
/// response says: its length and validators (weak ones included: a weak
/// ETag cannot prove two versions equal, but a different one proves them
/// different).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub total: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Identity {
    pub fn of(headers: &HeaderMap, total: Option<u64>) -> Identity {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Identity {
            total,
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
        }
    }

    /// Why `other` is not the same version, when what both say disagrees.
    pub fn differs(&self, other: &Identity) -> Option<String> {
        if let (Some(was), Some(now)) = (self.total, other.total) {
            if was != now {
                return Some(format!(
                    "the remote file changed: its length went from {was} to {now} bytes"
                ));
            }
        }
        if let (Some(was), Some(now)) = (&self.etag, &other.etag) {
            if weak_tag(was) != weak_tag(now) {
                return Some(format!(
                    "the remote file changed: its ETag went from {was} to {now}"
                ));
            }
        }
        if let (Some(was), Some(now)) = (&self.last_modified, &other.last_modified) {
            if was != now {
                return Some(format!(
                    "the remote file changed: Last-Modified went from {was} to {now}"
                ));
            }
        }
        None
    }
}

/// An ETag without its weakness marker: Apache marks the same tag weak while
/// the file is fresh and strong a second later.
fn weak_tag(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// `Content-Range: bytes a-b/total` → (a, b + 1, total); total `*` → None.
/// Anything inconsistent (b < a, b past the total, b + 1 overflowing) is
/// not a range at all.
pub fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, last) = range.split_once('-')?;
    let (start, last): (u64, u64) = (start.trim().parse().ok()?, last.trim().parse().ok()?);
    let end = last.checked_add(1).filter(|_| start <= last)?;
    let total = match total.trim() {
        "*" => None,
        total => Some(total.parse::<u64>().ok().filter(|&t| end <= t)?),
    };
    Some((start, end, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        for (code, transient) in [
            (408, true),
            (425, true),
            (429, true),
            (500, true),
            (502, true),
            (503, true),
            (504, true),
            (520, true),
            (524, true),
            (501, false),
            (505, false),
            (404, false),
            (410, false),
            (403, false),
        ] {
            let status = StatusCode::from_u16(code).unwrap();
            let url = "http://example.com/".parse().unwrap();
            assert_eq!(
                AttemptError::status(status, &url, &HeaderMap::new()).transient,
                transient,
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date_and_only_on_429_and_503() {
        let url: reqwest::Url = "http://example.com/".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        let asked = |code, headers: &HeaderMap| {
            AttemptError::status(StatusCode::from_u16(code).unwrap(), &url, headers).retry_after
        };
        assert_eq!(asked(429, &headers), Some(Duration::from_secs(30)));
        assert_eq!(asked(503, &headers), Some(Duration::from_secs(30)));
        assert_eq!(asked(500, &headers), None);
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let date = httpdate::fmt_http_date(later);
        headers.insert(header::RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        let wait = asked(503, &headers).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
    }

    #[test]
    fn a_retry_waits_what_the_server_asked_within_the_cap_and_no_limit_is_zero_tries() {
        let policy = RetryPolicy {
            first: Duration::from_millis(10),
            max_tries: 3,
            max_wait: Duration::from_secs(60),
        };
        let mut asked = AttemptError::transient(FailureCode::HttpStatus, "503");
        asked.retry_after = Some(Duration::from_secs(30));
        let mut retries = policy.start();
        assert_eq!(retries.after(&asked), Some(Duration::from_secs(30)));
        asked.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(retries.after(&asked), Some(Duration::from_secs(60)));
        assert_eq!(
            retries.after(&asked),
            None,
            "the third failed try is the last"
        );
        let mut forever = RetryPolicy {
            max_tries: 0,
            ..policy
        }
        .start();
        let plain = AttemptError::transient(FailureCode::Network, "reset");
        assert!((0..1000).all(|_| forever.after(&plain).is_some()));
    }

    #[test]
    fn content_range_is_parsed() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 5-9/100"),
        );
        assert_eq!(content_range(&headers), Some((5, 10, Some(100))));
        headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 0-9/*"),
        );
        assert_eq!(content_range(&headers), Some((0, 10, None)));
    }

    #[test]
    fn inconsistent_content_ranges_are_no_ranges_and_never_overflow() {
        for value in [
            "bytes 0-18446744073709551615/*",
            "bytes 0-18446744073709551615/18446744073709551615",
            "bytes 10-9/100",
            "bytes 0-100/100",
            "bytes 0-9/x",
            "bytes -9/100",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_RANGE, HeaderValue::from_static(value));
            assert_eq!(content_range(&headers), None, "{value}");
        }
    }

    #[test]
    fn a_version_differs_by_length_or_validator_but_not_by_etag_weakness() {
        let was = Identity {
            total: Some(100),
            etag: Some("W/\"a\"".into()),
            last_modified: Some("Mon, 30 Nov 2026 10:00:00 GMT".into()),
        };
        let strong_now = Identity {
            etag: Some("\"a\"".into()),
            ..was.clone()
        };
        assert_eq!(was.differs(&strong_now), None);
        assert_eq!(
            was.differs(&Identity::default()),
            None,
            "saying nothing is no proof"
        );
        let longer = Identity {
            total: Some(101),
            ..was.clone()
        };
        assert!(was.differs(&longer).unwrap().contains("100 to 101"));
        let retagged = Identity {
            etag: Some("\"b\"".into()),
            ..was.clone()
        };
        assert!(was.differs(&retagged).unwrap().contains("ETag"));
        let touched = Identity {
            last_modified: Some("Mon, 30 Nov 2026 10:00:01 GMT".into()),
            ..was.clone()
        };
        assert!(was.differs(&touched).unwrap().contains("Last-Modified"));
    }
}
