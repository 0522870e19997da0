//! Engine events become notifications: one task reads the engine's event
//! stream and publishes each event, stamped with `seq` and `streamId`.

use crate::api;
use crate::api::{
    DownloadCompleteEvent, DownloadErrorEvent, DownloadPausedEvent, DownloadProgressEvent,
    DownloadRemovedEvent, DownloadStartedEvent, Notification,
};
use crate::engine::{EngineEvent, RestartReason, Subscription};

use super::handlers::api_failure_code;
use super::push::Push;

/// Publishes every engine event until the engine shuts down.
pub async fn pump(mut events: Subscription, push: Push) {
    while let Some(event) = events.recv().await {
        push.publish(|seq, stream_id| notification(event, seq, stream_id));
    }
}

fn notification(event: EngineEvent, seq: u64, stream_id: String) -> Notification {
    match event {
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
            gid: gid.to_string(),
            code: api_failure_code(code),
            message,
            completed_length,
        }),
        EngineEvent::Removed { gid } => Notification::DownloadRemoved(DownloadRemovedEvent {
            seq,
            stream_id,
            gid: gid.to_string(),
        }),
    }
}
