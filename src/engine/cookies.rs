//! Cookies a download sends: the daemon's (`--load-cookies`, a Netscape
//! cookies.txt as curl and browsers' exporters write it), the download's
//! own (`cookies`: a `Cookie` header value, or cookies.txt contents), and
//! those its server sets along the way. One jar per download run holds
//! them, shared by the probe and every connection, and sends each only to
//! the hosts and paths it belongs to. What servers set is kept in the
//! download's record too ([`SetCookie`]), so it reaches the download's
//! requests after a restart as well.

use std::sync::{Arc, Mutex};

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::EngineError;

/// One line of a cookies.txt.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie {
    /// The host, without the leading dot of a domain cookie.
    pub host: String,
    /// Sent to the host's subdomains too (the file's second field).
    pub domain_wide: bool,
    pub path: String,
    pub secure: bool,
    pub name: String,
    pub value: String,
}

impl std::fmt::Debug for Cookie {
    // A cookie's value is a secret: logs name it only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}{}", self.name, self.host, self.path)
    }
}

/// The cookies of a Netscape cookies.txt: tab-separated `domain`,
/// `include-subdomains`, `path`, `secure`, `expires`, `name`, `value`;
/// `#` comments and blank lines skipped (`#HttpOnly_` lines are cookies).
pub fn parse_cookies_txt(text: &str) -> Result<Vec<Cookie>, String> {
    let mut cookies = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let line = line.strip_prefix("#HttpOnly_").unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [domain, wide, path, secure, _expires, name, value] = fields[..] else {
            return Err(format!(
                "line {}: a cookie is 7 tab-separated fields, this has {}",
                number + 1,
                fields.len()
            ));
        };
        if name.is_empty() || domain.is_empty() {
            return Err(format!(
                "line {}: a cookie needs a domain and a name",
                number + 1
            ));
        }
        cookies.push(Cookie {
            host: domain.trim_start_matches('.').to_ascii_lowercase(),
            domain_wide: wide.eq_ignore_ascii_case("TRUE"),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            secure: secure.eq_ignore_ascii_case("TRUE"),
            name: name.into(),
            value: value.into(),
        });
    }
    Ok(cookies)
}

/// A cookie a server set, as it set it (`Set-Cookie`), and for which URL.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCookie {
    pub url: String,
    pub header: String,
}

impl std::fmt::Debug for SetCookie {
    // The value is a secret: the name only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name(), self.url)
    }
}

impl SetCookie {
    fn name(&self) -> &str {
        self.header.split('=').next().unwrap_or_default().trim()
    }

    fn host(&self) -> Option<String> {
        Url::parse(&self.url).ok()?.host_str().map(str::to_owned)
    }
}

/// The most server-set cookies a download keeps: a server setting a new
/// one at every answer cannot grow the record without bound.
const MAX_SET: usize = 64;

/// A download's cookie jar, which remembers what servers set.
pub(crate) struct DownloadJar {
    jar: Jar,
    set: Mutex<Vec<SetCookie>>,
}

impl DownloadJar {
    /// What servers set so far (the latest of each name per host).
    pub fn server_set(&self) -> Vec<SetCookie> {
        self.set.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets cookies a server set in an earlier run.
    pub fn replay(&self, cookies: &[SetCookie]) {
        for cookie in cookies {
            if let (Ok(url), Ok(header)) = (
                Url::parse(&cookie.url),
                HeaderValue::from_str(&cookie.header),
            ) {
                self.set_cookies(&mut std::iter::once(&header), &url);
            }
        }
    }
}

impl CookieStore for DownloadJar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let headers: Vec<&HeaderValue> = headers.collect();
        {
            let mut set = self.set.lock().unwrap_or_else(|e| e.into_inner());
            for header in &headers {
                let Ok(text) = header.to_str() else { continue };
                let cookie = SetCookie {
                    url: url.as_str().to_owned(),
                    header: text.to_owned(),
                };
                let (name, host) = (cookie.name().to_owned(), cookie.host());
                set.retain(|c| !(c.name() == name && c.host() == host));
                set.push(cookie);
                if set.len() > MAX_SET {
                    set.remove(0);
                }
            }
        }
        self.jar.set_cookies(&mut headers.into_iter(), url);
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.jar.cookies(url)
    }
}

/// Whether a download's `cookies` are cookies.txt contents rather than a
/// `Cookie` header value (which has no tab and no line break).
fn is_cookies_txt(text: &str) -> bool {
    text.contains('\t') || text.contains('\n')
}

/// Checks a download's `cookies` without keeping anything.
pub(crate) fn validate(text: &str) -> Result<(), EngineError> {
    let bad = |reason: String| EngineError::InvalidParam {
        name: "cookies",
        reason,
    };
    if is_cookies_txt(text) {
        return parse_cookies_txt(text).map(drop).map_err(bad);
    }
    for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((name, _)) if !name.trim().is_empty() => {}
            _ => return Err(bad(format!("{pair:?} is not name=value"))),
        }
    }
    Ok(())
}

/// The jar of one download of `url`: the daemon's cookies, then its own
/// (which win over the daemon's of the same name, host and path).
pub(crate) fn jar(daemons: &[Cookie], own: Option<&str>, url: &Url) -> Arc<DownloadJar> {
    let jar = Arc::new(DownloadJar {
        jar: Jar::default(),
        set: Mutex::new(Vec::new()),
    });
    for cookie in daemons {
        add(&jar, cookie);
    }
    match own {
        Some(text) if is_cookies_txt(text) => {
            for cookie in parse_cookies_txt(text).unwrap_or_default() {
                add(&jar, &cookie);
            }
        }
        // A header value: host-only cookies of the download's URL.
        Some(text) => {
            for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                jar.jar.add_cookie_str(&format!("{pair}; Path=/"), url);
            }
        }
        None => {}
    }
    jar
}

fn add(jar: &DownloadJar, cookie: &Cookie) {
    let scheme = if cookie.secure { "https" } else { "http" };
    let Ok(at) = Url::parse(&format!("{scheme}://{}{}", cookie.host, cookie.path)) else {
        tracing::warn!(?cookie, "skipping a cookie whose domain is not a host name");
        return;
    };
    let mut text = format!("{}={}; Path={}", cookie.name, cookie.value, cookie.path);
    if cookie.domain_wide {
        text += &format!("; Domain={}", cookie.host);
    }
    if cookie.secure {
        text += "; Secure";
    }
    jar.jar.add_cookie_str(&text, &at);
}

#[cfg(test)]
mod tests {
    use reqwest::cookie::CookieStore;

    use super::*;

    const FILE: &str = "# Netscape HTTP Cookie File\n\
        .example.com\tTRUE\t/\tFALSE\t0\twide\t1\n\
        host.example.com\tFALSE\t/files\tFALSE\t0\tnarrow\t2\n\
        #HttpOnly_example.com\tFALSE\t/\tTRUE\t0\tsecure\t3\n\n";

    /// What `jar` sends to `url`, sorted (a jar keeps no order).
    fn sent(jar: &DownloadJar, url: &str) -> String {
        let header = jar
            .cookies(&Url::parse(url).unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let mut pairs: Vec<&str> = header.split("; ").filter(|p| !p.is_empty()).collect();
        pairs.sort_unstable();
        pairs.join("; ")
    }

    #[test]
    fn a_cookies_txt_reaches_the_hosts_paths_and_schemes_it_names() {
        let cookies = parse_cookies_txt(FILE).unwrap();
        assert_eq!(cookies.len(), 3);
        let jar = jar(&cookies, None, &Url::parse("http://unused/").unwrap());
        assert_eq!(sent(&jar, "http://a.example.com/x"), "wide=1");
        assert_eq!(
            sent(&jar, "http://host.example.com/files/f"),
            "narrow=2; wide=1"
        );
        assert_eq!(sent(&jar, "http://host.example.com/other"), "wide=1");
        assert_eq!(sent(&jar, "https://example.com/"), "secure=3; wide=1");
        assert_eq!(sent(&jar, "http://example.org/"), "");
    }

    #[test]
    fn a_cookie_header_value_goes_to_the_downloads_host_only() {
        let url = Url::parse("http://127.0.0.1:8080/f").unwrap();
        let jar = jar(&[], Some("a=1; b=two"), &url);
        assert_eq!(sent(&jar, "http://127.0.0.1:8080/g"), "a=1; b=two");
        assert_eq!(sent(&jar, "http://localhost:8080/g"), "");
    }

    #[test]
    fn malformed_cookies_are_refused_naming_the_line() {
        assert!(validate("a=1; b=2").is_ok());
        assert!(validate(FILE).is_ok());
        let refused = validate("novalue").unwrap_err().to_string();
        assert!(
            refused.contains("\"novalue\" is not name=value"),
            "{refused}"
        );
        let refused = validate("x.com\tTRUE\t/\n").unwrap_err().to_string();
        assert!(refused.contains("line 1"), "{refused}");
    }
}
