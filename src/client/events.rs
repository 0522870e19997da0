//! The event stream that survives disconnects.
//!
//! A background task keeps a WebSocket open: it subscribes (`events.subscribe`)
//! with the last `seq` it delivered, drops what arrives before the answer
//! (the replay that follows it repeats those), delivers each notification
//! once, and when the connection drops it reconnects with exponential
//! backoff and jitter. When the daemon cannot replay (it restarted, or the
//! client was away longer than its window) the stream yields a [`Resync`]
//! with every download's current state, then continues. When the WebSocket
//! cannot be opened at all (something in between refuses the upgrade) and
//! [`EventsOptions::polling`] allows it, the stream polls `events.poll` over
//! HTTP instead and delivers the same notifications (see `poll`).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use jsonrpsee::client_transport::ws::WsHandshakeError;
use jsonrpsee::core::client::{ReceivedMessage, TransportReceiverT, TransportSenderT};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::link::{Link, UNIX_WS_URL};
use super::{decode_notification, poll, transport_error, ClientError};
use crate::api::{
    method, DownloadStatus, ErrorCode, EventStream, EventsUnavailableErrorData, Gid, Notification,
    NotificationKind,
};
use crate::backoff::Backoff;

/// What to stream, and how to keep it going.
#[derive(Debug, Clone)]
pub struct EventsOptions {
    /// Only notifications about these downloads.
    pub gids: Option<Vec<Gid>>,
    /// Only these notifications.
    pub kinds: Option<Vec<NotificationKind>>,
    /// At least this many milliseconds (≥ 100) between two progress
    /// notifications of one download.
    pub progress_interval: Option<u32>,
    /// The first wait before reconnecting; it doubles (with jitter) up to
    /// `max_backoff` while the daemon stays away.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Poll `events.poll` at this interval when the WebSocket cannot be
    /// opened at all; `None` never polls.
    pub polling: Option<Duration>,
    /// After this long without a message the stream pings the daemon; a
    /// connection still silent as long again is replaced (a network that
    /// vanished without closing it, a laptop that slept).
    pub liveness: Duration,
}

impl Default for EventsOptions {
    fn default() -> Self {
        EventsOptions {
            gids: None,
            kinds: None,
            progress_interval: None,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            polling: None,
            liveness: Duration::from_secs(30),
        }
    }
}

/// One item of the stream.
#[derive(Debug, Clone)]
pub enum Event {
    /// A notification, delivered once, in the daemon's order.
    Notification(Notification),
    /// Notifications were lost for good; here is the state of every download
    /// instead. Notifications after it continue from that state.
    Resync(Resync),
}

#[derive(Debug, Clone)]
pub struct Resync {
    pub reason: ResyncReason,
    /// Every download the daemon keeps (filtered by `gids`, if given).
    pub downloads: Vec<DownloadStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResyncReason {
    /// The daemon restarted: its notification stream is a new one.
    Restarted,
    /// The client was away longer than the daemon's replay window.
    WindowExceeded,
    /// The stream switched to polling; this is the first state it polled.
    Polling,
}

/// How the stream is getting its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsMode {
    /// Not connected (yet, or again).
    Connecting,
    WebSocket,
    /// Polling `events.poll` over HTTP: the same notifications, a poll
    /// interval later.
    Polling,
}

/// The daemon's notifications, delivered once each and in order across
/// reconnects (see the module docs). Ends after an error it cannot recover
/// from (a refused token); dropping it closes the connection.
pub struct Events {
    receiver: mpsc::Receiver<Result<Event, ClientError>>,
    mode: Arc<AtomicU8>,
    first: Option<oneshot::Receiver<Result<(), ClientError>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Events {
    pub(super) fn spawn(url: Url, link: Link, options: EventsOptions) -> Events {
        let (sender, receiver) = mpsc::channel(256);
        let mode = Arc::new(AtomicU8::new(EventsMode::Connecting as u8));
        let (first_tx, first) = oneshot::channel();
        let task = Task {
            url,
            link,
            options,
            out: sender,
            mode: mode.clone(),
            first: Mutex::new(Some(first_tx)),
        };
        Events {
            receiver,
            mode,
            first: Some(first),
            task: tokio::spawn(task.run()),
        }
    }

    /// Waits for the first connection attempt: `Ok` once notifications flow
    /// (nothing the daemon sends after this is missed), else that attempt's
    /// error. The stream keeps retrying either way.
    pub async fn ready(&mut self) -> Result<(), ClientError> {
        match self.first.take() {
            Some(first) => first.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }

    /// How the stream gets its events right now.
    pub fn mode(&self) -> EventsMode {
        match self.mode.load(Ordering::Relaxed) {
            1 => EventsMode::WebSocket,
            2 => EventsMode::Polling,
            _ => EventsMode::Connecting,
        }
    }
}

impl Stream for Events {
    type Item = Result<Event, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("mode", &self.mode())
            .finish_non_exhaustive()
    }
}

pub(super) struct Task {
    pub(super) url: Url,
    pub(super) link: Link,
    pub(super) options: EventsOptions,
    pub(super) out: mpsc::Sender<Result<Event, ClientError>>,
    pub(super) mode: Arc<AtomicU8>,
    /// Told the outcome of the first attempt, for [`Events::ready`].
    first: Mutex<Option<oneshot::Sender<Result<(), ClientError>>>>,
}

/// Why a connection could not be used.
enum Failure {
    /// Give up: the stream ends with this error.
    Fatal(ClientError),
    /// Something answered the upgrade with plain HTTP: polling may help.
    Refused(ClientError),
    /// Try again later.
    Retry(ClientError),
}

/// The last notification delivered: its stream and `seq`.
type Position = Option<(String, u64)>;

impl Task {
    async fn run(self) {
        let mut position: Position = None;
        let mut resync: Option<ResyncReason> = None;
        let mut backoff = Backoff::new(self.options.initial_backoff, self.options.max_backoff);
        loop {
            let builder = self.link.ws_transport();
            let result = match &self.link.unix {
                None => {
                    let built = builder.build(self.url.clone()).await;
                    self.session(built, &mut position, &mut resync, &mut backoff)
                        .await
                }
                Some(path) => match self.link.unix_stream(&self.url, path).await {
                    Ok(stream) => {
                        let url = Url::parse(UNIX_WS_URL).expect("a valid URL");
                        let built = builder.build_with_stream(url, stream).await;
                        self.session(built, &mut position, &mut resync, &mut backoff)
                            .await
                    }
                    Err(e) => Err(Failure::Retry(e)),
                },
            };
            self.set_mode(EventsMode::Connecting);
            match result {
                // The reader went away.
                Ok(()) => return,
                Err(Failure::Fatal(e)) => {
                    self.tell_first(Err(&e));
                    let _ = self.out.send(Err(e)).await;
                    return;
                }
                // Polling is HTTP over TCP: not for a unix socket.
                Err(Failure::Refused(e))
                    if self.options.polling.is_some()
                        && position.is_none()
                        && self.link.unix.is_none() =>
                {
                    tracing_debug(&e);
                    self.set_mode(EventsMode::Polling);
                    return poll::run(&self).await;
                }
                Err(Failure::Refused(e) | Failure::Retry(e)) => {
                    tracing_debug(&e);
                    self.tell_first(Err(&e));
                }
            }
            let wait = backoff.next_delay().expect("an unlimited backoff");
            tokio::time::sleep(wait).await;
        }
    }

    /// Serves on a WebSocket just opened (or not: then why).
    async fn session<S: TransportSenderT, R: TransportReceiverT + Send>(
        &self,
        built: Result<(S, R), WsHandshakeError>,
        position: &mut Position,
        resync: &mut Option<ResyncReason>,
        backoff: &mut Backoff,
    ) -> Result<(), Failure> {
        let mut conn = connected(&self.url, built)?;
        self.serve(&mut conn, position, resync, backoff).await
    }

    /// Subscribes on `conn` and delivers until it drops (`Err`) or the reader
    /// goes away (`Ok`).
    async fn serve<S: TransportSenderT>(
        &self,
        conn: &mut Connection<S>,
        position: &mut Position,
        resync: &mut Option<ResyncReason>,
        backoff: &mut Backoff,
    ) -> Result<(), Failure> {
        let liveness = self.options.liveness;
        let subscribed = conn
            .request::<EventStream>(
                method::EVENTS_SUBSCRIBE,
                self.subscribe_params(position.as_ref()),
                false,
                liveness,
            )
            .await;
        let stream = match subscribed {
            Ok(stream) => stream,
            Err(Failure::Fatal(e)) if e.code() == Some(ErrorCode::EventsUnavailable) => {
                let data: Option<EventsUnavailableErrorData> = e.data();
                let restarted = match (&data, position.as_ref()) {
                    (Some(data), Some((stream_id, _))) => data.stream_id != *stream_id,
                    _ => true,
                };
                *resync = Some(if restarted {
                    ResyncReason::Restarted
                } else {
                    ResyncReason::WindowExceeded
                });
                *position = None;
                conn.request::<EventStream>(
                    method::EVENTS_SUBSCRIBE,
                    self.subscribe_params(None),
                    false,
                    liveness,
                )
                .await?
            }
            Err(e) => return Err(e),
        };
        if position.is_none() {
            *position = Some((stream.stream_id.clone(), stream.seq));
        }
        self.set_mode(EventsMode::WebSocket);
        self.tell_first(Ok(()));
        backoff.reset();
        if let Some(reason) = *resync {
            // Notifications that arrive meanwhile wait in the backlog, after it.
            let mut pages = poll::Pages::default();
            loop {
                let page = conn
                    .request(method::DOWNLOAD_LIST, pages.params(), true, liveness)
                    .await?;
                if pages.add(page) {
                    break;
                }
            }
            let downloads = pages.finish(self.options.gids.as_deref());
            if self
                .out
                .send(Ok(Event::Resync(Resync { reason, downloads })))
                .await
                .is_err()
            {
                return Ok(());
            }
            *resync = None;
        }
        loop {
            let text = conn.next_notification(self.options.liveness).await?;
            let Some((stream_id, seq)) = stamp(&text) else {
                continue;
            };
            if let Some((last_stream, last_seq)) = position.as_ref() {
                if *last_stream == stream_id && seq <= *last_seq {
                    continue;
                }
            }
            *position = Some((stream_id, seq));
            let event = match decode_notification(&text) {
                Ok(Some(n)) => Ok(Event::Notification(n)),
                Ok(None) => continue,
                Err(e) => Err(e),
            };
            if self.out.send(event).await.is_err() {
                return Ok(());
            }
        }
    }

    fn subscribe_params(&self, position: Option<&(String, u64)>) -> Value {
        let mut params = json!({});
        if let Some((stream_id, seq)) = position {
            params["since"] = json!(seq);
            params["streamId"] = json!(stream_id);
        }
        if let Some(gids) = &self.options.gids {
            params["gids"] = json!(gids);
        }
        if let Some(kinds) = &self.options.kinds {
            params["kinds"] = json!(kinds);
        }
        if let Some(ms) = self.options.progress_interval {
            params["progressInterval"] = json!(ms);
        }
        params
    }

    /// Hands the first attempt's outcome to [`Events::ready`].
    pub(super) fn tell_first(&self, outcome: Result<(), &ClientError>) {
        if let Some(first) = self.first.lock().ok().and_then(|mut f| f.take()) {
            let _ = first.send(outcome.map_err(ClientError::duplicate));
        }
    }

    pub(super) fn set_mode(&self, mode: EventsMode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }
}

/// Why the stream reconnects, in the daemon's log when the CLI uses the SDK;
/// the SDK alone (feature `client`) has no logger and stays quiet.
fn tracing_debug(error: &ClientError) {
    #[cfg(feature = "server")]
    tracing::debug!(%error, "event stream: reconnecting");
    #[cfg(not(feature = "server"))]
    let _ = error;
}

/// A notification's `streamId` and `seq`.
fn stamp(text: &str) -> Option<(String, u64)> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        stream_id: String,
        seq: u64,
    }
    #[derive(serde::Deserialize)]
    struct Message {
        params: Params,
    }
    let m: Message = serde_json::from_str(text).ok()?;
    Some((m.params.stream_id, m.params.seq))
}

/// One WebSocket with its own requests: answers matched by id,
/// notifications kept (or dropped) meanwhile. A task reads the socket into a
/// channel, so waiting for a message can stop at any time without losing
/// part of one.
struct Connection<S> {
    url: Url,
    sender: S,
    incoming: mpsc::Receiver<Result<Incoming, ClientError>>,
    reader: tokio::task::AbortHandle,
    next_id: u64,
    backlog: VecDeque<String>,
}

enum Incoming {
    Text(String),
    /// A pong, or a binary frame: the connection is alive.
    Alive,
}

impl<S> Drop for Connection<S> {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A connection over a WebSocket just opened, its reader started; or why
/// it could not be opened, judged for what to do next.
fn connected<S: TransportSenderT, R: TransportReceiverT + Send>(
    url: &Url,
    built: Result<(S, R), WsHandshakeError>,
) -> Result<Connection<S>, Failure> {
    match built {
        Ok((sender, mut receiver)) => {
            let (tx, incoming) = mpsc::channel(64);
            let reader_url = url.to_string();
            let reader = tokio::spawn(async move {
                loop {
                    let message = match receiver.receive().await {
                        Ok(ReceivedMessage::Text(text)) => Ok(Incoming::Text(text)),
                        Ok(ReceivedMessage::Bytes(_) | ReceivedMessage::Pong) => {
                            Ok(Incoming::Alive)
                        }
                        Err(e) => Err(ClientError::Unreachable {
                            url: reader_url.clone(),
                            source: Box::new(e),
                        }),
                    };
                    let end = message.is_err();
                    if tx.send(message).await.is_err() || end {
                        return;
                    }
                }
            });
            Ok(Connection {
                url: url.clone(),
                sender,
                incoming,
                reader: reader.abort_handle(),
                next_id: 1,
                backlog: VecDeque::new(),
            })
        }
        Err(e) => {
            let refused = match &e {
                WsHandshakeError::Rejected { status_code } => Some(*status_code),
                _ => None,
            };
            let error = transport_error(url, Box::new(e));
            Err(match refused {
                Some(401) => Failure::Fatal(error),
                // The daemon at its --max-connections: it will have room again.
                Some(503) | None => Failure::Retry(error),
                Some(_) => Failure::Refused(error),
            })
        }
    }
}

impl<S: TransportSenderT> Connection<S> {
    /// Calls `method` on this socket. Notifications that arrive before the
    /// answer are kept for later when `keep` holds, else dropped.
    async fn request<T: DeserializeOwned>(
        &mut self,
        method: &str,
        params: Value,
        keep: bool,
        liveness: Duration,
    ) -> Result<T, Failure> {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.sender
            .send(request.to_string())
            .await
            .map_err(|e| Failure::Retry(self.broken(e)))?;
        loop {
            let text = self.receive(liveness).await?;
            let message: Value = serde_json::from_str(&text)
                .map_err(|e| Failure::Retry(ClientError::Protocol(format!("{e}: {text}"))))?;
            if message.get("id") != Some(&json!(id)) {
                if keep && message.get("method").is_some() {
                    self.backlog.push_back(text);
                }
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(Failure::Fatal(ClientError::Api {
                    code: error["code"].as_i64().unwrap_or_default() as i32,
                    message: error["message"].as_str().unwrap_or_default().to_owned(),
                    data: error.get("data").cloned(),
                }));
            }
            return serde_json::from_value(message["result"].clone())
                .map_err(|e| Failure::Retry(ClientError::Protocol(format!("{e}: {text}"))));
        }
    }

    /// The next notification: the backlog's first, else the socket's next.
    async fn next_notification(&mut self, liveness: Duration) -> Result<String, Failure> {
        match self.backlog.pop_front() {
            Some(text) => Ok(text),
            None => self.receive(liveness).await,
        }
    }

    /// The next text message. After `liveness` of silence it pings; silent
    /// as long again, the connection counts as dead.
    async fn receive(&mut self, liveness: Duration) -> Result<String, Failure> {
        let mut pinged = false;
        loop {
            match tokio::time::timeout(liveness, self.incoming.recv()).await {
                Ok(Some(Ok(Incoming::Text(text)))) => return Ok(text),
                Ok(Some(Ok(Incoming::Alive))) => pinged = false,
                Ok(Some(Err(e))) => return Err(Failure::Retry(e)),
                Ok(None) => {
                    let closed = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
                    return Err(Failure::Retry(self.broken(closed)));
                }
                Err(_) if !pinged => {
                    self.sender
                        .send_ping()
                        .await
                        .map_err(|e| Failure::Retry(self.broken(e)))?;
                    pinged = true;
                }
                Err(_) => return Err(Failure::Retry(self.broken(Silent(liveness)))),
            }
        }
    }

    fn broken(&self, e: impl std::error::Error + Send + Sync + 'static) -> ClientError {
        ClientError::Unreachable {
            url: self.url.to_string(),
            source: Box::new(e),
        }
    }
}

/// Why a connection was given up without an error from the socket.
#[derive(Debug)]
struct Silent(Duration);

impl std::fmt::Display for Silent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no answer to a ping within {:?}", self.0)
    }
}

impl std::error::Error for Silent {}
