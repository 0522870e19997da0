//! Engine events as aria2's notifications, `{"jsonrpc":"2.0","method":
//! "aria2.onDownloadStart","params":[{"gid":"…"}]}`, for the aria2
//! WebSockets only: aria2p reads every frame there as a notification, so
//! haul's own never go there. Progress has no aria2 notification (aria2
//! clients poll `tellActive`).

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::engine::{EngineEvent, Subscription};

use super::Aria2;

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
        // aria2 tells of a start as the download becomes active, before
        // its server answers (or fails to).
        EngineEvent::Activated { .. } => NOTIFICATIONS[0],
        EngineEvent::Started { .. } => return None,
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

/// Publishes the events of `events`, and keeps the stop order, until the
/// engine shuts down. A socket that falls more than the channel's capacity
/// behind misses the oldest (it polls anyway, as aria2's clients do).
pub(crate) async fn run(mut events: Subscription, aria2: Arc<Aria2>) {
    let out: &broadcast::Sender<Arc<str>> = &aria2.notifications;
    while let Some(event) = events.recv().await {
        match &event {
            EngineEvent::Complete { gid, .. } | EngineEvent::Error { gid, .. } => {
                aria2.results().stopped(*gid)
            }
            EngineEvent::Activated { gid } | EngineEvent::Removed { gid } => {
                aria2.results().left(*gid)
            }
            _ => {}
        }
        if let Some(frame) = notification(&event) {
            // No receiver is no error: no aria2 WebSocket is open.
            let _ = out.send(frame.into());
        }
    }
}
