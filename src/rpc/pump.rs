//! The pump: one task reads the engine's event stream and publishes each
//! event to the push hub as a notification, stamped with `seq` and
//! `streamId`. [`notification`] is the one mapping from an engine event to
//! the API's notification: the daemon publishes through it, and `haul get`,
//! which runs the engine in its own process, renders through it, so both
//! commands draw the same thing from the same event.

use crate::api;
use crate::api::{
    DownloadCompleteEvent, DownloadErrorEvent, DownloadPausedEvent, DownloadProgressEvent,
    DownloadRemovedEvent, DownloadStartedEvent, Notification,
};
use crate::engine::{EngineEvent, RestartReason, Subscription};

use super::handlers::api_failure_code;
use super::push::Push;

/// Publishes every engine event until the engine shuts down.
pub async fn run(mut events: Subscription, push: Push) {
    while let Some(published) = events.recv_published().await {
        push.publish(|seq, stream_id| {
            notification(published.event, published.cluster_seq, seq, stream_id)
        });
    }
}

/// The notification an engine event becomes, numbered `seq` in the stream
/// `stream_id` (and `cluster_seq` in a cluster's log); none for a download becoming active, which haul's API
/// tells of when its transfer begins (`download.started`), and only the
/// aria2 door at once.
pub fn notification(
    event: EngineEvent,
    cluster_seq: Option<i64>,
    seq: u64,
    stream_id: String,
) -> Option<Notification> {
    // Numbers start at 1: never negative.
    let cluster_seq = cluster_seq.and_then(|n| u64::try_from(n).ok());
    Some(match event {
        EngineEvent::Activated { .. } => return None,
        EngineEvent::Started {
            gid,
            file_name,
            total_length,
            resumed,
            restarted,
        } => Notification::DownloadStarted(DownloadStartedEvent {
            seq,
            stream_id,
            gid: gid.to_string(),
            file_name,
            total_length,
            resumed,
            restarted: restarted.map(|r| match r {
                RestartReason::RemoteChanged => api::RestartReason::RemoteChanged,
                RestartReason::NotResumable => api::RestartReason::NotResumable,
            }),
        }),
        EngineEvent::Progress {
            gid,
            completed_length,
            total_length,
            download_speed,
            eta,
            connections,
        } => Notification::DownloadProgress(DownloadProgressEvent {
            seq,
            stream_id,
            gid: gid.to_string(),
            completed_length,
            total_length,
            download_speed,
            eta,
            connections,
        }),
        EngineEvent::Paused {
            gid,
            completed_length,
        } => Notification::DownloadPaused(DownloadPausedEvent {
            seq,
            stream_id,
            cluster_seq,
            gid: gid.to_string(),
            completed_length,
        }),
        EngineEvent::Complete {
            gid,
            path,
            total_length,
        } => Notification::DownloadComplete(DownloadCompleteEvent {
            seq,
            stream_id,
            cluster_seq,
            gid: gid.to_string(),
            path: path.display().to_string(),
            total_length,
        }),
        EngineEvent::Error {
            gid,
            code,
            message,
            completed_length,
        } => Notification::DownloadError(DownloadErrorEvent {
            seq,
            stream_id,
            cluster_seq,
            gid: gid.to_string(),
            code: api_failure_code(code),
            message,
            completed_length,
        }),
        EngineEvent::Removed { gid } => Notification::DownloadRemoved(DownloadRemovedEvent {
            seq,
            stream_id,
            cluster_seq,
            gid: gid.to_string(),
        }),
    })
}
