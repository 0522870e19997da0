//! The first request of every (re)start: learns the size, range support,
//! validators and offered name, and its body becomes the first connection.

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};

use super::naming;
use super::segments::UNKNOWN_END;
use super::transfer::{content_range, AttemptError, Body};

#[derive(Debug)]
pub struct Probe {
    /// Where the redirects ended: the connections go there directly.
    pub url: url::Url,
    pub ranges: bool,
    pub total: Option<u64>,
    /// Strong ETag only: If-Range does not accept weak ones.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The name Content-Disposition offers, not yet sanitised.
    pub offered_name: Option<String>,
    /// False when an If-Range validator was sent and no longer matches.
    pub unchanged: bool,
    /// The body, from offset 0.
    pub body: Body,
}

impl Probe {
    /// What a later If-Range sends: the ETag, else the Last-Modified date.
    pub fn validator(&self) -> Option<String> {
        self.etag.clone().or_else(|| self.last_modified.clone())
    }
}

/// Sends `GET` for the first `len` bytes (and `If-Range` when resuming).
/// Bounded, so that the connection can serve its next range afterwards
/// instead of being dropped with the rest of the file in flight.
pub async fn probe(
    client: &Client,
    url: &url::Url,
    headers: &HeaderMap,
    if_range: Option<&str>,
    len: u64,
    timeout: std::time::Duration,
) -> Result<Probe, AttemptError> {
    let mut request = client
        .get(url.clone())
        .headers(headers.clone())
        .header(header::RANGE, format!("bytes=0-{}", len.max(1) - 1));
    if let Some(validator) = if_range.and_then(|v| HeaderValue::from_str(v).ok()) {
        request = request.header(header::IF_RANGE, validator);
    }
    let response = tokio::time::timeout(timeout, request.send())
        .await
        .map_err(|_| {
            AttemptError::transient(
                super::FailureCode::Network,
                "the server did not answer in time",
            )
        })?
        .map_err(AttemptError::request)?;
    let status = response.status();
    if !status.is_success() {
        return Err(AttemptError::status(status, response.url()));
    }
    let h = response.headers();
    let text = |name| {
        h.get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let accepts_ranges =
        text(header::ACCEPT_RANGES).is_some_and(|v| v.eq_ignore_ascii_case("bytes"));
    let (ranges, total, end) = match (status, content_range(h)) {
        (StatusCode::PARTIAL_CONTENT, Some((0, end, Some(total)))) => (true, Some(total), end),
        // A range answer without a total cannot be split, only streamed
        // (after this body, from the start again without a range).
        (StatusCode::PARTIAL_CONTENT, Some((0, end, None))) => (false, None, end),
        (StatusCode::PARTIAL_CONTENT, _) => {
            return Err(AttemptError::permanent(super::Failure::new(
                super::FailureCode::InvalidResponse,
                "the server answered the first range with another range",
            )))
        }
        // A changed file answers If-Range with the whole body; ranges still work.
        _ => {
            let len = response.content_length();
            (
                if_range.is_some() && accepts_ranges,
                len,
                len.unwrap_or(UNKNOWN_END),
            )
        }
    };
    Ok(Probe {
        url: response.url().clone(),
        ranges,
        total,
        etag: text(header::ETAG).filter(|e| !e.starts_with("W/")),
        last_modified: text(header::LAST_MODIFIED),
        offered_name: text(header::CONTENT_DISPOSITION)
            .and_then(|cd| naming::content_disposition_name(&cd)),
        unchanged: status == StatusCode::PARTIAL_CONTENT,
        body: Body { response, end },
    })
}
