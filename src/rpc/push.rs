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

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};
use jsonrpsee::core::middleware::{Batch, Notification as RpcNotification, RpcServiceT};
use jsonrpsee::server::{MethodCallback, MethodSink, Methods, ResponsePayload, TrySendError};
use jsonrpsee::types::{ErrorCode, Id, Request};
use jsonrpsee::MethodResponse;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, oneshot};

use crate::api::Notification;

/// The internal method through which a connection hands over its sink.
pub const ATTACH_METHOD: &str = "haul.internal.attach";

#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Notifications kept for connections that are behind; a connection
    /// further behind than this is disconnected.
    pub ring_capacity: usize,
    /// How long a connection's buffer may stay full before it is dropped.
    pub send_timeout: Duration,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            ring_capacity: 4096,
            send_timeout: Duration::from_secs(30),
        }
    }
}

/// The notification hub: stamps `seq` and `streamId`, serialises once,
/// fans out to every attached connection.
#[derive(Clone)]
pub struct Push {
    inner: Arc<Inner>,
}

struct Inner {
    ring: broadcast::Sender<Pushed>,
    stream_id: String,
    /// The last `seq` given out; held while sending so ring order is seq order.
    seq: Mutex<u64>,
    send_timeout: Duration,
    /// The most notifications one connection may be behind.
    ring_capacity: usize,
}

#[derive(Clone)]
struct Pushed {
    /// The download a progress notification is about; `None` for state changes.
    progress_of: Option<Arc<str>>,
    json: Arc<str>,
}

impl Push {
    pub fn new(config: &PushConfig) -> Push {
        let (ring, _) = broadcast::channel(config.ring_capacity.max(1));
        let stream_id = hex::encode(rand::random::<[u8; 8]>());
        Push {
            inner: Arc::new(Inner {
                ring,
                stream_id,
                seq: Mutex::new(0),
                send_timeout: config.send_timeout,
                ring_capacity: config.ring_capacity.max(1),
            }),
        }
    }

    /// Sends the notification `make` builds from the next `seq` and the
    /// stream id to every attached connection.
    pub fn publish(&self, make: impl FnOnce(u64, String) -> Notification) {
        let mut seq = self.inner.seq.lock().unwrap_or_else(|e| e.into_inner());
        *seq += 1;
        let notification = make(*seq, self.inner.stream_id.clone());
        let progress_of = match &notification {
            Notification::DownloadProgress(p) => Some(Arc::from(p.gid.as_str())),
            _ => None,
        };
        #[derive(serde::Serialize)]
        struct Wire<'a> {
            jsonrpc: &'static str,
            #[serde(flatten)]
            notification: &'a Notification,
        }
        let json = match serde_json::to_string(&Wire {
            jsonrpc: "2.0",
            notification: &notification,
        }) {
            Ok(json) => json,
            Err(e) => {
                tracing::error!(error = %e, method = notification.method(), "cannot serialise a notification");
                return;
            }
        };
        // No receivers means no connections: nothing to do.
        let _ = self.inner.ring.send(Pushed {
            progress_of,
            json: Arc::from(json),
        });
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
    /// connection before its first call is served, and calls `disconnect`
    /// when the connection falls too far behind.
    pub fn layer(&self, disconnect: oneshot::Sender<()>) -> AttachLayer {
        AttachLayer {
            push: self.clone(),
            disconnect: Arc::new(Mutex::new(Some(disconnect))),
        }
    }

    /// Feeds one connection. Notifications wait in `pending` (coalesced)
    /// while the connection's buffer is full; the ring is drained meanwhile,
    /// so a client behind only on progress never falls off the ring.
    async fn forward(
        self,
        mut sink: MethodSink,
        mut ring: broadcast::Receiver<Pushed>,
        disconnect: oneshot::Sender<()>,
    ) {
        let limit = self.inner.ring_capacity;
        let mut pending: VecDeque<Pushed> = VecDeque::new();
        // Since when the connection has taken nothing.
        let mut stuck_since: Option<Instant> = None;
        loop {
            while let Some(next) = pending.front() {
                let Ok(message) = RawValue::from_string(next.json.to_string()) else {
                    pending.pop_front();
                    continue;
                };
                match sink.try_send(message) {
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
                    match received {
                        Ok(pushed) => pending.push_back(pushed),
                        Err(broadcast::error::RecvError::Closed) => return,
                        Err(broadcast::error::RecvError::Lagged(missed)) => return too_slow(disconnect, missed),
                    }
                    while let Ok(pushed) = ring.try_recv() {
                        pending.push_back(pushed);
                    }
                    coalesce(&mut pending);
                    if pending.len() > limit {
                        return too_slow(disconnect, pending.len() as u64);
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

/// Drops progress that a later progress of the same download supersedes.
fn coalesce(pending: &mut VecDeque<Pushed>) {
    let mut seen = HashSet::new();
    let mut keep: Vec<bool> = pending
        .iter()
        .rev()
        .map(|p| match &p.progress_of {
            Some(gid) => seen.insert(gid.clone()),
            None => true,
        })
        .collect();
    keep.reverse();
    let mut keep = keep.into_iter();
    pending.retain(|_| keep.next().unwrap_or(true));
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
        let ready: BoxFuture<'static, ()> = async move {
            service.call(request).await;
            match (rx.await, disconnect) {
                (Ok(sink), Some(disconnect)) => {
                    tokio::spawn(push.forward(sink, ring, disconnect));
                }
                _ => tracing::error!(
                    "a WebSocket connection could not be attached for notifications"
                ),
            }
        }
        .boxed();
        let ready = ready.shared();
        tokio::spawn(ready.clone());
        Attached { inner, ready }
    }
}

/// A connection's RPC service that serves nothing before it is attached.
#[derive(Clone)]
pub struct Attached<S> {
    inner: S,
    ready: Shared<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<S> RpcServiceT for Attached<S>
where
    S: RpcServiceT + Clone + Send + Sync + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = S::MethodResponse> + Send + 'a {
        let (ready, inner) = (self.ready.clone(), self.inner.clone());
        async move {
            ready.await;
            inner.call(request).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed(progress_of: Option<&str>, json: &str) -> Pushed {
        Pushed {
            progress_of: progress_of.map(Arc::from),
            json: Arc::from(json),
        }
    }

    #[test]
    fn only_the_latest_progress_of_each_download_survives_and_order_is_kept() {
        let mut batch = VecDeque::from([
            pushed(Some("a"), "a1"),
            pushed(None, "started b"),
            pushed(Some("b"), "b1"),
            pushed(Some("a"), "a2"),
            pushed(None, "complete b"),
            pushed(Some("a"), "a3"),
        ]);
        coalesce(&mut batch);
        let left: Vec<&str> = batch.iter().map(|p| &*p.json).collect();
        assert_eq!(left, ["started b", "b1", "complete b", "a3"]);
    }
}
