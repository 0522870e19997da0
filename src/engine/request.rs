//! What a caller asks for ([`AddRequest`]) and its validation.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::config::{DEFAULT_CONNECTIONS, MAX_CONNECTIONS};
use super::error::EngineError;
use super::network::ProxyChoice;

/// A download to add. Stored as JSON so a restart can replay it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddRequest {
    pub url: String,
    /// A plain file name (no directories); otherwise taken from the server.
    pub file_name: Option<String>,
    /// A directory relative to the download root.
    pub dir: Option<String>,
    /// 1..=64; default 8.
    pub connections: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub checksum: Option<Checksum>,
    /// Bytes per second; `None` or 0 means unlimited.
    pub speed_limit: Option<u64>,
    /// Add in the paused state.
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub overwrite: Overwrite,
    /// This download's proxy: a proxy URL, or `none` to go direct; `None`
    /// takes the daemon's. Kept as given (credentials included) so that a
    /// resume reaches the same proxy; shown only without credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Skip TLS certificate verification for this download.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Cookies to send: a `Cookie` header value, or cookies.txt contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookies: Option<String>,
    /// Other URLs of the same file: connections are spread over `url` and
    /// these, and one that fails or lags far behind is dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<String>,
}

/// The most mirrors a download may have.
pub const MAX_MIRRORS: usize = 16;

impl AddRequest {
    pub fn new(url: impl Into<String>) -> Self {
        AddRequest {
            url: url.into(),
            ..AddRequest::default()
        }
    }

    pub(crate) fn connections(&self) -> u16 {
        self.connections.unwrap_or(DEFAULT_CONNECTIONS)
    }

    /// Its URL, then its mirrors.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.url.as_str()).chain(self.mirrors.iter().map(String::as_str))
    }

    /// Checks everything that can be checked without touching the network
    /// or the disk, and returns the headers ready to send.
    pub(crate) fn validate(&self) -> Result<(url::Url, HeaderMap), EngineError> {
        let url = parse_url(&self.url)?;
        if self.mirrors.len() > MAX_MIRRORS {
            return Err(EngineError::InvalidParam {
                name: "urls",
                reason: format!("{} mirrors; at most {MAX_MIRRORS}", self.mirrors.len()),
            });
        }
        for mirror in &self.mirrors {
            parse_url(mirror)?;
        }
        ProxyChoice::of(self)?;
        if let Some(cookies) = &self.cookies {
            super::cookies::validate(cookies)?;
        }
        if let Some(n) = self.connections {
            if !(1..=MAX_CONNECTIONS).contains(&n) {
                return Err(EngineError::InvalidParam {
                    name: "connections",
                    reason: format!("{n} is not in 1..={MAX_CONNECTIONS}"),
                });
            }
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let bad = |reason: String| EngineError::InvalidParam {
                name: "headers",
                reason,
            };
            let name = HeaderName::from_str(name)
                .map_err(|_| bad(format!("{name:?} is not a valid header name")))?;
            // The engine owns these: they decide which bytes arrive.
            if ["range", "if-range", "accept-encoding", "host"].contains(&name.as_str()) {
                return Err(bad(format!(
                    "{name} is set by haul and cannot be overridden"
                )));
            }
            let value = HeaderValue::from_str(value)
                .map_err(|_| bad(format!("the value of {name} is not valid in a header")))?;
            headers.append(name, value);
        }
        Ok((url, headers))
    }
}

pub(crate) fn parse_url(raw: &str) -> Result<url::Url, EngineError> {
    let invalid = |reason: &str| EngineError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = url::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the url has no host"));
    }
    Ok(url)
}

/// What to do when the final name is taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overwrite {
    /// Pick `name (1).ext`, `name (2).ext`, …
    #[default]
    Rename,
    Overwrite,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha512,
}

/// An expected digest, written `sha-256=<hex>` or `sha-512=<hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Checksum {
    pub algorithm: HashAlgorithm,
    pub digest: Vec<u8>,
}

impl Checksum {
    /// Hashes a whole file and compares.
    pub(crate) fn matches(&self, file: &std::fs::File) -> std::io::Result<bool> {
        let digest = match self.algorithm {
            HashAlgorithm::Sha256 => hash_file::<sha2::Sha256>(file)?,
            HashAlgorithm::Sha512 => hash_file::<sha2::Sha512>(file)?,
        };
        Ok(digest == self.digest)
    }
}

fn hash_file<D: Digest>(file: &std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut hasher = D::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0;
    loop {
        let n = file.read_at(&mut buf, offset)?;
        if n == 0 {
            return Ok(hasher.finalize().to_vec());
        }
        hasher.update(&buf[..n]);
        offset += n as u64;
    }
}

impl FromStr for Checksum {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| EngineError::InvalidParam {
            name: "checksum",
            reason: format!("{s:?}: {reason}"),
        };
        let (algorithm, hex_digest) = s
            .split_once('=')
            .ok_or_else(|| bad("expected sha-256=<hex> or sha-512=<hex>"))?;
        let (algorithm, len) = match algorithm.to_ascii_lowercase().as_str() {
            "sha-256" => (HashAlgorithm::Sha256, 32),
            "sha-512" => (HashAlgorithm::Sha512, 64),
            _ => return Err(bad("the algorithm must be sha-256 or sha-512")),
        };
        let digest = hex::decode(hex_digest).map_err(|_| bad("the digest is not hex"))?;
        if digest.len() != len {
            return Err(bad(&format!("the digest must be {} hex digits", len * 2)));
        }
        Ok(Checksum { algorithm, digest })
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithm = match self.algorithm {
            HashAlgorithm::Sha256 => "sha-256",
            HashAlgorithm::Sha512 => "sha-512",
        };
        write!(f, "{algorithm}={}", hex::encode(&self.digest))
    }
}

impl TryFrom<String> for Checksum {
    type Error = EngineError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Checksum> for String {
    fn from(c: Checksum) -> String {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_parse_and_print_back() {
        let text = format!("sha-256={}", "ab".repeat(32));
        let checksum: Checksum = text.parse().unwrap();
        assert_eq!(checksum.algorithm, HashAlgorithm::Sha256);
        assert_eq!(checksum.to_string(), text);
        assert!(format!("sha-512={}", "0".repeat(128))
            .parse::<Checksum>()
            .is_ok());
    }

    #[test]
    fn malformed_checksums_are_refused() {
        for bad in ["", "sha-256", "md5=00", "sha-256=zz", "sha-256=abcd"] {
            assert!(bad.parse::<Checksum>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        assert!(parse_url("https://example.com/a").is_ok());
        for bad in [
            "ftp://example.com/a",
            "file:///etc/passwd",
            "not a url",
            "http://",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn engine_owned_headers_cannot_be_overridden() {
        let mut request = AddRequest::new("http://example.com/");
        request.headers.insert("Range".into(), "bytes=0-".into());
        assert!(request.validate().is_err());
        request.headers.clear();
        request
            .headers
            .insert("Authorization".into(), "Bearer x".into());
        assert!(request.validate().is_ok());
        request.connections = Some(65);
        assert!(request.validate().is_err());
    }
}
