//! The task each running download is, and how its end is applied.
//!
//! A task never vanishes silently: a panic anywhere in the download becomes
//! an `error` with the `internal` code (the details go to the log), and a
//! task dropped before it could apply its end (a panic while applying it)
//! does the same from its guard. Either way the download frees its slot and
//! host permits, emits `download.error`, and can be resumed: the daemon never
//! needs a restart to recover a download.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use super::control::Stop;
use super::download::{self, Outcome};
use super::error::{Failure, FailureCode};
use super::events::EngineEvent;
use super::limiter::Limiter;
use super::status::{Gid, State};
use super::{Forgotten, Shared};

/// Starts the task of `gid`, which the caller has just made active.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    gid: Gid,
    cancel: CancellationToken,
    limiter: Arc<Limiter>,
    retarget: Arc<tokio::sync::Notify>,
) {
    let task = shared.clone();
    spawn_with(shared, gid, async move {
        download::run(&task, gid, cancel, limiter, &retarget).await
    });
}

/// Runs `download` as the task of `gid` under the guard.
fn spawn_with(
    shared: &Arc<Shared>,
    gid: Gid,
    download: impl Future<Output = Outcome> + Send + 'static,
) {
    let shared = shared.clone();
    shared.runtime.clone().spawn(async move {
        let guard = Guard {
            shared: shared.clone(),
            gid,
            armed: true,
        };
        let outcome = AssertUnwindSafe(download)
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                tracing::error!(%gid, panic = panic_message(&panic), "a download task panicked");
                Outcome::Failed(internal_failure())
            });
        finish(&shared, gid, outcome).await;
        guard.disarm();
    });
}

fn internal_failure() -> Failure {
    Failure::new(
        FailureCode::Internal,
        "an internal error stopped this download (the daemon's log has the details); resume it to try again",
    )
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Applies the end of a task whose future was dropped before it could.
struct Guard {
    shared: Arc<Shared>,
    gid: Gid,
    armed: bool,
}

impl Guard {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // A runtime dropping its tasks while the engine closes is not a
        // failure: the store keeps those downloads active, to resume.
        let closing = self.shared.closing.load(Ordering::SeqCst);
        if !self.armed || (closing && !std::thread::panicking()) {
            return;
        }
        tracing::error!(gid = %self.gid, "a download task ended without applying its end");
        if let Some((forgotten, running)) =
            apply(&self.shared, self.gid, Outcome::Failed(internal_failure()))
        {
            // Nothing to await on here: the deletion finishes in the
            // background (or not at all if the runtime is gone).
            let shared = self.shared.clone();
            // Detached: nobody waits on the handle.
            drop(shared.runtime.clone().spawn(async move {
                let ticket = shared.removed(forgotten).await;
                running.settle(Some(ticket));
            }));
        }
        self.shared.schedule();
    }
}

/// Applies a task's outcome and the stop that was asked of it, wakes every
/// caller waiting on the stop, and fills the freed slot.
async fn finish(shared: &Arc<Shared>, gid: Gid, outcome: Outcome) {
    if let Some(forgotten) = apply(shared, gid, outcome) {
        let ticket = shared.removed(forgotten.0).await;
        forgotten.1.settle(Some(ticket));
    }
    shared.schedule();
}

/// The locked part of [`finish`]. A removal returns what is left to do
/// (delete files, then settle) outside the lock.
fn apply(
    shared: &Shared,
    gid: Gid,
    outcome: Outcome,
) -> Option<(Forgotten, super::control::Running)> {
    let mut registry = shared.registry();
    let entry = registry.get_mut(gid)?;
    let running = entry.running.take()?;
    if let Some(Stop::Remove { delete_files }) = running.reason() {
        // A completed file is the download's own, too.
        let finished_path = match &outcome {
            Outcome::Complete { path, .. } => Some(path.clone()),
            _ => None,
        };
        let mut forgotten = shared.forget(&mut registry, gid, delete_files);
        if let (true, Some(path)) = (delete_files, finished_path) {
            forgotten.doom(path);
        }
        return Some((forgotten, running));
    }
    let record = &mut entry.record;
    let event = match outcome {
        Outcome::Complete { path, total } => {
            record.state = State::Complete;
            record.file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            record.path = Some(path.clone());
            record.total_length = Some(total);
            record.completed_length = total;
            record.completed_at = Some(SystemTime::now());
            record.segments.clear();
            Some(EngineEvent::Complete {
                gid,
                path,
                total_length: total,
            })
        }
        Outcome::Failed(failure) => {
            tracing::info!(%gid, "download failed: {failure}");
            record.state = State::Error;
            record.error = Some(failure.clone());
            Some(EngineEvent::Error {
                gid,
                code: failure.code,
                message: failure.message,
                completed_length: record.completed_length,
            })
        }
        // A resume overtook the pause: back to the queue, no event (the next
        // start says so).
        Outcome::Stopped if running.reason() == Some(Stop::Pause) && running.requeue() => {
            record.state = State::Queued;
            None
        }
        Outcome::Stopped if running.reason() == Some(Stop::Pause) => {
            record.state = State::Paused;
            Some(EngineEvent::Paused {
                gid,
                completed_length: record.completed_length,
            })
        }
        // Shutting down: the record stays active so the next open resumes it.
        Outcome::Stopped => {
            running.settle(None);
            return None;
        }
    };
    let ticket = shared.save(entry);
    if let Some(event) = event {
        shared.publish_state(event);
    }
    running.settle(Some(ticket));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::control::Running;
    use crate::engine::{AddRequest, Engine, EngineConfig};
    use std::time::Duration;

    #[tokio::test]
    async fn a_panicking_task_ends_in_error_frees_its_slot_and_can_be_removed() {
        let root = tempfile::tempdir().unwrap();
        let mut config = EngineConfig::new(root.path(), None);
        config.max_concurrent = 1;
        let engine = Engine::open(config).await.unwrap();
        let mut events = engine.subscribe();
        let paused = |url: &str| AddRequest {
            paused: true,
            ..AddRequest::new(url)
        };
        let gid = engine.add(paused("http://127.0.0.1:9/a")).await.unwrap();
        // Start it by hand with a body that panics, as a bug would.
        {
            let shared = &engine.shared;
            let mut registry = shared.registry();
            let entry = registry.get_mut(gid).unwrap();
            entry.record.state = State::Active;
            let cancel = CancellationToken::new();
            entry.running = Some(Running::new(cancel));
            spawn_with(shared, gid, async { panic!("a bug in the engine") });
        }
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an event within 10 s");
        assert!(
            matches!(
                event,
                Some(EngineEvent::Error {
                    code: FailureCode::Internal,
                    ..
                })
            ),
            "{event:?}"
        );
        let status = engine.status(gid).unwrap();
        assert_eq!(status.state, State::Error);
        assert_eq!(status.error.unwrap().code, FailureCode::Internal);

        // The slot is free: the next download becomes active.
        let next = engine
            .add(AddRequest::new("http://127.0.0.1:9/b"))
            .await
            .unwrap();
        assert_eq!(engine.status(next).unwrap().state, State::Active);
        // And the failed one is an ordinary failed download.
        engine.remove(gid, true).await.unwrap();
        assert!(engine.status(gid).is_err());
        engine.shutdown().await;
    }
}
