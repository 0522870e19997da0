//! The aria2 port (`haul daemon --aria2-listen`), where aria2 clients look:
//!
//! - `POST /jsonrpc`: a call or a batch, whatever the Content-Type.
//! - `GET /jsonrpc?method=…&id=…&params=<base64>` (with `jsoncallback=`
//!   for JSONP); without `method`, `params` is a batch.
//! - `GET /jsonrpc` with an upgrade: the WebSocket, for calls and aria2's
//!   notifications.
//! - `OPTIONS`: CORS preflights, answered as aria2 answers them.
//!
//! The main port's Host and Origin guards run first (`--allow-origin` lets
//! a web UI served from elsewhere in); the token is aria2's, inside each
//! call (`methods`).

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use serde_json::Value;
use tokio::sync::{broadcast, Semaphore};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::rpc::listen::{AllowList, Listener};
use crate::rpc::server::{check_host_and_origin, serve_connection, text};
use crate::rpc::socket::Socket;
use crate::rpc::tls::RpcTls;

use super::Aria2;

/// The port's limits and guards, from `haul daemon`'s flags.
#[derive(Debug, Clone)]
pub struct Aria2Config {
    /// Origins (`scheme://host[:port]`) whose pages may call the port.
    pub allowed_origins: Vec<String>,
    /// The largest request body or WebSocket message.
    pub max_request_size: u32,
    /// The most connections served at once.
    pub max_connections: u32,
    /// HTTPS and WSS (aria2's `--rpc-secure`), on the main port's certificate.
    pub tls: Option<Arc<RpcTls>>,
    /// The networks peers must be in (`--rpc-allow-ip`).
    pub allowed_ips: AllowList,
}

struct Door {
    aria2: Arc<Aria2>,
    config: Aria2Config,
    loopback: bool,
    shutdown: CancellationToken,
}

/// A WebSocket client that takes longer than this to read a frame is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves the aria2 port until `shutdown` is cancelled.
pub async fn serve(
    listener: Listener,
    aria2: Arc<Aria2>,
    config: Aria2Config,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let loopback = listener.is_local();
    let open = Arc::new(Semaphore::new(config.max_connections as usize));
    let door = Arc::new(Door {
        aria2,
        config,
        loopback,
        shutdown: shutdown.clone(),
    });
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept an aria2 connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => return Ok(()),
        };
        if !door.config.allowed_ips.admits(peer) {
            tracing::info!(%peer, "refused an aria2 connection from outside --rpc-allow-ip");
            continue;
        }
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "refused an aria2 connection: --max-connections reached");
            continue;
        };
        let door = door.clone();
        tokio::spawn(async move {
            let (socket, _killer) = Socket::new(stream);
            let stopped = door.shutdown.clone().cancelled_owned();
            let tls = door.config.tls.clone();
            let service = tower::service_fn(move |request: HttpRequest<Incoming>| {
                let door = door.clone();
                async move { Ok::<_, Infallible>(route(door, peer.ip(), request).await) }
            });
            let served = match tls {
                None => serve_connection(socket, service, stopped).await,
                Some(tls) => match tls.handshake(socket).await {
                    Ok(stream) => serve_connection(stream, service, stopped).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "aria2 connection ended with an error");
            }
            drop(permit);
        });
    }
}

async fn route(door: Arc<Door>, remote: IpAddr, request: HttpRequest<Incoming>) -> HttpResponse {
    if let Some(refusal) =
        check_host_and_origin(door.loopback, &door.config.allowed_origins, &request)
    {
        return refusal;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = if request.uri().path() != "/jsonrpc" {
        empty(StatusCode::NOT_FOUND)
    } else {
        match *request.method() {
            Method::OPTIONS => preflight(&request),
            Method::GET if is_upgrade(&request) => websocket(door, remote, request),
            Method::GET => get(&door, remote, &request).await,
            Method::POST => post(&door, remote, request).await,
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "use POST or GET\n"),
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(origin) = origin {
        // Past the guard, the origin is allowed.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

fn empty(status: StatusCode) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::empty());
    *response.status_mut() = status;
    response
}

/// aria2's preflight answer: 200, the methods, the asked-for headers.
fn preflight(request: &HttpRequest<Incoming>) -> HttpResponse {
    let mut response = empty(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("1728000"),
    );
    if let Some(asked) = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    response
}

fn json(status: StatusCode, body: String) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json-rpc"),
    );
    response
}

async fn post(door: &Door, remote: IpAddr, request: HttpRequest<Incoming>) -> HttpResponse {
    use http_body_util::{BodyExt, Limited};
    let limit = door.config.max_request_size as usize;
    let body = match Limited::new(request.into_body(), limit).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the request is over {limit} bytes\n"),
            )
        }
    };
    let (status, answer) = door.aria2.answer(&body, remote).await;
    json(status, answer.to_string())
}

/// A call in the query string: what aria2's GET interface takes, for
/// clients that cannot POST (and JSONP pages).
async fn get(door: &Door, remote: IpAddr, request: &HttpRequest<Incoming>) -> HttpResponse {
    let query = request.uri().query().unwrap_or_default();
    let (mut method, mut id, mut params, mut callback) = (None, None, None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "method" => method = Some(value.into_owned()),
            "id" => id = Some(value.into_owned()),
            "params" => params = Some(value.into_owned()),
            "jsoncallback" => callback = Some(value.into_owned()),
            _ => {}
        }
    }
    if callback.as_deref().is_some_and(|c| {
        c.is_empty()
            || !c
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.$".contains(&b))
    }) {
        return text(
            StatusCode::BAD_REQUEST,
            "jsoncallback must be a JavaScript name\n",
        );
    }
    let params = match params.as_deref().map(decode_params) {
        None => None,
        Some(Some(params)) => Some(params),
        // What aria2 answers to params it cannot decode.
        Some(None) => {
            let fault = super::wire::Fault::invalid_request();
            let answer = super::wire::answer(Value::Null, Err(fault.clone()));
            return json(fault.status(), answer.to_string());
        }
    };
    let body = match method {
        // Without a method, `params` is a batch.
        None => params.unwrap_or(Value::Null),
        Some(method) => {
            let mut call = serde_json::Map::new();
            call.insert("method".into(), method.into());
            if let Some(id) = id {
                call.insert("id".into(), id.into());
            }
            if let Some(params) = params {
                call.insert("params".into(), params);
            }
            Value::Object(call)
        }
    };
    let (status, answer) = door.aria2.answer(body.to_string().as_bytes(), remote).await;
    match callback {
        None => json(status, answer.to_string()),
        Some(callback) => {
            let mut response = HttpResponse::new(HttpBody::from(format!("{callback}({answer})")));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript"),
            );
            response
        }
    }
}

/// `params=`: base64 of JSON. A `+` that reached us unescaped arrives as a
/// space, which base64 never has.
fn decode_params(text: &str) -> Option<Value> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        general_purpose::GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let text = text.replace(' ', "+");
    let bytes = LENIENT.decode(text.trim()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn is_upgrade(request: &HttpRequest<Incoming>) -> bool {
    let has = |name, token: &str| {
        request.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "websocket")
}

fn websocket(door: Arc<Door>, remote: IpAddr, mut request: HttpRequest<Incoming>) -> HttpResponse {
    let Some(key) = request.headers().get(header::SEC_WEBSOCKET_KEY) else {
        return text(StatusCode::BAD_REQUEST, "no Sec-WebSocket-Key\n");
    };
    let accept = derive_accept_key(key.as_bytes());
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                tracing::debug!(error = %e, %remote, "aria2 WebSocket upgrade failed");
                return;
            }
        };
        let limit = door.config.max_request_size as usize;
        let config = WebSocketConfig::default()
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit));
        let socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
            hyper_util::rt::TokioIo::new(upgraded),
            Role::Server,
            Some(config),
        )
        .await;
        serve_socket(&door, remote, socket).await;
    });
    let mut response = empty(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// One aria2 WebSocket: calls answered in order, and every notification,
/// to every socket, authenticated or not, as aria2 does (aria2p listens on
/// a socket it never calls on; a notification carries only a gid).
async fn serve_socket<S>(door: &Door, remote: IpAddr, socket: tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let mut notifications = door.aria2.notifications.subscribe();
    loop {
        let frame: String = tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    door.aria2.answer(text.as_bytes(), remote).await.1.to_string()
                }
                Some(Ok(Message::Binary(bytes))) => {
                    door.aria2.answer(&bytes, remote).await.1.to_string()
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                // Pongs are queued by the reader and flushed with the next frame.
                Some(Ok(_)) => {
                    let _ = sink.flush().await;
                    continue;
                }
            },
            notification = notifications.recv() => match notification {
                Ok(frame) => frame.to_string(),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(%remote, missed, "an aria2 WebSocket fell behind its notifications");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = door.shutdown.cancelled() => {
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
        };
        let sent = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::text(frame))).await;
        if !matches!(sent, Ok(Ok(()))) {
            tracing::debug!(%remote, "dropped an aria2 WebSocket that stopped reading");
            break;
        }
    }
}
