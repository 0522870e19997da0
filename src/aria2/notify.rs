//! Engine events as aria2's notifications, `{"jsonrpc":"2.0","method":
//! "aria2.onDownloadStart","params":[{"gid":"…"}]}`, for the aria2
//! WebSockets only: aria2p reads every frame there as a notification, so
//! haul's own never go there. Progress has no aria2 notification (aria2
//! clients poll `tellActive`).

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::engine::{EngineEvent, Subscription};

/// Every aria2 notification, in the order `system.listNotifications` gives.
pub(crate) const NOTIFICATIONS: [&str; 5] = [
    "aria2.onDownloadStart",
    "aria2.onDownloadPause",
    "aria2.onDownloadStop",
    "aria2.onDownloadComplete",
    "aria2.onDownloadError",
];

/// The aria2 notification for an event, if it has one.
pub(crate) fn notification(event: &EngineEvent) -> Option<String> {
    let method = match event {
        EngineEvent::Started { .. } => NOTIFICATIONS[0],
        EngineEvent::Paused { .. } => NOTIFICATIONS[1],
        EngineEvent::Removed { .. } => NOTIFICATIONS[2],
        EngineEvent::Complete { .. } => NOTIFICATIONS[3],
        EngineEvent::Error { .. } => NOTIFICATIONS[4],
        EngineEvent::Progress { .. } => return None,
    };
    let gid = event.gid().to_string();
    Some(
        serde_json::json!({"jsonrpc": "2.0", "method": method, "params": [{"gid": gid}]})
            .to_string(),
    )
}

/// Publishes the events of `events` until the engine shuts down. A socket
/// that falls more than the channel's capacity behind misses the oldest
/// (it is told nothing more than aria2 would tell it: it polls anyway).
pub(crate) async fn run(mut events: Subscription, out: broadcast::Sender<Arc<str>>) {
    while let Some(event) = events.recv().await {
        if let Some(frame) = notification(&event) {
            // No receiver is no error: no aria2 WebSocket is open.
            let _ = out.send(frame.into());
        }
    }
}
