//! How the engine reaches servers: which certificates it trusts, which client
//! certificate it shows, and which proxy each request takes. Every HTTP
//! client a download uses is built here ([`Route::client`]).
//!
//! Trust is the operating system's store (with `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`, as OpenSSL, curl and aria2 read them), Mozilla's roots
//! only where the system has none, plus `--ca-certificate` bundles. It is
//! read once, when the engine opens: a connection's client reads no file.
//!
//! Proxies, most specific first: a download's own `proxy` (a URL, or
//! `none`), then the daemon's (`--all-proxy`, `--http-proxy`,
//! `--https-proxy`, `--no-proxy`, changeable with `system.setOptions`),
//! which default to the standard environment variables. The choice is made
//! per request, so a redirect to another scheme or host takes that one's
//! proxy, and a change of the daemon's proxies reaches running downloads at
//! their next connection.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use url::Url;

use super::cookies::{self, Cookie, DownloadJar, SetCookie};
use super::digest::DigestAuth;
use super::error::{EngineError, Failure, FailureCode};
use super::netrc::{self, NetrcEntry};
use super::request::AddRequest;

/// How downloads reach servers, as the engine is opened with it.
#[derive(Debug, Clone, Default)]
pub struct NetworkConfig {
    /// PEM bundles of certificate authorities trusted besides the system's.
    pub ca_certificates: Vec<PathBuf>,
    /// A PEM certificate chain and its private key, shown to servers that
    /// ask for a client certificate.
    pub client_certificate: Option<(PathBuf, PathBuf)>,
    /// The daemon's proxies (what a download without its own takes).
    pub proxies: Proxies,
    /// Cookies every download sends where they belong (`--load-cookies`).
    pub cookies: Vec<Cookie>,
    /// Logins for URLs that name no user (`--netrc`).
    pub netrc: Vec<NetrcEntry>,
}

/// The daemon's proxies, by the scheme of the URL they serve.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    /// For every URL without a proxy of its scheme.
    pub all: Option<ProxyUrl>,
    pub http: Option<ProxyUrl>,
    pub https: Option<ProxyUrl>,
    /// Hosts reached directly, as curl reads `NO_PROXY`: comma-separated
    /// names (each also covering its subdomains, with or without a leading
    /// dot), IP addresses, CIDR blocks, or `*` for every host.
    pub no_proxy: Option<String>,
}

impl Proxies {
    /// The standard variables, as curl reads them: `ALL_PROXY`,
    /// `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`, the lower-case spelling
    /// first. An empty or unusable value counts as unset (and is logged).
    pub fn from_env() -> Proxies {
        fn var(name: &str) -> Option<String> {
            [name.to_ascii_lowercase(), name.to_owned()]
                .into_iter()
                .find_map(|n| std::env::var(n).ok())
                .filter(|v| !v.trim().is_empty())
        }
        let proxy = |name: &str| {
            var(name).and_then(|v| match ProxyUrl::parse(&v) {
                Ok(url) => Some(url),
                Err(reason) => {
                    tracing::warn!("ignoring {name}: {reason}");
                    None
                }
            })
        };
        Proxies {
            all: proxy("ALL_PROXY"),
            http: proxy("HTTP_PROXY"),
            https: proxy("HTTPS_PROXY"),
            no_proxy: var("NO_PROXY"),
        }
    }

    /// These, with `fallback`'s for the kinds these leave unset.
    pub fn or(self, fallback: Proxies) -> Proxies {
        Proxies {
            all: self.all.or(fallback.all),
            http: self.http.or(fallback.http),
            https: self.https.or(fallback.https),
            no_proxy: self.no_proxy.or(fallback.no_proxy),
        }
    }

    fn is_empty(&self) -> bool {
        self.all.is_none() && self.http.is_none() && self.https.is_none()
    }

    /// What a status shows as `request`'s proxy, with these the daemon's.
    pub(crate) fn shown_for(&self, request: &AddRequest) -> Option<String> {
        match request.proxy.as_deref() {
            // Most downloads: no URL to parse when the daemon has no proxy.
            None if self.is_empty() => None,
            None => Url::parse(&request.url)
                .ok()
                .and_then(|url| self.for_url(&url).map(ProxyUrl::shown)),
            Some("none") => None,
            Some(own) => ProxyUrl::parse(own).ok().map(|p| p.shown()),
        }
    }

    /// The proxy a request for `url` takes, if any.
    pub fn for_url(&self, url: &Url) -> Option<&ProxyUrl> {
        if self
            .no_proxy
            .as_deref()
            .is_some_and(|list| bypasses(list, url))
        {
            return None;
        }
        let by_scheme = match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        };
        by_scheme.or(self.all.as_ref())
    }
}

impl fmt::Debug for Proxies {
    // The URLs' credentials stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxies")
            .field("all", &self.all)
            .field("http", &self.http)
            .field("https", &self.https)
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// A proxy's URL: `http://`, `https://`, `socks5://` (names resolved here)
/// or `socks5h://` (names resolved by the proxy: no DNS query leaves this
/// machine), with `user:password@` when the proxy wants them.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(Url);

impl ProxyUrl {
    pub fn parse(text: &str) -> Result<ProxyUrl, String> {
        let url = Url::parse(text).map_err(|e| format!("{:?} is not a URL: {e}", redact(text)))?;
        if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
            return Err(format!(
                "{:?}: a proxy is http://, https://, socks5:// or socks5h://",
                redact(text)
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{:?} names no host", redact(text)));
        }
        Ok(ProxyUrl(url))
    }

    /// The URL as given, credentials included: only for connecting.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The URL without its credentials: what a status, an option or a log
    /// shows.
    pub fn shown(&self) -> String {
        let mut url = self.0.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.as_str().trim_end_matches('/').to_owned()
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

/// `text` with whatever sits between `://` and `@` replaced: an unparsable
/// proxy URL is named in errors without its password.
fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start => format!("{}://…{}", &text[..start], &text[at..]),
        _ => text.to_owned(),
    }
}

/// `url` as a status, an event or a log shows it: without the password of
/// its `user:password@` (which the requests carry as Basic auth).
pub fn shown_url(url: &str) -> String {
    // Most URLs have no userinfo: a list of thousands is not parsed for it.
    let authority = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default();
    let has_password = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    if !has_password {
        return url.to_owned();
    }
    match Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_password(None);
            parsed.into()
        }
        Err(_) => url.to_owned(),
    }
}

/// The URL and headers of the requests after the probe, which go straight
/// to `to`, where the redirects from `from` led. The same origin keeps the
/// URL's `user:password` (which reqwest sends as Basic auth, and drops from
/// the URL a response names); another one gets none of what only `from`'s
/// host may see (credentials, cookies), as curl does since 7.58, and as
/// reqwest does within one request's redirects.
pub(crate) fn redirected(from: &Url, headers: HeaderMap, to: &Url) -> (Url, HeaderMap) {
    let same = from.scheme() == to.scheme()
        && from.host_str() == to.host_str()
        && from.port_or_known_default() == to.port_or_known_default();
    let (mut to, mut headers) = (to.clone(), headers);
    if same {
        let _ = to.set_username(from.username());
        let _ = to.set_password(from.password());
    } else {
        for name in [
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
        ] {
            headers.remove(name);
        }
    }
    (to, headers)
}

/// A download's own proxy: the daemon's, none, or its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyChoice {
    Daemon,
    Direct,
    Own(ProxyUrl),
}

impl ProxyChoice {
    /// The `proxy` of an add request: absent, `"none"`, or a proxy URL.
    pub fn of(request: &AddRequest) -> Result<ProxyChoice, EngineError> {
        match request.proxy.as_deref() {
            None => Ok(ProxyChoice::Daemon),
            Some("none") => Ok(ProxyChoice::Direct),
            Some(text) => ProxyUrl::parse(text)
                .map(ProxyChoice::Own)
                .map_err(|reason| EngineError::InvalidParam {
                    name: "proxy",
                    reason,
                }),
        }
    }
}

/// Whether `NO_PROXY`-style `list` sends `url`'s host direct.
fn bypasses(list: &str, url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: Option<IpAddr> = host.parse().ok();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        if let Some((net, bits)) = entry.split_once('/') {
            return match (ip, net.parse::<IpAddr>(), bits.parse::<u32>()) {
                (Some(ip), Ok(net), Ok(bits)) => in_block(ip, net, bits),
                _ => false,
            };
        }
        let entry = entry.trim_start_matches('.');
        if entry.is_empty() {
            return false;
        }
        host.eq_ignore_ascii_case(entry)
            || (ip.is_none()
                && host.len() > entry.len()
                && host.as_bytes()[host.len() - entry.len() - 1] == b'.'
                && host[host.len() - entry.len()..].eq_ignore_ascii_case(entry))
    })
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Why the engine cannot set up its network.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("cannot read the certificates in {}: {reason}", path.display())]
    Certificates { path: PathBuf, reason: String },
    #[error("cannot read the private key in {}: {reason}", path.display())]
    Key { path: PathBuf, reason: String },
    #[error("cannot use the client certificate: {0}")]
    ClientCertificate(rustls::Error),
    #[error("no certificate authority to trust: {0}")]
    NoRoots(String),
}

/// The engine's network: TLS set up once, the daemon's proxies, and what
/// every HTTP client gets.
pub(crate) struct Network {
    tls: ClientConfig,
    /// The same without verification, for downloads added with `insecure`.
    insecure: ClientConfig,
    proxies: RwLock<Proxies>,
    cookies: Vec<Cookie>,
    netrc: Vec<NetrcEntry>,
    user_agent: String,
    connect_timeout: Duration,
}

impl Network {
    pub(crate) fn new(
        config: &NetworkConfig,
        user_agent: &str,
        connect_timeout: Duration,
    ) -> Result<Network, NetworkError> {
        let roots = roots(&config.ca_certificates)?;
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots);
        let tls = match &config.client_certificate {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let (chain, key) = read_key_pair(cert, key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(NetworkError::ClientCertificate)?
            }
        };
        let mut insecure = tls.clone();
        insecure
            .dangerous()
            .set_certificate_verifier(Arc::new(NoVerification(provider())));
        Ok(Network {
            tls,
            insecure,
            proxies: RwLock::new(config.proxies.clone()),
            cookies: config.cookies.clone(),
            netrc: config.netrc.clone(),
            user_agent: user_agent.to_owned(),
            connect_timeout,
        })
    }

    pub(crate) fn proxies(&self) -> Proxies {
        self.proxies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn update_proxies(&self, change: impl FnOnce(&mut Proxies)) -> Proxies {
        let mut proxies = self.proxies.write().unwrap_or_else(|e| e.into_inner());
        change(&mut proxies);
        proxies.clone()
    }

    /// `url` with its host's `.netrc` login when it names no user.
    pub(crate) fn login(&self, url: &Url) -> Url {
        netrc::with_login(&self.netrc, url)
    }

    /// The proxy a request of a download with `choice` for `url` takes now.
    pub(crate) fn proxy_for(&self, choice: &ProxyChoice, url: &Url) -> Option<ProxyUrl> {
        match choice {
            ProxyChoice::Daemon => self.proxies().for_url(url).cloned(),
            ProxyChoice::Direct => None,
            ProxyChoice::Own(proxy) => Some(proxy.clone()),
        }
    }
}

/// How one download's requests go out: its proxy choice, whether it
/// verifies certificates, and its cookie jar, over the engine's network.
#[derive(Clone)]
pub(crate) struct Route {
    network: Arc<Network>,
    proxy: ProxyChoice,
    insecure: bool,
    jar: Arc<DownloadJar>,
    /// Answers Digest challenges when the URL carries credentials.
    digest: Option<Arc<DigestAuth>>,
}

impl Route {
    /// `request`'s route, with a new jar of its cookies for `url`.
    pub(crate) fn new(
        network: Arc<Network>,
        request: &AddRequest,
        url: &Url,
    ) -> Result<Route, EngineError> {
        let jar = cookies::jar(&network.cookies, request.cookies.as_deref(), url);
        Ok(Route {
            proxy: ProxyChoice::of(request)?,
            insecure: request.insecure,
            network,
            jar,
            digest: DigestAuth::for_url(url).map(Arc::new),
        })
    }

    /// The Digest answerer of this route's credentials, if any.
    pub(crate) fn digest(&self) -> Option<Arc<DigestAuth>> {
        self.digest.clone()
    }

    /// The cookies servers set on this route so far.
    pub(crate) fn server_cookies(&self) -> Vec<SetCookie> {
        self.jar.server_set()
    }

    /// The same route with the cookies servers set in an earlier run (a
    /// restart between) in its jar.
    pub(crate) fn replaying(self, cookies: &[SetCookie]) -> Route {
        self.jar.replay(cookies);
        self
    }

    /// The same route with `other`'s jar: the cookies a server set in one
    /// start of a download reach its next.
    pub(crate) fn keeping_cookies_of(self, other: &Route) -> Route {
        Route {
            jar: other.jar.clone(),
            ..self
        }
    }

    /// A client whose pool holds one connection: every range it fetches goes
    /// over the same TCP connection (while it lives), so what the segment
    /// table measures of it is that connection's speed. HTTP/1.1 only: N
    /// connections of a download are N TCP connections, never streams of
    /// one.
    pub(crate) fn client(&self) -> Result<reqwest::Client, reqwest::Error> {
        let mut headers = HeaderMap::new();
        // Byte ranges are only meaningful over the identity encoding.
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        let network = &self.network;
        let tls = if self.insecure {
            network.insecure.clone()
        } else {
            network.tls.clone()
        };
        let (route_network, choice) = (network.clone(), self.proxy.clone());
        reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .default_headers(headers)
            .user_agent(&network.user_agent)
            .redirect(reqwest::redirect::Policy::limited(10))
            .connect_timeout(network.connect_timeout)
            .tcp_nodelay(true)
            .cookie_provider(self.jar.clone())
            .use_preconfigured_tls(tls)
            // Only ours: reqwest would otherwise read the environment itself.
            .no_proxy()
            .proxy(reqwest::Proxy::custom(move |url| {
                route_network
                    .proxy_for(&choice, url)
                    .map(|p| p.expose().to_owned())
            }))
            .build()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's roots (or Mozilla's, where it has none) and `extra`.
fn roots(extra: &[PathBuf]) -> Result<RootCertStore, NetworkError> {
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!("reading the system's certificates: {error}");
    }
    let (added, _) = roots.add_parsable_certificates(system.certs);
    if added == 0 {
        tracing::info!("the system has no certificate store: trusting Mozilla's roots");
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for path in extra {
        let certs = read_certificates(path)?;
        let (added, ignored) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(NetworkError::Certificates {
                path: path.clone(),
                reason: format!("none of its {ignored} certificates is a usable authority"),
            });
        }
    }
    if roots.is_empty() {
        return Err(NetworkError::NoRoots(
            "the system's store and Mozilla's are both empty".into(),
        ));
    }
    Ok(roots)
}

/// A certificate chain and its private key, from PEM files: a client
/// certificate's, or the RPC port's own.
pub fn read_key_pair(
    cert: &PathBuf,
    key: &PathBuf,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), NetworkError> {
    let chain = read_certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| NetworkError::Key {
        path: key.clone(),
        reason: e.to_string(),
    })?;
    Ok((chain, key))
}

fn read_certificates(path: &PathBuf) -> Result<Vec<CertificateDer<'static>>, NetworkError> {
    let error = |reason: String| NetworkError::Certificates {
        path: path.clone(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error("it holds no PEM certificate".into()));
    }
    Ok(certs)
}

/// A TLS failure in `err`'s chain, as the download's error: which check
/// failed, and what to do about it. Not transient: trying again meets the
/// same certificate.
pub(crate) fn tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<Failure> {
    let tls = chain(err).find_map(|e| e.downcast_ref::<rustls::Error>())?;
    let message = match tls {
        rustls::Error::InvalidCertificate(cause) => {
            let (what, hint) = match cause {
                CertificateError::UnknownIssuer => (
                    "is signed by an unknown authority".to_owned(),
                    "trust that authority with --ca-certificate FILE or in the system's store",
                ),
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => (
                    format!("is not valid for this host ({cause})"),
                    "check the URL's host name",
                ),
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => (
                    format!("is outside its validity period ({cause})"),
                    "check this machine's clock, or ask the server's owner to renew it",
                ),
                other => (
                    format!("was refused ({other})"),
                    "see the server's certificate",
                ),
            };
            format!(
                "tls: the server's certificate {what}; {hint} (or add the download with \
                 insecure: true, which skips verification)"
            )
        }
        other => format!("tls: the handshake failed: {other}"),
    };
    Some(Failure::new(FailureCode::Tls, message))
}

/// A proxy refusing this download, in `err`'s chain: its credentials, or
/// the tunnel to the server.
pub(crate) fn proxy_failure(err: &(dyn std::error::Error + 'static)) -> Option<Failure> {
    // hyper-util's tunnel and SOCKS errors are not public types: their
    // messages are what can be matched.
    let refusal = chain(err).find_map(|e| {
        let text = e.to_string();
        if text.contains("proxy authorization required")
            || text.contains("credentials not accepted")
        {
            Some(
                "the proxy refused the credentials: give the right user and password in the \
                 proxy URL (scheme://user:password@host:port)",
            )
        } else if text.contains("tunnel error: unsuccessful") {
            // tinyproxy, for one, answers a CONNECT with wrong credentials
            // 401 rather than 407.
            Some(
                "the proxy refused to open a tunnel to the server: check the credentials in the \
                 proxy URL (scheme://user:password@host:port), and that the proxy allows this \
                 host and port",
            )
        } else {
            None
        }
    })?;
    Some(Failure::new(FailureCode::Proxy, refusal))
}

/// `err` and its sources, looking inside I/O errors (whose `source` skips
/// the error they wrap, where TLS and proxy errors travel).
fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| {
        e.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static))
            .or_else(|| e.source())
    })
}

/// Accepts any certificate: `insecure` downloads only, by the user's choice.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn no_proxy_matches_names_their_subdomains_addresses_and_blocks_as_curl_does() {
        let list = "example.com, .internal,10.0.0.0/8, ::1 ,fd00::/8";
        for direct in [
            "http://example.com/f",
            "http://a.b.example.com/f",
            "https://x.internal/f",
            "http://10.1.2.3:8080/f",
            "http://[::1]:80/f",
            "http://[fd12::1]/f",
        ] {
            assert!(bypasses(list, &url(direct)), "{direct}");
        }
        for proxied in [
            "http://notexample.com/f",
            "http://example.org/f",
            "http://11.0.0.1/f",
            "http://[fe80::1]/f",
        ] {
            assert!(!bypasses(list, &url(proxied)), "{proxied}");
        }
        assert!(bypasses("*", &url("http://anything/f")));
    }

    #[test]
    fn a_scheme_proxy_wins_over_the_all_proxy_and_no_proxy_over_both() {
        let proxies = Proxies {
            all: Some(ProxyUrl::parse("socks5h://127.0.0.1:1080").unwrap()),
            http: Some(ProxyUrl::parse("http://127.0.0.1:3128").unwrap()),
            https: None,
            no_proxy: Some("direct.example".into()),
        };
        let shown = |u: &str| proxies.for_url(&url(u)).map(ProxyUrl::shown);
        assert_eq!(
            shown("http://a.example/f").as_deref(),
            Some("http://127.0.0.1:3128")
        );
        assert_eq!(
            shown("https://a.example/f").as_deref(),
            Some("socks5h://127.0.0.1:1080")
        );
        assert_eq!(shown("https://direct.example/f"), None);
    }

    #[test]
    fn a_url_is_shown_without_its_password_and_secrets_stay_with_their_origin_after_redirects() {
        assert_eq!(
            shown_url("https://ada:s3cret@host/f?x=1"),
            "https://ada@host/f?x=1"
        );
        assert_eq!(shown_url("https://host/f"), "https://host/f");
        assert_eq!(shown_url("https://ada@host/f"), "https://ada@host/f");
        assert_eq!(shown_url("https://host/a:b@c"), "https://host/a:b@c");
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        headers.insert(header::COOKIE, HeaderValue::from_static("s=1"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let from = url("https://ada:pw@a.example/f");
        let (same, kept) = redirected(&from, headers.clone(), &url("https://a.example:443/g"));
        assert_eq!(
            (same.as_str(), kept.len()),
            ("https://ada:pw@a.example/g", 3)
        );
        let (other, left) = redirected(&from, headers.clone(), &url("https://b.example/f"));
        assert_eq!(other.as_str(), "https://b.example/f");
        assert_eq!(left.len(), 1);
        assert!(left.contains_key(header::ACCEPT));
        let (_, downgraded) = redirected(&from, headers, &url("http://a.example/f"));
        assert_eq!(downgraded.len(), 1);
    }

    #[test]
    fn a_proxy_url_is_shown_and_refused_without_its_credentials() {
        let proxy = ProxyUrl::parse("http://ada:s3cret@127.0.0.1:3128").unwrap();
        assert_eq!(proxy.shown(), "http://127.0.0.1:3128");
        assert_eq!(format!("{proxy:?}"), "http://127.0.0.1:3128");
        assert!(proxy.expose().contains("s3cret"));
        let refused = ProxyUrl::parse("ftp://ada:s3cret@host").unwrap_err();
        assert!(!refused.contains("s3cret"), "{refused}");
        assert!(ProxyUrl::parse("socks5h://").is_err());
    }
}
