//! The typed Rust SDK: [`Client`] calls the daemon over HTTP or WebSocket,
//! [`Client::events`] streams its notifications as typed [`Notification`]s.
//!
//! The per-method calls (`download_add`, `download_list`, …) are generated
//! from `openrpc.json` into [`crate::api`]; this module holds what they share:
//! the transport, authentication, and error mapping.
//!
//! - `events`: the event stream that reconnects, replays and resynchronises.
//! - `poll`: its fallback, the same events over HTTP from `events.poll`.
//! - [`local`]: finding the daemon on this machine, its URL and token, as
//!   the CLI does ([`Client::connect_local`]).
//! - `link`: how connections are opened: the token, TLS trust (custom CAs,
//!   [`ClientBuilder::ca_certificate`]), unix sockets.

mod events;
mod link;
pub mod local;
mod poll;

use std::fmt;
use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::http_client::{HeaderMap, HeaderValue, HttpClient};
use jsonrpsee::ws_client::WsClient;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::value::RawValue;
use url::Url;

use crate::api::{ErrorCode, Notification};

pub use events::{Event, Events, EventsMode, EventsOptions, Resync, ResyncReason};

/// A connection to a haul daemon.
///
/// Built from the daemon's URL and its token: `http://127.0.0.1:6801/jsonrpc`
/// calls over HTTP (one request per call, keep-alive), `ws://127.0.0.1:6801/jsonrpc/ws`
/// over one WebSocket, `unix:/run/haul/haul.sock` over a WebSocket on that
/// unix socket; `https://` and `wss://` over TLS (see [`Client::builder`]
/// to trust a CA of your own). Either way [`Client::events`] opens a
/// WebSocket of its own for notifications.
///
/// ```no_run
/// use haul::api::DownloadAddParams;
/// use haul::Client;
///
/// # async fn run() -> Result<(), haul::ClientError> {
/// let client = Client::connect("http://127.0.0.1:6801/jsonrpc", "my-token").await?;
/// let mut add = DownloadAddParams::new("https://example.com/file.iso");
/// add.connections = Some(16);
/// let gid = client.download_add(&add).await?.gid;
/// println!("added {gid}");
/// # Ok(()) }
/// ```
pub struct Client {
    transport: Transport,
    url: Url,
    events_url: Url,
    link: link::Link,
}

/// A [`Client`] with settings beyond URL and token, from [`Client::builder`].
pub struct ClientBuilder {
    url: String,
    token: String,
    ca_certificates: Vec<Vec<u8>>,
}

impl ClientBuilder {
    /// Trusts the CA certificate(s) in `pem` (PEM text), instead of the
    /// system's roots: for a daemon whose `--rpc-certificate` an internal
    /// CA signed. Called again, it trusts those too.
    pub fn ca_certificate(mut self, pem: impl Into<Vec<u8>>) -> ClientBuilder {
        self.ca_certificates.push(pem.into());
        self
    }

    /// Connects, as [`Client::connect`] describes.
    pub async fn connect(self) -> Result<Client, ClientError> {
        let tls = match self.ca_certificates.is_empty() {
            true => None,
            false => Some(link::trust(&self.ca_certificates)?),
        };
        Client::open(&self.url, &self.token, tls).await
    }
}

enum Transport {
    Http(HttpClient),
    Ws(WsClient),
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The daemon answered with a JSON-RPC error.
    #[error("{message} (code {code}{})", data.as_ref().map(|d| format!(", data {d}")).unwrap_or_default())]
    Api {
        /// The error code; [`ClientError::code`] maps it to an [`ErrorCode`].
        code: i32,
        message: String,
        /// The error's `data`, when it has some; [`ClientError::data`] decodes it.
        data: Option<serde_json::Value>,
    },
    /// The URL is not one the client can connect to.
    #[error("invalid daemon url `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// A CA certificate given to [`ClientBuilder::ca_certificate`] cannot be used.
    #[error("invalid CA certificate: {reason}")]
    InvalidCertificate { reason: String },
    /// The token cannot be sent as a header.
    #[error("invalid token: it must be printable ASCII")]
    InvalidToken,
    /// The daemon could not be reached, or the connection broke.
    #[error("cannot reach the daemon at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The daemon's answer could not be decoded.
    #[error("unexpected answer from the daemon: {0}")]
    Protocol(String),
    /// [`Client::connect_local`] found no token: `HAUL_RPC_SECRET` is not
    /// set and `file`, the daemon's token file, does not exist (`None`: no
    /// state directory to look in, for want of a home directory).
    #[error(
        "no daemon token: HAUL_RPC_SECRET is not set and there is {}\n\
         hint: start the daemon (`haul daemon`), which writes that file; or set HAUL_RPC_SECRET \
         to the daemon's --rpc-secret, or HAUL_STATE_DIR to its --state-dir",
        match file {
            Some(file) => format!("no {}", file.display()),
            None => "no state directory (HAUL_STATE_DIR, XDG_STATE_HOME and HOME are not set)".into(),
        }
    )]
    NoToken { file: Option<std::path::PathBuf> },
    /// [`Client::connect_local`] found a token file it cannot use.
    #[error(transparent)]
    TokenFile(#[from] local::TokenFileError),
}

impl ClientError {
    /// The API error code, when the daemon answered with one the API defines.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { code, .. } => ErrorCode::from_code(*code),
            _ => None,
        }
    }

    /// The error's `data` decoded as `T` (e.g. [`crate::api::DownloadNotFoundErrorData`]).
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        match self {
            ClientError::Api {
                data: Some(data), ..
            } => T::deserialize(data).ok(),
            _ => None,
        }
    }

    /// A copy, for a second reader (an underlying error becomes its text).
    pub(crate) fn duplicate(&self) -> ClientError {
        match self {
            ClientError::Api {
                code,
                message,
                data,
            } => ClientError::Api {
                code: *code,
                message: message.clone(),
                data: data.clone(),
            },
            ClientError::InvalidUrl { url, reason } => ClientError::InvalidUrl {
                url: url.clone(),
                reason: reason.clone(),
            },
            ClientError::InvalidToken => ClientError::InvalidToken,
            ClientError::InvalidCertificate { reason } => ClientError::InvalidCertificate {
                reason: reason.clone(),
            },
            ClientError::Unreachable { url, source } => {
                // Keep the I/O error's kind (e.g. "connection refused") visible.
                let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
                let mut kind = std::io::ErrorKind::Other;
                while let Some(e) = cause {
                    if let Some(io) = e.downcast_ref::<std::io::Error>() {
                        kind = io.kind();
                        break;
                    }
                    cause = e.source();
                }
                ClientError::Unreachable {
                    url: url.clone(),
                    source: Box::new(std::io::Error::new(kind, source.to_string())),
                }
            }
            ClientError::Protocol(text) => ClientError::Protocol(text.clone()),
            ClientError::NoToken { file } => ClientError::NoToken { file: file.clone() },
            ClientError::TokenFile(e) => ClientError::TokenFile(e.duplicate()),
        }
    }

    pub(crate) fn from_jsonrpsee(url: &Url, e: jsonrpsee::core::ClientError) -> ClientError {
        use jsonrpsee::core::ClientError as E;
        match e {
            E::Call(obj) => ClientError::Api {
                code: obj.code(),
                message: obj.message().to_owned(),
                data: obj.data().and_then(|d| serde_json::from_str(d.get()).ok()),
            },
            E::Transport(source) => transport_error(url, source),
            E::ParseError(e) => ClientError::Protocol(e.to_string()),
            other => ClientError::Unreachable {
                url: url.to_string(),
                source: Box::new(other),
            },
        }
    }
}

/// A transport failure, except that the daemon's refusal of the token (HTTP
/// 401, before any JSON-RPC is parsed) is reported as the API error it is.
pub(crate) fn transport_error(
    url: &Url,
    source: Box<dyn std::error::Error + Send + Sync>,
) -> ClientError {
    use jsonrpsee::client_transport::ws::WsHandshakeError;
    use jsonrpsee::http_client::transport::Error as HttpError;
    let refused = matches!(
        source.downcast_ref::<HttpError>(),
        Some(HttpError::Rejected { status_code: 401 })
    ) || matches!(
        source.downcast_ref::<WsHandshakeError>(),
        Some(WsHandshakeError::Rejected { status_code: 401 })
    );
    if refused {
        let code = ErrorCode::Unauthorized;
        return ClientError::Api {
            code: code.code(),
            message: code.message().to_owned(),
            data: None,
        };
    }
    ClientError::Unreachable {
        url: url.to_string(),
        source,
    }
}

/// How long a call may take before it fails.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Responses can be large (`download.list` of 1000, `rpc.discover`).
pub(crate) const MAX_MESSAGE_SIZE: u32 = 16 * 1024 * 1024;

impl Client {
    /// Connects to the daemon at `url` with `token`.
    ///
    /// `http(s)://…` calls over HTTP and connects lazily; `ws(s)://…` opens
    /// the WebSocket now and fails if the daemon is not there or refuses the
    /// token.
    pub async fn connect(url: &str, token: &str) -> Result<Client, ClientError> {
        Client::builder(url, token).connect().await
    }

    /// A client with more settings (a CA to trust), connected by
    /// [`ClientBuilder::connect`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), haul::ClientError> {
    /// let ca = std::fs::read("ca.pem").expect("the CA certificate");
    /// let client = haul::Client::builder("https://nas.lan:6801/jsonrpc", "my-token")
    ///     .ca_certificate(ca)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: &str, token: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_owned(),
            token: token.to_owned(),
            ca_certificates: Vec::new(),
        }
    }

    async fn open(
        url: &str,
        token: &str,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<Client, ClientError> {
        let parsed = Url::parse(url).map_err(|e| invalid_url(url, e.to_string()))?;
        let headers = auth_headers(token)?;
        let (transport, events_url, link) = match parsed.scheme() {
            "http" | "https" => {
                let link = link::Link::new(headers, tls, None);
                let client = link
                    .http(url)
                    .map_err(|e| invalid_url(url, e.to_string()))?;
                (Transport::Http(client), ws_url_for(&parsed)?, link)
            }
            "ws" | "wss" => {
                let link = link::Link::new(headers, tls, None);
                let client = link.ws(&parsed).await?;
                (Transport::Ws(client), parsed.clone(), link)
            }
            "unix" => {
                let path = std::path::PathBuf::from(parsed.path());
                if !path.is_absolute() {
                    return Err(invalid_url(
                        url,
                        "the socket path is not absolute (e.g. unix:/run/haul/haul.sock)".into(),
                    ));
                }
                let link = link::Link::new(headers, None, Some(path));
                let client = link.ws(&parsed).await?;
                (Transport::Ws(client), parsed.clone(), link)
            }
            other => {
                return Err(invalid_url(
                    url,
                    format!("unsupported scheme `{other}`: use http, https, ws, wss or unix"),
                ))
            }
        };
        Ok(Client {
            transport,
            url: parsed,
            events_url,
            link,
        })
    }

    /// Connects to the daemon on this machine, found as the `haul` CLI finds
    /// it: the URL is `HAUL_URL`, else `http://127.0.0.1:6801/jsonrpc`; the
    /// token is `HAUL_RPC_SECRET`, else the `rpc-secret` file the daemon
    /// wrote in its state directory (`HAUL_STATE_DIR`, else
    /// `$XDG_STATE_HOME/haul`, else `~/.local/state/haul`). Without a token
    /// it fails with [`ClientError::NoToken`], naming where it looked. See
    /// [`local`] for the parts.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), haul::ClientError> {
    /// let client = haul::Client::connect_local().await?;
    /// println!("daemon {}", client.system_get_version().await?.version);
    /// # Ok(()) }
    /// ```
    pub async fn connect_local() -> Result<Client, ClientError> {
        local::Local::find()?.connect().await
    }

    /// The daemon's notifications as a stream that survives disconnects:
    /// see [`Events`]. Equivalent to `events_with(EventsOptions::default())`.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use haul::api::Notification;
    /// use haul::client::Event;
    ///
    /// # async fn run(client: haul::Client) -> Result<(), haul::ClientError> {
    /// let mut events = client.events();
    /// while let Some(event) = events.next().await {
    ///     match event? {
    ///         Event::Notification(Notification::DownloadComplete(c)) => println!("{} saved to {}", c.gid, c.path),
    ///         Event::Notification(other) => println!("{}", other.method()),
    ///         Event::Resync(resync) => println!("{} downloads ({:?})", resync.downloads.len(), resync.reason),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> Events {
        self.events_with(EventsOptions::default())
    }

    /// The daemon's notifications, filtered and paced by `options`, over a
    /// WebSocket that reconnects by itself (or by polling, when allowed and
    /// the WebSocket cannot be opened).
    pub fn events_with(&self, options: EventsOptions) -> Events {
        Events::spawn(self.events_url.clone(), self.link.clone(), options)
    }

    /// Calls `method`; the generated per-method calls go through here.
    pub(crate) async fn call<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Option<&P>,
    ) -> Result<R, ClientError> {
        let params = match params {
            Some(p) => Some(
                serde_json::value::to_raw_value(p)
                    .map_err(|e| ClientError::Protocol(e.to_string()))?,
            ),
            None => None,
        };
        let result = match &self.transport {
            Transport::Http(c) => c.request(method, RawParams(params)).await,
            Transport::Ws(c) => c.request(method, RawParams(params)).await,
        };
        result.map_err(|e| ClientError::from_jsonrpsee(&self.url, e))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            Transport::Http(_) => "http",
            Transport::Ws(_) => "ws",
        };
        // Never the token.
        f.debug_struct("Client")
            .field("transport", &transport)
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// Params already serialised to a JSON object.
pub(crate) struct RawParams(pub(crate) Option<Box<RawValue>>);

impl ToRpcParams for RawParams {
    fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
        Ok(self.0)
    }
}

/// Decodes one WebSocket message: `Some` for a notification this SDK knows,
/// `None` for one it does not (a newer daemon's).
pub(crate) fn decode_notification(text: &str) -> Result<Option<Notification>, ClientError> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        method: Option<&'a str>,
    }
    let envelope: Envelope =
        serde_json::from_str(text).map_err(|e| ClientError::Protocol(format!("{e}: {text}")))?;
    match envelope.method {
        Some(method) if crate::api::notification::ALL.contains(&method) => {
            serde_json::from_str(text).map(Some).map_err(|e| {
                ClientError::Protocol(format!("malformed `{method}` notification: {e}"))
            })
        }
        _ => Ok(None),
    }
}

fn auth_headers(token: &str) -> Result<HeaderMap, ClientError> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| ClientError::InvalidToken)?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert("authorization", value);
    Ok(headers)
}

/// The daemon serves its WebSocket at the HTTP endpoint's path plus `/ws`.
fn ws_url_for(http: &Url) -> Result<Url, ClientError> {
    let mut url = http.clone();
    let scheme = if http.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    url.set_scheme(scheme)
        .map_err(|()| invalid_url(http.as_str(), "cannot derive its WebSocket url".into()))?;
    let path = format!("{}/ws", http.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

fn invalid_url(url: &str, reason: String) -> ClientError {
    ClientError::InvalidUrl {
        url: url.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_websocket_url_is_derived_from_the_http_one() {
        let ws = ws_url_for(&Url::parse("https://host:6801/jsonrpc").unwrap()).unwrap();
        assert_eq!(ws.as_str(), "wss://host:6801/jsonrpc/ws");
        let ws = ws_url_for(&Url::parse("http://127.0.0.1:6801/jsonrpc/").unwrap()).unwrap();
        assert_eq!(ws.as_str(), "ws://127.0.0.1:6801/jsonrpc/ws");
    }

    #[test]
    fn notifications_decode_from_their_wire_form() {
        let text = r#"{"jsonrpc":"2.0","method":"download.removed","params":{"seq":3,"streamId":"c0ffee0ddba11e57","gid":"2f1c0d9a7b3e4a51"}}"#;
        let Some(Notification::DownloadRemoved(removed)) = decode_notification(text).unwrap()
        else {
            panic!("not a download.removed notification")
        };
        assert_eq!((removed.seq, removed.gid.as_str()), (3, "2f1c0d9a7b3e4a51"));
    }

    #[test]
    fn unknown_notifications_are_skipped_and_malformed_ones_are_errors() {
        let newer = r#"{"jsonrpc":"2.0","method":"download.renamed","params":{}}"#;
        assert!(decode_notification(newer).unwrap().is_none());
        let malformed = r#"{"jsonrpc":"2.0","method":"download.removed","params":{"gid":7}}"#;
        let error = decode_notification(malformed).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "unexpected answer from the daemon: malformed `download.removed` notification"
            ),
            "{error}"
        );
    }

    #[test]
    fn api_errors_expose_their_code_and_typed_data() {
        let error = ClientError::Api {
            code: -32001,
            message: "Download not found".into(),
            data: Some(serde_json::json!({"gid": "2f1c0d9a7b3e4a51"})),
        };
        assert_eq!(error.code(), Some(ErrorCode::DownloadNotFound));
        let data: crate::api::DownloadNotFoundErrorData = error.data().unwrap();
        assert_eq!(data.gid, "2f1c0d9a7b3e4a51");
        assert_eq!(
            error.to_string(),
            r#"Download not found (code -32001, data {"gid":"2f1c0d9a7b3e4a51"})"#
        );
    }
}
