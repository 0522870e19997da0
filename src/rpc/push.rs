//! Push notifications to every authenticated WebSocket connection, as plain
//! JSON-RPC notifications (`{"jsonrpc":"2.0","method":…,"params":…}`).
//!
//! jsonrpsee has no broadcast API, but it hands a connection's own outgoing
//! sink to subscription callbacks. So each WebSocket connection makes one
//! internal call ([`ATTACH_METHOD`], marked by a private type in its
//! extensions; the params layer answers "method not found" to clients who
//! try it) whose callback gives the sink to a forwarder. Responses and
//! notifications share that sink, so jsonrpsee's ordering, buffers, pings
//! and limits all still apply.
//!
//! Every notification is serialised once into a bounded broadcast ring that
//! all connections read. A connection's forwarder drains what is ready and
//! drops progress superseded by newer progress of the same download, so a
//! slow reader gets the latest values, not a backlog (`seq` then skips the
//! dropped progress). State changes are never dropped: a client whose
//! buffer stays full for [`PushConfig::send_timeout`], or that falls more
//! than the ring's capacity behind, is disconnected.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};
use jsonrpsee::core::middleware::{Batch, Notification as RpcNotification, RpcServiceT};
use jsonrpsee::server::{MethodCallback, MethodSink, Methods, ResponsePayload, TrySendError};
use jsonrpsee::types::{ErrorCode, ErrorObjectOwned, Id, Request};
use jsonrpsee::MethodResponse;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::api::{
    errors, method, EventPoll, EventStream, EventsSubscribeParams, Gid, Notification,
    NotificationKind, StreamId,
};

use super::params::{FromNotification, InBatch};
use super::window::{Pushed, Window};
use crate::engine::coalesce::CoalescingLog;

/// What an `events.poll` call asks for.
pub struct Poll {
    pub since: Option<u64>,
    pub stream_id: Option<StreamId>,
    pub limit: usize,
    pub gids: Option<Vec<Gid>>,
    pub kinds: Option<Vec<NotificationKind>>,
}

/// The internal method through which a connection hands over its sink.
pub const ATTACH_METHOD: &str = "haul.internal.attach";

#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Notifications kept for connections that are behind; a connection
    /// further behind than this is disconnected.
    pub ring_capacity: usize,
    /// How long a connection's buffer may stay full before it is dropped.
    pub send_timeout: Duration,
    /// Notifications kept for replay to reconnecting clients.
    pub window: usize,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            ring_capacity: 4096,
            send_timeout: Duration::from_secs(30),
            window: 10_000,
        }
    }
}

/// The notification hub: stamps `seq` and `streamId`, serialises once,
/// keeps the replay window, fans out to every attached connection.
#[derive(Clone)]
pub struct Push {
    inner: Arc<Inner>,
}

struct Inner {
    ring: broadcast::Sender<Pushed>,
    stream_id: String,
    /// Held while publishing, so ring order, window order and seq agree.
    state: Mutex<State>,
    send_timeout: Duration,
    /// The most notifications one connection may have waiting.
    pending_limit: usize,
}

struct State {
    /// The last `seq` given out.
    seq: u64,
    window: Window,
}

impl Push {
    pub fn new(config: &PushConfig) -> Push {
        let (ring, _) = broadcast::channel(config.ring_capacity.max(1));
        let stream_id = hex::encode(rand::random::<[u8; 8]>());
        Push {
            inner: Arc::new(Inner {
                ring,
                stream_id,
                state: Mutex::new(State {
                    seq: 0,
                    window: Window::new(config.window),
                }),
                send_timeout: config.send_timeout,
                // A replay may queue the whole window at once.
                pending_limit: config.ring_capacity.max(1) + config.window,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends the notification `make` builds from the next `seq` and the
    /// stream id to every attached connection, and keeps it for replay.
    pub fn publish(&self, make: impl FnOnce(u64, String) -> Option<Notification>) {
        let mut state = self.state();
        let seq = state.seq + 1;
        // An event the API tells nothing of takes no number.
        let Some(notification) = make(seq, self.inner.stream_id.clone()) else {
            return;
        };
        state.seq = seq;
        #[derive(serde::Serialize)]
        struct Wire<'a> {
            jsonrpc: &'static str,
            #[serde(flatten)]
            notification: &'a Notification,
        }
        let json = match serde_json::value::to_raw_value(&Wire {
            jsonrpc: "2.0",
            notification: &notification,
        }) {
            Ok(json) => json,
            Err(e) => {
                tracing::error!(error = %e, method = notification.method(), "cannot serialise a notification");
                return;
            }
        };
        let pushed = Pushed {
            seq,
            kind: notification.method(),
            gid: Arc::from(gid_of(&notification)),
            progress: matches!(notification, Notification::DownloadProgress(_)),
            json: Arc::from(json),
        };
        state.window.push(pushed.clone());
        // No receivers means no connections: nothing more to do.
        let _ = self.inner.ring.send(pushed);
    }

    /// Where the stream stands.
    fn stream(&self, state: &State) -> EventStream {
        EventStream {
            stream_id: self.inner.stream_id.clone(),
            seq: state.seq,
            oldest_seq: state.window.oldest_seq(),
        }
    }

    /// Where the stream stands and, with `since`, the kept notifications
    /// after it; the `EventsUnavailable` error when `stream_id` is not this
    /// daemon's or the window no longer reaches back to `since`.
    fn replay(
        &self,
        since: Option<u64>,
        stream_id: Option<&str>,
    ) -> Result<(EventStream, Option<Vec<Pushed>>), ErrorObjectOwned> {
        let state = self.state();
        let stream = self.stream(&state);
        let ours = stream_id.is_none_or(|id| id == self.inner.stream_id);
        let kept = match since {
            None if ours => Ok(None),
            Some(since) if ours && since <= state.seq => state
                .window
                .since(since)
                .map(|kept| Some(kept.cloned().collect()))
                .ok_or(()),
            _ => Err(()),
        };
        drop(state);
        match kept {
            Ok(kept) => Ok((stream, kept)),
            Err(()) => Err(errors::events_unavailable(
                stream.stream_id,
                stream.seq,
                stream.oldest_seq,
            )),
        }
    }

    /// `events.poll`: the kept notifications after `since` that pass the
    /// filters, at most `limit`, decoded into the API's types; the same
    /// `EventsUnavailable` as a WebSocket's replay when it cannot.
    pub fn poll(&self, poll: &Poll) -> Result<EventPoll, ErrorObjectOwned> {
        let (stream, kept) = self.replay(poll.since, poll.stream_id.as_deref())?;
        let filter = Filter::new(&EventsSubscribeParams {
            gids: poll.gids.clone(),
            kinds: poll.kinds.clone(),
            ..EventsSubscribeParams::default()
        });
        let mut notifications = Vec::new();
        let mut next = stream.seq;
        for pushed in kept.into_iter().flatten() {
            if !filter.admits_replayed(&pushed) {
                continue;
            }
            if notifications.len() == poll.limit {
                // Left for the next poll, which starts after the last one sent.
                next = notifications.last().map_or(next, |(seq, _)| *seq);
                break;
            }
            match serde_json::from_str::<Notification>(pushed.json.get()) {
                Ok(notification) => notifications.push((pushed.seq, notification)),
                Err(e) => tracing::error!(error = %e, "a kept notification does not decode"),
            }
        }
        Ok(EventPoll {
            stream_id: stream.stream_id,
            seq: stream.seq,
            oldest_seq: stream.oldest_seq,
            notifications: notifications.into_iter().map(|(_, n)| n).collect(),
            next,
        })
    }

    /// Registers the internal attach method in `methods`.
    pub fn register(methods: &mut Methods) {
        let callback =
            MethodCallback::Subscription(Arc::new(|id, _params, sink, _state, extensions| {
                let handover = extensions
                    .get::<Handover>()
                    .and_then(|h| h.0.lock().ok()?.take());
                let response = match handover {
                    Some(tx) => {
                        let _ = tx.send(sink);
                        MethodResponse::response(id, ResponsePayload::success(true), usize::MAX)
                    }
                    None => MethodResponse::error(id, ErrorCode::MethodNotFound),
                };
                Box::pin(async move { response })
            }));
        if let Err(e) = methods.verify_and_insert(ATTACH_METHOD, callback) {
            panic!("{ATTACH_METHOD} is registered twice: {e}");
        }
    }

    /// The RPC middleware for one WebSocket connection: it attaches the
    /// connection before its first call is served, routes the connection's
    /// `events.*` calls to its forwarder, and calls `disconnect` when the
    /// connection falls too far behind.
    pub fn layer(&self, disconnect: oneshot::Sender<()>) -> AttachLayer {
        AttachLayer {
            push: self.clone(),
            disconnect: Arc::new(Mutex::new(Some(disconnect))),
        }
    }

    /// Feeds one connection. Notifications wait in `pending` (coalesced)
    /// while the connection's buffer is full; the ring is drained meanwhile,
    /// so a client behind only on progress never falls off the ring.
    ///
    /// The forwarder also answers the connection's `events.subscribe` and
    /// `events.unsubscribe`: the answer goes out through the same queue, so
    /// the replay follows it, then live notifications, with nothing between.
    async fn forward(
        self,
        mut sink: MethodSink,
        mut ring: broadcast::Receiver<Pushed>,
        mut control: mpsc::Receiver<Control>,
        disconnect: oneshot::Sender<()>,
    ) {
        let limit = self.inner.pending_limit;
        let mut pending: CoalescingLog<Pushed> = CoalescingLog::default();
        let mut filter = Filter::default();
        // Live notifications up to here were replayed already.
        let mut replayed_through = 0;
        // Since when the connection has taken nothing.
        let mut stuck_since: Option<Instant> = None;
        loop {
            while let Some(next) = pending.front() {
                // jsonrpsee's sink takes its own box: a copy of the bytes, not
                // a parse of them.
                match sink.try_send((*next.json).to_owned()) {
                    Ok(()) => {
                        pending.pop_front();
                        stuck_since = None;
                    }
                    Err(TrySendError::Full(_)) => {
                        stuck_since.get_or_insert_with(Instant::now);
                        break;
                    }
                    Err(TrySendError::Closed(_)) => return,
                }
            }
            let deadline = stuck_since.map(|since| since + self.inner.send_timeout);
            tokio::select! {
                received = ring.recv() => {
                    let mut next = Some(received);
                    while let Some(received) = next.take() {
                        match received {
                            Ok(pushed) if pushed.seq > replayed_through && filter.admits(&pushed) => {
                                pending.push_back(pushed);
                            }
                            Ok(_) => {}
                            Err(broadcast::error::RecvError::Closed) => return,
                            Err(broadcast::error::RecvError::Lagged(missed)) => return too_slow(disconnect, missed),
                        }
                        next = match ring.try_recv() {
                            Ok(pushed) => Some(Ok(pushed)),
                            Err(broadcast::error::TryRecvError::Lagged(missed)) => Some(Err(broadcast::error::RecvError::Lagged(missed))),
                            Err(_) => None,
                        };
                    }
                    if pending.len() > limit {
                        return too_slow(disconnect, pending.len() as u64);
                    }
                }
                Some(command) = control.recv() => {
                    let (id, answer) = match command {
                        Control::Subscribe { id, params } => {
                            let answer = self.subscribe(params, &mut filter, &mut pending, &mut replayed_through);
                            (id, answer)
                        }
                        Control::Unsubscribe { id } => {
                            filter = Filter::default();
                            (id, Ok(self.stream(&self.state())))
                        }
                    };
                    // A client notification takes effect, answered by nothing.
                    if let Some(id) = id {
                        pending.push_front(answer_message(id, answer));
                    }
                }
                room = sink.has_capacity(), if !pending.is_empty() => {
                    if room.is_err() {
                        return;
                    }
                }
                () = sink.closed(), if pending.is_empty() => return,
                () = sleep_until(deadline), if deadline.is_some() => return too_slow(disconnect, pending.len() as u64),
            }
        }
    }

    /// Applies `events.subscribe` to one connection: a new filter and, with
    /// `since`, the replay in place of whatever was waiting.
    fn subscribe(
        &self,
        params: EventsSubscribeParams,
        filter: &mut Filter,
        pending: &mut CoalescingLog<Pushed>,
        replayed_through: &mut u64,
    ) -> Result<EventStream, ErrorObjectOwned> {
        let new_filter = Filter::new(&params);
        let (stream, kept) = self.replay(params.since, params.stream_id.as_deref())?;
        match kept {
            Some(kept) => {
                // What waits was published before the snapshot: the replay
                // has it (or its successor), in order.
                pending.clear();
                for pushed in kept.into_iter().filter(|p| new_filter.admits_replayed(p)) {
                    pending.push_back(pushed);
                }
                *replayed_through = stream.seq;
            }
            None => pending.retain(|p| new_filter.admits_replayed(p)),
        }
        *filter = new_filter;
        Ok(stream)
    }
}

/// The download a notification is about.
fn gid_of(notification: &Notification) -> &str {
    match notification {
        Notification::DownloadStarted(e) => &e.gid,
        Notification::DownloadProgress(e) => &e.gid,
        Notification::DownloadPaused(e) => &e.gid,
        Notification::DownloadComplete(e) => &e.gid,
        Notification::DownloadError(e) => &e.gid,
        Notification::DownloadRemoved(e) => &e.gid,
    }
}

/// A connection's `events.subscribe` settings.
#[derive(Default)]
struct Filter {
    gids: Option<HashSet<Arc<str>>>,
    kinds: Option<Vec<&'static str>>,
    progress_interval: Option<Duration>,
    /// When each download's progress last went out, for `progress_interval`.
    progress_sent: HashMap<Arc<str>, Instant>,
}

impl Filter {
    fn new(params: &EventsSubscribeParams) -> Filter {
        Filter {
            gids: params
                .gids
                .as_ref()
                .map(|gids| gids.iter().map(|g| Arc::from(g.as_str())).collect()),
            kinds: params
                .kinds
                .as_ref()
                .map(|kinds| kinds.iter().map(|k| k.as_str()).collect()),
            progress_interval: params
                .progress_interval
                .map(|ms| Duration::from_millis(ms.into())),
            progress_sent: HashMap::new(),
        }
    }

    /// Whether a notification is for this connection (ignoring the pace).
    fn admits_replayed(&self, pushed: &Pushed) -> bool {
        self.gids.as_ref().is_none_or(|g| g.contains(&pushed.gid))
            && self.kinds.as_ref().is_none_or(|k| k.contains(&pushed.kind))
    }

    /// Whether a live notification goes out: it is for this connection and,
    /// for progress, its download's interval has passed.
    fn admits(&mut self, pushed: &Pushed) -> bool {
        if !self.admits_replayed(pushed) {
            return false;
        }
        let Some(interval) = self.progress_interval else {
            return true;
        };
        if !pushed.progress {
            // The download's next progress starts a new interval.
            self.progress_sent.remove(&pushed.gid);
            return true;
        }
        let now = Instant::now();
        match self.progress_sent.get(&pushed.gid) {
            Some(last) if now.duration_since(*last) < interval => false,
            _ => {
                self.progress_sent.insert(pushed.gid.clone(), now);
                true
            }
        }
    }
}

/// A connection's `events.*` call, for its forwarder to answer with `id`
/// (none for a client notification, which is answered by nothing).
enum Control {
    Subscribe {
        id: Option<Id<'static>>,
        params: EventsSubscribeParams,
    },
    Unsubscribe {
        id: Option<Id<'static>>,
    },
}

/// A JSON-RPC response, queued like a notification.
fn answer_message(id: Id<'static>, answer: Result<EventStream, ErrorObjectOwned>) -> Pushed {
    #[derive(serde::Serialize)]
    struct Response<'a> {
        jsonrpc: &'static str,
        id: &'a Id<'static>,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<&'a EventStream>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a ErrorObjectOwned>,
    }
    let (result, error) = match &answer {
        Ok(stream) => (Some(stream), None),
        Err(e) => (None, Some(e)),
    };
    let json = serde_json::value::to_raw_value(&Response {
        jsonrpc: "2.0",
        id: &id,
        result,
        error,
    })
    .unwrap_or_else(|_| {
        RawValue::from_string(
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}"#
                .to_owned(),
        )
        .unwrap_or_default()
    });
    Pushed {
        seq: 0,
        kind: "",
        gid: Arc::from(""),
        progress: false,
        json: Arc::from(json),
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

fn too_slow(disconnect: oneshot::Sender<()>, missed: u64) {
    tracing::info!(
        missed,
        "disconnecting a WebSocket client that stopped reading its notifications"
    );
    let _ = disconnect.send(());
}

/// Marks the internal attach call and carries the sink back out of it.
#[derive(Clone)]
struct Handover(Arc<Mutex<Option<oneshot::Sender<MethodSink>>>>);

/// Builds [`Attached`] around a connection's RPC service.
#[derive(Clone)]
pub struct AttachLayer {
    push: Push,
    disconnect: Arc<Mutex<Option<oneshot::Sender<()>>>>,
}

impl<S> tower::Layer<S> for AttachLayer
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Clone + Send + Sync + 'static,
{
    type Service = Attached<S>;

    fn layer(&self, inner: S) -> Attached<S> {
        let (tx, rx) = oneshot::channel();
        let mut request = Request::owned(ATTACH_METHOD.to_owned(), None, Id::Number(0));
        request
            .extensions_mut()
            .insert(Handover(Arc::new(Mutex::new(Some(tx)))));
        let disconnect = self.disconnect.lock().ok().and_then(|mut d| d.take());
        // Subscribe to the ring before the first call is served, so nothing
        // a call causes can be published before this connection listens.
        let ring = self.push.inner.ring.subscribe();
        let push = self.push.clone();
        let service = inner.clone();
        let (control, commands) = mpsc::channel(4);
        let ready: BoxFuture<'static, ()> = async move {
            service.call(request).await;
            match (rx.await, disconnect) {
                (Ok(sink), Some(disconnect)) => {
                    tokio::spawn(push.forward(sink, ring, commands, disconnect));
                }
                _ => tracing::error!(
                    "a WebSocket connection could not be attached for notifications"
                ),
            }
        }
        .boxed();
        let ready = ready.shared();
        tokio::spawn(ready.clone());
        Attached {
            inner,
            ready,
            control,
        }
    }
}

/// A connection's RPC service that serves nothing before it is attached,
/// and hands its `events.*` calls to its forwarder.
#[derive(Clone)]
pub struct Attached<S> {
    inner: S,
    ready: Shared<Pin<Box<dyn Future<Output = ()> + Send>>>,
    control: mpsc::Sender<Control>,
}

impl<S> RpcServiceT for Attached<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Clone + Send + Sync + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = S::MethodResponse> + Send + 'a {
        let (ready, inner, control) =
            (self.ready.clone(), self.inner.clone(), self.control.clone());
        async move {
            ready.await;
            if request.extensions().get::<InBatch>().is_some() {
                return inner.call(request).await;
            }
            let id = request.id.clone().into_owned();
            // The id to answer: none for a call made from a notification.
            let notified = request.extensions().get::<FromNotification>().is_some();
            let answered = (!notified).then(|| id.clone());
            let command = match request.method_name() {
                method::EVENTS_SUBSCRIBE => {
                    let params = request.params.as_ref().map_or("{}", |p| p.get());
                    match serde_json::from_str(params) {
                        Ok(params) => Control::Subscribe {
                            id: answered,
                            params,
                        },
                        Err(e) => {
                            let error = ErrorObjectOwned::owned(
                                ErrorCode::InvalidParams.code(),
                                e.to_string(),
                                None::<()>,
                            );
                            return MethodResponse::error(id, error);
                        }
                    }
                }
                method::EVENTS_UNSUBSCRIBE => Control::Unsubscribe { id: answered },
                _ => return inner.call(request).await,
            };
            // The forwarder answers in line with the notifications; jsonrpsee
            // sends nothing for a `notification` response.
            match control.send(command).await {
                Ok(()) => MethodResponse::notification(),
                Err(_) => MethodResponse::error(id, ErrorCode::InternalError),
            }
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = S::BatchResponse> + Send + 'a {
        let (ready, inner) = (self.ready.clone(), self.inner.clone());
        async move {
            ready.await;
            inner.batch(batch).await
        }
    }

    fn notification<'a>(
        &self,
        n: RpcNotification<'a>,
    ) -> impl Future<Output = S::NotificationResponse> + Send + 'a {
        let (ready, inner) = (self.ready.clone(), self.inner.clone());
        async move {
            ready.await;
            inner.notification(n).await
        }
    }
}
