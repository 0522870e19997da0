//! The daemon's one port: routing, the Host and Origin guards, auth, and
//! jsonrpsee behind them.
//!
//! - `POST /jsonrpc`: JSON-RPC over HTTP (single calls and bounded batches).
//! - `GET /jsonrpc/ws`: JSON-RPC over WebSocket, with pushed notifications.
//! - `GET /openrpc.json`: the document; `GET /docs`: the API reference page
//!   generated from it; `GET /healthz`: liveness. No token: reading about the
//!   API is free, calling it is not.
//! - anything else: 404.
//!
//! Guards run before anything is parsed: a foreign `Origin` gets 403; on a
//! loopback bind a non-loopback `Host` gets 403 (DNS rebinding); a missing
//! or wrong token gets 401 with a JSON-RPC error body, answered more slowly
//! each time the same address fails again.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::server::{
    http, stop_channel, ws, BatchRequestConfig, ConnectionState, HttpBody, HttpRequest,
    HttpResponse, Methods, PingConfig, ServerConfig,
};
use tokio::sync::{oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

use super::auth::{offers_protocol, Access, Backoff, Gate, Token, Verdict, PROTOCOL};
use super::listen::{AllowList, Listener, Peer, Stream};
use super::params::{CheckParamsLayer, ParamsSchemas, Unanswered};
use super::push::Push;
use super::socket::{Killer, Socket};
use super::threads::Threads;
use super::tls::RpcTls;
use super::tokens::{Scope, Tokens};
use crate::api::{ErrorCode, OPENRPC_JSON};

/// The serving limits and guards; every field has a `haul daemon` flag.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Origins (`scheme://host[:port]`) allowed besides the daemon's own.
    pub allowed_origins: Vec<String>,
    /// The largest request, and the largest WebSocket message either way.
    pub max_request_size: u32,
    /// The largest response, and the largest WebSocket message either way
    /// (jsonrpsee bounds both with one setting).
    pub max_response_size: u32,
    /// The most calls in one batch.
    pub max_batch: u32,
    /// The most connections served at once.
    pub max_connections: u32,
    /// Messages buffered per connection before the daemon waits for it.
    pub connection_buffer: u32,
    /// How often WebSocket connections are pinged; one that leaves two in a
    /// row unanswered for this long each is dropped.
    pub ws_ping_interval: Duration,
    /// Threads serving connections (see [`super::threads`]).
    pub threads: usize,
    /// HTTPS and WSS instead of HTTP and WS (on TCP; a unix socket is
    /// always plain).
    pub tls: Option<Arc<RpcTls>>,
    /// The networks TCP peers must be in (`--rpc-allow-ip`).
    pub allowed_ips: AllowList,
}

/// Everything a request needs, shared by all connections.
struct Shared {
    config: ServeConfig,
    jsonrpsee: ServerConfig,
    token: Token,
    tokens: Arc<Tokens>,
    backoff: Backoff,
    methods: Methods,
    schemas: Arc<ParamsSchemas>,
    push: Push,
    /// Permits for jsonrpsee's `ConnectionState` (see `connection`).
    unbounded: Arc<Semaphore>,
    next_id: AtomicU32,
}

/// Serves on every listener until `shutdown` is cancelled, then stops
/// accepting, closes every connection and returns.
pub async fn serve(
    listeners: Vec<Listener>,
    config: ServeConfig,
    token: Token,
    tokens: Arc<Tokens>,
    mut methods: Methods,
    push: Push,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    Push::register(&mut methods);
    let jsonrpsee = ServerConfig::builder()
        .max_request_body_size(config.max_request_size)
        .max_response_body_size(config.max_response_size.max(config.max_request_size))
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch))
        .set_message_buffer_capacity(config.connection_buffer)
        .max_connections(config.max_connections)
        .enable_ws_ping(
            PingConfig::new()
                .ping_interval(config.ws_ping_interval)
                .inactive_limit(config.ws_ping_interval)
                .max_failures(2),
        )
        .build();
    let schemas = ParamsSchemas::new(
        config.max_request_size as usize,
        config.max_response_size as usize,
    );
    let shared = Arc::new(Shared {
        unbounded: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
        config,
        jsonrpsee,
        token,
        tokens,
        backoff: Backoff::new(),
        methods,
        schemas,
        push,
        next_id: AtomicU32::new(0),
    });
    let threads = Threads::start(shared.config.threads)?;
    let (stop_handle, server_handle) = stop_channel();
    // Bounds every connection, authenticated or not, from accept on.
    let open = Arc::new(Semaphore::new(shared.config.max_connections as usize));
    let accepting = listeners
        .iter()
        .map(|listener| accept(listener, &shared, &threads, &open, &stop_handle, &shutdown));
    futures::future::join_all(accepting).await;
    drop(stop_handle);
    let _ = server_handle.stop();
    // Connections close as soon as their in-flight calls are answered.
    let _ = tokio::time::timeout(Duration::from_secs(5), server_handle.stopped()).await;
    threads.stop().await;
    Ok(())
}

/// Accepts `listener`'s connections until `shutdown`, each served on a
/// serving thread.
async fn accept(
    listener: &Listener,
    shared: &Arc<Shared>,
    threads: &Threads,
    open: &Arc<Semaphore>,
    stop_handle: &jsonrpsee::server::StopHandle,
    shutdown: &CancellationToken,
) {
    let local = listener.is_local();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => return,
        };
        if !shared.config.allowed_ips.admits(peer) {
            tracing::info!(%peer, "refused a connection from outside --rpc-allow-ip");
            continue;
        }
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "refused a connection: --max-connections reached");
            tokio::spawn(refuse_busy(stream));
            continue;
        };
        // Moved to a serving thread's runtime, registered there on first poll.
        let stream = match stream.detach() {
            Ok(stream) => stream,
            Err(e) => {
                tracing::debug!(error = %e, %peer, "cannot hand a connection over");
                continue;
            }
        };
        let (shared, stop) = (shared.clone(), stop_handle.clone());
        threads.run(async move {
            let stream = match stream.attach() {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::debug!(error = %e, %peer, "cannot serve a connection");
                    return;
                }
            };
            let (socket, killer) = Socket::new(stream);
            let stopped = stop.clone().shutdown();
            // A unix socket never leaves the machine: no TLS on it.
            let tls = match peer {
                Peer::Ip(_) => shared.config.tls.clone(),
                Peer::Unix => None,
            };
            let service = tower::service_fn(move |request: HttpRequest<Incoming>| {
                let (shared, stop, killer) = (shared.clone(), stop.clone(), killer.clone());
                async move {
                    Ok::<_, Infallible>(route(shared, stop, killer, local, peer, request).await)
                }
            });
            let served = match tls {
                None => serve_connection(socket, service, stopped).await,
                Some(tls) => match tls.handshake(socket).await {
                    Ok(stream) => serve_connection(stream, service, stopped).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
}

/// How long a client may take to send a request's headers (and how long an
/// idle keep-alive connection is kept).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves one TCP connection (HTTP/1.1 or h2, with upgrades) until it ends,
/// or until `stopped`, after which in-flight requests are finished first.
pub(crate) async fn serve_connection<S, IO>(
    socket: IO,
    service: S,
    stopped: impl std::future::Future<Output = ()>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<HttpRequest<Incoming>, Response = HttpResponse, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let service = hyper_util::service::TowerToHyperService::new(service);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(socket), service);
    tokio::pin!(connection, stopped);
    tokio::select! {
        result = connection.as_mut() => result,
        () = stopped => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    }
}

async fn route(
    shared: Arc<Shared>,
    stop: jsonrpsee::server::StopHandle,
    killer: Killer,
    local: bool,
    peer: Peer,
    request: HttpRequest<Incoming>,
) -> HttpResponse {
    let allowed = &shared.config.allowed_origins;
    if let Some(refusal) = check_host_and_origin(local, allowed, &request) {
        return refusal;
    }
    // Past the check, an Origin is one the daemon allows: let its pages
    // read the answers (CORS), and answer their preflights without a token.
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = if request.method() == Method::OPTIONS {
        preflight()
    } else {
        dispatch(shared, stop, killer, peer, request).await
    };
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// The API reference page, generated from the document by `build.rs`.
const DOCS_HTML: &str = include_str!(concat!(env!("OUT_DIR"), "/api.html"));

/// A static document. The docs page is self-contained: its policy lets it
/// use its inline styles and talk to this daemon, nothing else.
fn document(body: &'static str, content_type: &'static str) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The answer to a CORS preflight.
fn preflight() -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

async fn dispatch(
    shared: Arc<Shared>,
    stop: jsonrpsee::server::StopHandle,
    killer: Killer,
    peer: Peer,
    request: HttpRequest<Incoming>,
) -> HttpResponse {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/openrpc.json") => document(OPENRPC_JSON, "application/json"),
        (&Method::GET, "/docs") => document(DOCS_HTML, "text/html; charset=utf-8"),
        (_, "/jsonrpc/ws") if ws::is_upgrade_request(&request) => {
            let access = match authenticate(&shared, peer, &request, true) {
                Ok(access) => access,
                Err(locked) => return unauthorized(locked),
            };
            websocket(shared, stop, killer, request, access).await
        }
        (_, "/jsonrpc/ws") => text(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket only\n",
        ),
        (&Method::POST, "/jsonrpc") => match authenticate(&shared, peer, &request, false) {
            Ok(access) => post(&shared, stop, request, access.scope).await,
            Err(locked) => {
                // Unread, the body would cost a keep-alive client the
                // connection, and its next request with it (see `drain`).
                let limit = shared.config.max_request_size as usize;
                drain(request.into_body(), limit).await;
                unauthorized(locked)
            }
        },
        (_, "/jsonrpc") => {
            let mut response = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "use POST for JSON-RPC over HTTP\n",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// JSON-RPC over HTTP. The body is read here rather than by jsonrpsee so
/// that the one answer jsonrpsee gets wrong can be put right with the body
/// at hand (see `invalid_request_for_json`).
async fn post(
    shared: &Shared,
    stop: jsonrpsee::server::StopHandle,
    request: HttpRequest<Incoming>,
    scope: Scope,
) -> HttpResponse {
    let limit = shared.config.max_request_size;
    if declared_length(&request).is_some_and(|length| length > u64::from(limit)) {
        return too_large(request.into_body(), limit).await;
    }
    let (parts, body) = request.into_parts();
    let body = match read_body(body, limit).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let conn = connection(shared, stop);
    let middleware = RpcServiceBuilder::new().layer(CheckParamsLayer {
        schemas: shared.schemas.clone(),
        scope,
    });
    let response = http::call_with_service_builder(
        HttpRequest::from_parts(parts, http_body_util::Full::new(body.clone())),
        shared.jsonrpsee.clone(),
        conn,
        shared.methods.clone(),
        middleware,
    )
    .await;
    if response.extensions().get::<Unanswered>().is_some() {
        let mut empty = HttpResponse::new(HttpBody::empty());
        *empty.status_mut() = StatusCode::NO_CONTENT;
        return empty;
    }
    invalid_request_for_json(response, &body).await
}

/// The whole body, or the answer when it cannot be had: over the limit
/// (a chunked body says so only as it arrives), or a broken stream.
///
/// The whitespace before the JSON is cut off: jsonrpsee looks for the
/// opening `{` or `[` in the first 128 bytes only, and would call a valid
/// request with more in front of it a parse error, which
/// `invalid_request_for_json` would then turn into an invalid request.
async fn read_body(mut body: Incoming, limit: u32) -> Result<Bytes, HttpResponse> {
    use http_body_util::{BodyExt, LengthLimitError, Limited};
    let read = Limited::new(&mut body, limit as usize).collect().await;
    match read {
        Ok(read) => {
            let body = read.to_bytes();
            let start = body
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(body.len());
            Ok(body.slice(start..))
        }
        Err(e) if e.is::<LengthLimitError>() => Err(too_large(body, limit).await),
        Err(e) => {
            // What jsonrpsee answered when it read bodies itself.
            tracing::debug!(error = %e, "cannot read a request body");
            Err(error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                None,
            ))
        }
    }
}

/// jsonrpsee answers "Parse error" to every body it cannot read a request
/// `id` from, valid JSON included (`{"jsonrpc":"2.0","method":1}`, `1`);
/// JSON-RPC calls those invalid requests. Its parse error is one fixed
/// text, so only an answer of that size is looked at and only then is the
/// body parsed again: the calls that succeed pay one length comparison.
async fn invalid_request_for_json(response: HttpResponse, body: &[u8]) -> HttpResponse {
    use http_body_util::BodyExt;
    use hyper::body::Body;
    use jsonrpsee::types::ErrorCode as JsonRpcCode;
    use std::sync::LazyLock;
    static PARSE_ERROR: LazyLock<String> =
        LazyLock::new(|| null_id_error(JsonRpcCode::ParseError.into()));
    static INVALID_REQUEST: LazyLock<String> =
        LazyLock::new(|| null_id_error(JsonRpcCode::InvalidRequest.into()));

    if response.body().size_hint().exact() != Some(PARSE_ERROR.len() as u64) || !is_json(body) {
        return response;
    }
    let (mut parts, answer) = response.into_parts();
    let answer = match answer.collect().await {
        Ok(answer) => answer.to_bytes(),
        // Never for jsonrpsee's answers, which are written whole.
        Err(_) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                None,
            )
        }
    };
    if answer != PARSE_ERROR.as_bytes() {
        return HttpResponse::from_parts(parts, HttpBody::new(http_body_util::Full::new(answer)));
    }
    // jsonrpsee's status for a body that is not a container was 400; an
    // invalid request is answered 200, as jsonrpsee answers all the others.
    parts.status = StatusCode::OK;
    HttpResponse::from_parts(parts, HttpBody::from(INVALID_REQUEST.as_str()))
}

/// Whether `body` is JSON. Checked as text first: serde_json skips over
/// strings it is not asked for without checking their UTF-8, and a body
/// that is not UTF-8 is not JSON.
fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

async fn websocket(
    shared: Arc<Shared>,
    stop: jsonrpsee::server::StopHandle,
    killer: Killer,
    request: HttpRequest<Incoming>,
    access: Access,
) -> HttpResponse {
    let via_protocol = access.via_protocol;
    // A browser fails a handshake whose answer names a protocol it did not
    // offer, or names none when it offered some: echo ours when offered.
    let offered = offers_protocol(request.headers());
    if via_protocol && !offered {
        let message = format!("offer the `{PROTOCOL}` subprotocol next to the token's\n");
        return text(StatusCode::BAD_REQUEST, &message);
    }
    let conn = connection(&shared, stop);
    let (disconnect, disconnected) = oneshot::channel();
    let middleware = RpcServiceBuilder::new()
        .layer(CheckParamsLayer {
            schemas: shared.schemas.clone(),
            scope: access.scope,
        })
        .layer(shared.push.layer(disconnect));
    let connected = ws::connect(
        request,
        shared.jsonrpsee.clone(),
        shared.methods.clone(),
        conn,
        middleware,
    )
    .await;
    match connected {
        Ok((mut response, connection)) => {
            // A named token's: never revoked, for the daemon's own.
            let revoked = access.revoked.unwrap_or_default();
            tokio::spawn(async move {
                tokio::select! {
                    () = connection => {}
                    // The client stopped reading: cut the socket, which ends
                    // every task still waiting on it and frees its buffers.
                    Ok(()) = disconnected => killer.kill(),
                    // Its token was revoked: it may not go on listening.
                    () = revoked.cancelled() => killer.kill(),
                }
            });
            if offered {
                let protocol = HeaderValue::from_static(PROTOCOL);
                response
                    .headers_mut()
                    .insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
            }
            response
        }
        Err(response) => response,
    }
}

/// jsonrpsee's per-call state. Its permit bounds nothing: connections are
/// bounded once, at accept (`--max-connections`).
fn connection(shared: &Shared, stop: jsonrpsee::server::StopHandle) -> ConnectionState {
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let permit = shared
        .unbounded
        .clone()
        .try_acquire_owned()
        .expect("in-flight calls never exhaust a semaphore of MAX_PERMITS");
    ConnectionState::new(stop, id, permit)
}

/// What the request may do when it carries a token; else how long its
/// address is locked out: a wrong token locks it out, and a request
/// during a lockout is refused without its token being looked at.
fn authenticate(
    shared: &Shared,
    peer: Peer,
    request: &HttpRequest<Incoming>,
    upgrade: bool,
) -> Result<Access, Duration> {
    let remote = peer.ip();
    if let Gate::Locked(left) = shared.backoff.gate(remote) {
        return Err(left);
    }
    match shared
        .token
        .check(request.headers(), upgrade, Some(&shared.tokens))
    {
        Verdict::Allowed(access) => {
            shared.backoff.succeeded(remote);
            Ok(access)
        }
        Verdict::Refused => {
            let locked = shared.backoff.failed(remote);
            tracing::info!(%peer, ?locked, path = request.uri().path(), "refused a request without the right token");
            Err(locked)
        }
    }
}

fn declared_length(request: &HttpRequest<Incoming>) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// 413 for a body that says it is over the limit, after reading (a bounded
/// part of) it.
async fn too_large(body: Incoming, limit: u32) -> HttpResponse {
    drain(body, 64 * 1024 * 1024).await;
    let data = format!("Exceeded max limit of {limit}");
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RequestTooLarge,
        Some(&data),
    )
}

/// Reads and drops up to `at_most` bytes of a body the answer does not
/// need. hyper closes a connection whose request body was left unread, and
/// without saying so in the answer: a client still sending sees a reset
/// instead of the answer, and a keep-alive client loses its next request.
async fn drain(mut body: Incoming, at_most: usize) {
    use http_body_util::BodyExt;
    let mut drained = 0;
    while drained < at_most {
        match body.frame().await {
            Some(Ok(frame)) => drained += frame.data_ref().map_or(0, |data| data.len()),
            _ => break,
        }
    }
}

/// A JSON-RPC error with `id` null, written the way jsonrpsee writes its own.
fn error_body(code: ErrorCode, data: Option<&str>) -> String {
    null_id_error(jsonrpsee::types::ErrorObject::owned(
        code.code(),
        code.message(),
        data,
    ))
}

fn null_id_error(error: jsonrpsee::types::ErrorObjectOwned) -> String {
    use jsonrpsee::types::{Id, Response, ResponsePayload};
    serde_json::to_string(&Response::new(
        ResponsePayload::<()>::error(error),
        Id::Null,
    ))
    .unwrap_or_default()
}

/// Answers a connection over `--max-connections` with 503 and the
/// contract's ServerBusy error, without reading it, and closes it.
async fn refuse_busy(mut stream: Stream) {
    use tokio::io::AsyncWriteExt;
    let body = error_body(ErrorCode::ServerBusy, Some("too many connections"));
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// A JSON-RPC error answered before jsonrpsee saw the request.
fn error_response(status: StatusCode, code: ErrorCode, data: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(error_body(code, data)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 401 with the JSON-RPC error a client library can show, and when the
/// address may try again (whole seconds, as Retry-After has them).
fn unauthorized(locked: Duration) -> HttpResponse {
    let mut response = error_response(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, None);
    let headers = response.headers_mut();
    headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    if !locked.is_zero() {
        let seconds = locked.as_millis().div_ceil(1000).max(1);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds as u64));
    }
    response
}

/// The refusal for a request whose Host or Origin is not acceptable, on a
/// port bound to loopback (`loopback`) or beyond, which `allowed_origins`
/// may call besides its own pages.
pub(crate) fn check_host_and_origin(
    loopback: bool,
    allowed_origins: &[String],
    request: &HttpRequest<Incoming>,
) -> Option<HttpResponse> {
    // HTTP/2 (over TLS, by ALPN) names the host in the `:authority`,
    // which hyper puts in the URI instead of a Host header.
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default();
    if loopback && !is_loopback_host(host) {
        return Some(text(
            StatusCode::FORBIDDEN,
            &format!(
                "host `{host}` is not a loopback name: this daemon only answers to localhost\n"
            ),
        ));
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        // A page the daemon served itself. Only on loopback, where the Host
        // check above makes `host` trustworthy (DNS rebinding).
        let same_origin = loopback
            && origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
        if !same_origin
            && !allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
        {
            return Some(text(
                StatusCode::FORBIDDEN,
                &format!("origin `{origin}` is not allowed\nhint: start the daemon with --allow-origin {origin}\n"),
            ));
        }
    }
    None
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn text(status: StatusCode, body: &str) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_names_pass_the_host_check() {
        for host in [
            "localhost",
            "localhost:6801",
            "127.0.0.1:6801",
            "127.1.2.3",
            "[::1]:6801",
            "[::1]",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:6801",
            "192.168.1.2:6801",
            "localhost.evil.example",
            "[::2]:1",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
