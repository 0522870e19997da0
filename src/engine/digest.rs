//! HTTP Digest authentication (RFC 7616) for downloads whose URL carries a
//! user and password (or gets them from `.netrc`): a `401` with a `Digest`
//! challenge is answered at once, and every later request of the download
//! (the probe's and each connection's) sends its answer up front, with its
//! own nonce count and client nonce. MD5 and SHA-256, plain and `-sess`,
//! with `qop=auth` or without (RFC 2069 servers).
//!
//! Every request of a download goes through [`send`], so the probe and the
//! connections answer challenges the same way.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use md5::Md5;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::error::FailureCode;
use super::transfer::AttemptError;

/// One download's Digest credentials and the server's latest challenge.
#[derive(Debug)]
pub(crate) struct DigestAuth {
    user: String,
    password: String,
    challenge: Mutex<Option<Challenge>>,
    /// Requests answered under the current nonce.
    count: AtomicU32,
}

#[derive(Debug, Clone)]
struct Challenge {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    qop_auth: bool,
    algorithm: Algorithm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        Some(match name.to_ascii_uppercase().as_str() {
            "MD5" => Algorithm::Md5,
            "MD5-SESS" => Algorithm::Md5Sess,
            "SHA-256" => Algorithm::Sha256,
            "SHA-256-SESS" => Algorithm::Sha256Sess,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, text: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(text.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex::encode(Sha256::digest(text.as_bytes()))
            }
        }
    }

    fn session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

impl DigestAuth {
    /// The credentials of `url`, if it names a user.
    pub(crate) fn for_url(url: &Url) -> Option<DigestAuth> {
        if url.username().is_empty() {
            return None;
        }
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        Some(DigestAuth {
            user: decode(url.username()),
            password: decode(url.password().unwrap_or_default()),
            challenge: Mutex::new(None),
            count: AtomicU32::new(0),
        })
    }

    /// Takes the `Digest` challenge of a 401's headers; whether it is one
    /// that answering may get past: a first one, or a stale nonce renewed.
    /// A second challenge of the same nonce means the credentials are wrong.
    fn learn(&self, headers: &HeaderMap) -> bool {
        let Some(offered) = headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_challenge)
        else {
            return false;
        };
        let mut challenge = self.challenge.lock().unwrap_or_else(|e| e.into_inner());
        let worth_it = match &*challenge {
            None => true,
            Some(known) => known.nonce != offered.0.nonce && offered.1,
        };
        if worth_it {
            *challenge = Some(offered.0);
            self.count.store(0, Ordering::Relaxed);
        }
        worth_it
    }

    /// The `Authorization` of a GET of `url` under the known challenge.
    fn authorization(&self, url: &Url) -> Option<HeaderValue> {
        let challenge = self
            .challenge
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let count = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let cnonce = hex::encode(rand::random::<[u8; 12]>());
        let uri = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let algorithm = challenge.algorithm;
        let mut ha1 = algorithm.hash(&format!(
            "{}:{}:{}",
            self.user, challenge.realm, self.password
        ));
        if algorithm.session() {
            ha1 = algorithm.hash(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
        }
        let ha2 = algorithm.hash(&format!("GET:{uri}"));
        let nc = format!("{count:08x}");
        let response = if challenge.qop_auth {
            algorithm.hash(&format!(
                "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
                challenge.nonce
            ))
        } else {
            algorithm.hash(&format!("{ha1}:{}:{ha2}", challenge.nonce))
        };
        let quote = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
        let mut value = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm={}, response=\"{response}\"",
            quote(&self.user),
            quote(&challenge.realm),
            quote(&challenge.nonce),
            quote(&uri),
            algorithm.name(),
        );
        if challenge.qop_auth {
            value += &format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\"");
        }
        if let Some(opaque) = &challenge.opaque {
            value += &format!(", opaque=\"{}\"", quote(opaque));
        }
        HeaderValue::from_str(&value).ok()
    }
}

/// A `Digest` challenge in a `WWW-Authenticate` value, and whether it says
/// `stale=true`.
fn parse_challenge(value: &str) -> Option<(Challenge, bool)> {
    let start = value.to_ascii_lowercase().find("digest ")?;
    let params = params(&value[start + "digest ".len()..]);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let algorithm = match get("algorithm") {
        Some(name) => Algorithm::parse(&name)?,
        None => Algorithm::Md5,
    };
    let qop_auth = get("qop").is_some_and(|q| q.split(',').any(|q| q.trim() == "auth"));
    let challenge = Challenge {
        realm: get("realm")?,
        nonce: get("nonce")?,
        opaque: get("opaque"),
        qop_auth,
        algorithm,
    };
    Some((
        challenge,
        get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
    ))
}

/// `key=value, key="quoted, value"` pairs.
fn params(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            rest = &quoted[end..];
            value
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let value = rest[..end].trim().to_owned();
            rest = &rest[end..];
            value
        };
        pairs.push((key, value));
        rest = rest.trim_start().trim_start_matches(',');
    }
    pairs
}

/// Sends the GET `build` makes (called again for a retry) within
/// `timeout`, answering a Digest challenge once when `auth` can.
pub(crate) async fn send(
    auth: Option<&DigestAuth>,
    url: &Url,
    build: impl Fn() -> RequestBuilder,
    timeout: Duration,
) -> Result<Response, AttemptError> {
    let mut answered = false;
    loop {
        let mut request = build();
        if let Some(value) = auth.and_then(|a| a.authorization(url)) {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value);
            // Replaces the Basic auth reqwest makes of the URL's credentials.
            request = request.headers(headers);
        }
        let response = tokio::time::timeout(timeout, request.send())
            .await
            .map_err(|_| {
                AttemptError::transient(FailureCode::Network, "the server did not answer in time")
            })?
            .map_err(AttemptError::request)?;
        let challenged = response.status() == StatusCode::UNAUTHORIZED
            && !answered
            && auth.is_some_and(|a| a.learn(response.headers()));
        if !challenged {
            return Ok(response);
        }
        answered = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7616_example_is_answered_as_the_rfc_answers_it() {
        // RFC 7616 §3.9.1, with MD5 and SHA-256.
        let url =
            Url::parse("http://Mufasa:Circle%20of%20Life@www.example.org/dir/index.html").unwrap();
        for (algorithm, expected) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let auth = DigestAuth::for_url(&url).unwrap();
            let mut headers = HeaderMap::new();
            let challenge = format!(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={algorithm}, \
                 nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                 opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
            );
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_str(&challenge).unwrap(),
            );
            assert!(auth.learn(&headers));
            // The RFC's client nonce, instead of a random one.
            let known = auth.challenge.lock().unwrap().clone().unwrap();
            let algo = known.algorithm;
            let ha1 = algo.hash("Mufasa:http-auth@example.org:Circle of Life");
            let ha2 = algo.hash("GET:/dir/index.html");
            let response = algo.hash(&format!(
                "{ha1}:{}:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:{ha2}",
                known.nonce
            ));
            assert_eq!(response, expected, "{algorithm}");
            let value = auth.authorization(&url).unwrap();
            let value = value.to_str().unwrap();
            assert!(value.contains("username=\"Mufasa\""), "{value}");
            assert!(
                value.contains("uri=\"/dir/index.html\", algorithm="),
                "{value}"
            );
            assert!(
                value.contains("qop=auth, nc=00000001, cnonce=\""),
                "{value}"
            );
            assert!(value.contains("opaque=\"FQhe"), "{value}");
        }
    }

    #[test]
    fn a_second_challenge_of_the_same_nonce_is_not_answered_but_a_stale_one_is() {
        let url = Url::parse("http://u:p@h/f").unwrap();
        let auth = DigestAuth::for_url(&url).unwrap();
        let header = |nonce: &str, stale: bool| {
            let mut headers = HeaderMap::new();
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"x\""),
            );
            let text =
                format!("Digest realm=\"r\", nonce=\"{nonce}\", qop=\"auth\", stale={stale}");
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_str(&text).unwrap(),
            );
            headers
        };
        assert!(auth.learn(&header("n1", false)));
        assert!(!auth.learn(&header("n1", false)), "wrong credentials");
        assert!(auth.learn(&header("n2", true)), "a renewed nonce");
        assert!(DigestAuth::for_url(&Url::parse("http://h/f").unwrap()).is_none());
    }
}
