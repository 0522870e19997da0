//! The first request of every (re)start: learns the size, range support,
//! validators and offered name, and its body becomes the first connection.

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};

use super::digest::{self, DigestAuth};
use super::naming;
use super::segments::UNKNOWN_END;
use super::transfer::{content_range, AttemptError, Body, Identity};

#[derive(Debug)]
pub struct Probe {
    /// Where the redirects ended: the connections go there directly.
    pub url: url::Url,
    pub ranges: bool,
    /// The length and validators of the version this answer is from.
    pub identity: Identity,
    /// The strong validator a later If-Range may send, if any.
    pub if_range: Option<String>,
    /// The name Content-Disposition offers, not yet sanitised.
    pub offered_name: Option<String>,
    /// False when an If-Range validator was sent and no longer matches.
    pub unchanged: bool,
    /// The body, from offset 0.
    pub body: Body,
}

impl Probe {
    pub fn total(&self) -> Option<u64> {
        self.identity.total
    }
}

/// The validator If-Range may carry (RFC 9110 §13.1.5): a strong ETag; a
/// client that has an ETag, even a weak one, must not send a date. Without
/// one, a Last-Modified date only when it is at least a minute older than
/// the response's Date (§8.8.2.2), since a file changed twice within a
/// second keeps its date and clocks disagree. Servers hold to it: Apache
/// answers a date If-Range on a file modified less than 60 s ago with the
/// whole file, and a weak ETag with the whole file always.
fn strong_validator(headers: &HeaderMap, identity: &Identity) -> Option<String> {
    if let Some(etag) = &identity.etag {
        return (!etag.starts_with("W/")).then(|| etag.clone());
    }
    let modified = identity.last_modified.as_deref()?;
    let date = headers.get(header::DATE)?.to_str().ok()?;
    let (modified, date) = (
        httpdate::parse_http_date(modified).ok()?,
        httpdate::parse_http_date(date).ok()?,
    );
    let age = date.duration_since(modified).ok()?;
    (age >= DATE_STRONG_AFTER).then(|| identity.last_modified.clone())?
}

/// How much older than Date a Last-Modified must be to be strong.
const DATE_STRONG_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Sends `GET` for the first `len` bytes (and `If-Range` when resuming).
/// Bounded, so that the connection can serve its next range afterwards
/// instead of being dropped with the rest of the file in flight.
pub async fn probe(
    client: &Client,
    auth: Option<&DigestAuth>,
    url: &url::Url,
    headers: &HeaderMap,
    if_range: Option<&str>,
    len: u64,
    timeout: std::time::Duration,
) -> Result<Probe, AttemptError> {
    let build = || {
        let mut request = client
            .get(url.clone())
            .headers(headers.clone())
            .header(header::RANGE, format!("bytes=0-{}", len.max(1) - 1));
        if let Some(validator) = if_range.and_then(|v| HeaderValue::from_str(v).ok()) {
            request = request.header(header::IF_RANGE, validator);
        }
        request
    };
    let response = digest::send(auth, url, build, timeout).await?;
    let status = response.status();
    if !status.is_success() {
        return Err(AttemptError::status(
            status,
            response.url(),
            response.headers(),
        ));
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
    let identity = Identity::of(h, total);
    let if_range = strong_validator(h, &identity);
    Ok(Probe {
        url: response.url().clone(),
        ranges,
        if_range,
        identity,
        offered_name: text(header::CONTENT_DISPOSITION)
            .and_then(|cd| naming::content_disposition_name(&cd)),
        unchanged: status == StatusCode::PARTIAL_CONTENT,
        body: Body { response, end },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> (HeaderMap, Identity) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        let identity = Identity::of(&headers, Some(10));
        (headers, identity)
    }

    #[test]
    fn if_range_carries_only_a_strong_validator() {
        let (h, id) = headers(&[
            ("etag", "\"x\""),
            ("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
        ]);
        assert_eq!(strong_validator(&h, &id).as_deref(), Some("\"x\""));
        // Apache, a moment after the file was written: weak ETag, fresh date.
        let (h, id) = headers(&[
            ("etag", "W/\"x\""),
            ("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
            ("date", "Mon, 30 Nov 2026 10:00:00 GMT"),
        ]);
        assert_eq!(strong_validator(&h, &id), None);
        // A second later Apache's ETag may still be weak, and it answers a
        // date If-Range with the whole file for a minute: no date while
        // there is an ETag, whatever its age.
        let (h, id) = headers(&[
            ("etag", "W/\"x\""),
            ("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
            ("date", "Mon, 30 Nov 2026 11:00:00 GMT"),
        ]);
        assert_eq!(strong_validator(&h, &id), None, "a weak ETag: no date");
        let (h, id) = headers(&[
            ("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
            ("date", "Mon, 30 Nov 2026 10:00:59 GMT"),
        ]);
        assert_eq!(strong_validator(&h, &id), None, "under a minute old");
        let (h, id) = headers(&[
            ("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
            ("date", "Mon, 30 Nov 2026 10:01:00 GMT"),
        ]);
        assert_eq!(
            strong_validator(&h, &id).as_deref(),
            Some("Mon, 30 Nov 2026 10:00:00 GMT")
        );
        let (h, id) = headers(&[("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT")]);
        assert_eq!(strong_validator(&h, &id), None, "no Date: no proof of age");
    }
}
