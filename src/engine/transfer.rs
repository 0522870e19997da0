//! One connection's work: ranged GETs written straight into the `.part`
//! file, with per-range retries.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, Response, StatusCode};

use super::error::{Failure, FailureCode};
use super::limiter::Limiter;
use super::segments::{Segment, SegmentTable, UNKNOWN_END};

/// A failed attempt, and whether trying again may help.
#[derive(Debug)]
pub struct AttemptError {
    pub failure: Failure,
    pub transient: bool,
}

impl AttemptError {
    pub fn transient(code: FailureCode, message: impl Into<String>) -> Self {
        AttemptError {
            failure: Failure::new(code, message),
            transient: true,
        }
    }

    pub fn permanent(failure: Failure) -> Self {
        AttemptError {
            failure,
            transient: false,
        }
    }

    /// Error statuses: 408, 429 and 5xx may pass; the rest will not. The
    /// message names the URL that answered (after redirects).
    pub fn status(status: StatusCode, url: &reqwest::Url) -> Self {
        let failure = Failure::new(
            FailureCode::HttpStatus,
            format!("the server answered {status} for {url}"),
        );
        let transient = status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error();
        AttemptError { failure, transient }
    }

    pub fn request(err: reqwest::Error) -> Self {
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

/// Exponential backoff with jitter, reset whenever a try makes progress.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max_tries: u32,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, max_tries: u32) -> Self {
        Backoff {
            base,
            max_tries,
            failures: 0,
        }
    }

    /// The wait before the next try, or `None` when the tries are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.failures += 1;
        if self.failures >= self.max_tries {
            return None;
        }
        let exp = self.base.saturating_mul(1 << (self.failures - 1).min(6));
        let exp = exp.min(Duration::from_secs(60));
        // Full jitter on half the delay keeps many clients from retrying in step.
        Some(exp / 2 + exp.mul_f64(rand::random::<f64>() / 2.0))
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// What every connection of one download shares.
#[derive(Debug)]
pub struct Transfer {
    pub client: Client,
    pub url: url::Url,
    pub headers: HeaderMap,
    /// The remote file's validator: a range from a changed file is refused.
    pub if_range: Option<HeaderValue>,
    pub file: Arc<File>,
    pub table: Arc<SegmentTable>,
    pub limiters: [Arc<Limiter>; 2],
    pub stall_timeout: Duration,
    pub max_tries: u32,
    pub retry_base_delay: Duration,
    /// Bytes received since the start, for the speed.
    pub received: AtomicU64,
    pub connections: AtomicU32,
}

/// A response and the offset just past the last byte it will deliver.
#[derive(Debug)]
pub struct Body {
    pub response: Response,
    pub end: u64,
}

impl Transfer {
    /// One connection: takes ranges until none is left. `first` is a body
    /// that starts at offset 0 (the probe's).
    pub async fn run_connection(self: Arc<Self>, first: Option<Body>) -> Result<(), Failure> {
        // The body from offset 0 serves the range starting there, if any.
        let mut first = first.and_then(|body| Some((self.table.claim_at(0)?, body)));
        loop {
            let (segment, body) = match first.take() {
                Some((segment, body)) => (segment, Some(body)),
                None => match self.table.claim() {
                    Some(segment) => (segment, None),
                    None => return Ok(()),
                },
            };
            self.fetch(&segment, body).await?;
        }
    }

    async fn fetch(&self, segment: &Segment, mut body: Option<Body>) -> Result<(), Failure> {
        let mut backoff = Backoff::new(self.retry_base_delay, self.max_tries);
        while segment.remaining() > 0 {
            let before = segment.pos();
            let attempt = match body.take() {
                Some(body) => self.stream(segment, body).await,
                None => self.request_and_stream(segment).await,
            };
            let Err(err) = attempt else { continue };
            if !err.transient {
                return Err(err.failure);
            }
            if segment.pos() > before {
                backoff.reset();
            }
            let Some(delay) = backoff.next_delay() else {
                return Err(err.failure);
            };
            tracing::debug!(url = %self.url, error = %err.failure, ?delay, "retrying range");
            tokio::time::sleep(delay).await;
        }
        Ok(())
    }

    async fn request_and_stream(&self, segment: &Segment) -> Result<(), AttemptError> {
        let ranged = self.table.ranges();
        if !ranged {
            segment.set_pos(0); // a stream without ranges can only start over
        }
        let (pos, end) = (segment.pos(), segment.end());
        let mut request = self
            .client
            .get(self.url.clone())
            .headers(self.headers.clone());
        if ranged {
            request = request.header(header::RANGE, format!("bytes={pos}-{}", end - 1));
            if let Some(validator) = &self.if_range {
                request = request.header(header::IF_RANGE, validator.clone());
            }
        }
        let response = tokio::time::timeout(self.stall_timeout, request.send())
            .await
            .map_err(|_| {
                AttemptError::transient(FailureCode::Network, "the server did not answer in time")
            })?
            .map_err(AttemptError::request)?;
        let status = response.status();
        if !status.is_success() {
            return Err(AttemptError::status(status, response.url()));
        }
        let body_end = if ranged {
            check_range(&response, pos, end)?;
            end
        } else {
            // Starting over, the stream's length is whatever this answer says.
            let len = response.content_length().unwrap_or(UNKNOWN_END);
            segment.set_end(len);
            len
        };
        self.stream(
            segment,
            Body {
                response,
                end: body_end,
            },
        )
        .await
    }

    async fn stream(&self, segment: &Segment, mut body: Body) -> Result<(), AttemptError> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        let result = self.copy_body(segment, &mut body).await;
        self.connections.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Copies the body into the file at the segment's position, until the
    /// body or the segment (whose end a stealer may lower) ends.
    async fn copy_body(&self, segment: &Segment, body: &mut Body) -> Result<(), AttemptError> {
        loop {
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
            let limit = end.min(body.end);
            let len = (chunk.len() as u64).min(limit.saturating_sub(pos));
            self.file
                .write_all_at(&chunk[..len as usize], pos)
                .map_err(|e| AttemptError::permanent(Failure::io("write", &e)))?;
            segment.set_pos(pos + len);
            self.received.fetch_add(len, Ordering::Relaxed);
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

/// A range request must get exactly the range asked for.
fn check_range(response: &Response, pos: u64, end: u64) -> Result<(), AttemptError> {
    let invalid = |message: String| {
        AttemptError::permanent(Failure::new(FailureCode::InvalidResponse, message))
    };
    if response.status() != StatusCode::PARTIAL_CONTENT {
        return Err(invalid(
            "the server ignored a range request mid-download (the remote file may have changed)"
                .into(),
        ));
    }
    match content_range(response.headers()) {
        Some((start, _, _)) if start == pos => {}
        _ => {
            return Err(invalid(format!(
                "the server sent another range than bytes {pos}-{}",
                end - 1
            )))
        }
    }
    match response.content_length() {
        Some(len) if len != end - pos => Err(invalid(format!(
            "Content-Length {len} does not match the {} bytes of the range",
            end - pos
        ))),
        _ => Ok(()),
    }
}

/// `Content-Range: bytes a-b/total` → (a, b + 1, total); total `*` → None.
pub fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, last) = range.split_once('-')?;
    let last: u64 = last.trim().parse().ok()?;
    Some((
        start.trim().parse().ok()?,
        last + 1,
        total.trim().parse().ok(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_gives_up_after_the_configured_tries() {
        let mut backoff = Backoff::new(Duration::from_millis(100), 3);
        let first = backoff.next_delay().unwrap();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let second = backoff.next_delay().unwrap();
        assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
        assert_eq!(backoff.next_delay(), None);
        backoff.reset();
        assert!(backoff.next_delay().is_some());
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        for (code, transient) in [
            (408, true),
            (429, true),
            (503, true),
            (404, false),
            (410, false),
            (403, false),
        ] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(
                AttemptError::status(status, &"http://example.com/".parse().unwrap()).transient,
                transient,
                "{code}"
            );
        }
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
}
