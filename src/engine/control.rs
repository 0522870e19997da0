//! One download's control state: the state the store records and the API
//! shows ([`State`]), plus, while its task runs, what is in flight
//! ([`Running`]). Every transition happens under the registry lock.
//!
//! ```text
//!            add                 schedule                task ends
//!  (new) ──────────► queued ─────────────► active ──────────────► complete | error
//!                     ▲   │ pause            │                         │
//!             resume  │   ▼                  │ pause, remove,          │ resume
//!                    paused ◄──────────── stopping{reason}             ▼
//!                     (or queued again        │                      queued
//!                      if resumed meanwhile)  └── remove ──► removed (gone)
//! ```
//!
//! - A stop is asked for with a reason; reasons escalate and never step
//!   down (remove > pause > shutdown), so a remove that arrives while a
//!   pause is in flight wins, and a pause during a shutdown still pauses.
//! - A resume while a pause is in flight does not undo the cancellation
//!   (the task is already checkpointing): the download settles `queued` and
//!   the scheduler starts it again.
//! - Every caller waiting on one stop awaits the same settlement, which
//!   carries the ticket of the record written when the task's end was
//!   applied; the caller answers once that record is durable.
//! - An active download that only waits to retry (every one of its
//!   connections sleeping a second or more after failures) is [`Park`]ed:
//!   it stays active, but lends its slot to the next queued download, so
//!   one that keeps failing (`--max-tries 0`) never holds back the queue.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use super::writer::Ticket;
use super::Shared;

/// Why a running download is being stopped, in escalating order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The engine is closing, or (in a cluster) the download is no longer
    /// this node's: nothing is written at its end, so the store keeps it
    /// as it is for whoever runs it next (this engine's next open, or the
    /// node that claims it).
    Shutdown,
    Pause,
    Remove {
        delete_files: bool,
    },
}

impl Stop {
    fn rank(self) -> u8 {
        match self {
            Stop::Shutdown => 0,
            Stop::Pause => 1,
            Stop::Remove { .. } => 2,
        }
    }

    /// The stronger of two reasons; two removes delete files if either asked.
    pub fn escalate(self, to: Stop) -> Stop {
        match (self, to) {
            (Stop::Remove { delete_files: a }, Stop::Remove { delete_files: b }) => Stop::Remove {
                delete_files: a || b,
            },
            _ if to.rank() > self.rank() => to,
            _ => self,
        }
    }
}

/// A running download's task and what has been asked of it.
#[derive(Debug)]
pub(crate) struct Running {
    cancel: CancellationToken,
    stop: Option<Stop>,
    /// A resume came in while a pause was in flight.
    requeue: bool,
    settled: watch::Sender<Option<Ticket>>,
    /// Told when the download's URL changed: its task checkpoints, then
    /// carries on from its bytes at the new URL.
    retarget: Arc<Notify>,
    pub speed: u64,
    pub connections: u32,
    /// Each source's part, in the order the download gives its URLs; empty
    /// until the transfer begins.
    pub sources: Vec<super::SourceStatus>,
    /// At most this many connections: what a cluster's claim granted
    /// within the cluster-wide per-host cap.
    pub connection_cap: Option<u32>,
}

/// Resolves once the stop it was taken for is applied.
pub(crate) struct Settlement(watch::Receiver<Option<Ticket>>);

impl Settlement {
    /// The ticket of the record written when the task's end was applied;
    /// `None` when nothing was written (a shutdown).
    pub async fn wait(mut self) -> Option<Ticket> {
        match self.0.wait_for(Option::is_some).await {
            Ok(ticket) => *ticket,
            // Settled without a write (the task ended for a shutdown).
            Err(_) => None,
        }
    }
}

impl Running {
    pub fn new(cancel: CancellationToken) -> Running {
        Running {
            cancel,
            stop: None,
            requeue: false,
            settled: watch::Sender::new(None),
            retarget: Arc::default(),
            speed: 0,
            connections: 0,
            sources: Vec::new(),
            connection_cap: None,
        }
    }

    /// What the task listens to for a new URL.
    pub fn retarget(&self) -> Arc<Notify> {
        self.retarget.clone()
    }

    /// Tells the task its download has a new URL.
    pub fn retarget_now(&self) {
        self.retarget.notify_one();
    }

    /// Asks the task to stop for `reason` (escalating what was asked
    /// before) and returns the settlement to wait for.
    pub fn stop(&mut self, reason: Stop) -> Settlement {
        self.stop = Some(match self.stop {
            Some(asked) => asked.escalate(reason),
            None => reason,
        });
        if reason == Stop::Pause {
            self.requeue = false;
        }
        self.cancel.cancel();
        Settlement(self.settled.subscribe())
    }

    /// A resume: if a pause is in flight the download goes back to the queue
    /// when it settles. `None` when nothing is being stopped: it simply runs.
    pub fn resume(&mut self) -> Option<Settlement> {
        let stop = self.stop?;
        if stop == Stop::Pause {
            self.requeue = true;
        }
        Some(Settlement(self.settled.subscribe()))
    }

    /// What the task was stopped for, once it ends: a pause that a resume
    /// overtook is no stop at all, but the download does not run on either.
    pub fn reason(&self) -> Option<Stop> {
        self.stop
    }

    pub fn requeue(&self) -> bool {
        self.requeue
    }

    /// Wakes every waiter with the ticket of the record that applied the end.
    pub fn settle(self, ticket: Option<Ticket>) {
        if let Some(ticket) = ticket {
            self.settled.send_replace(Some(ticket));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_escalate_and_never_step_down() {
        let remove = Stop::Remove {
            delete_files: false,
        };
        assert_eq!(Stop::Pause.escalate(remove), remove);
        assert_eq!(remove.escalate(Stop::Pause), remove);
        assert_eq!(Stop::Shutdown.escalate(Stop::Pause), Stop::Pause);
        assert_eq!(Stop::Pause.escalate(Stop::Shutdown), Stop::Pause);
        assert_eq!(
            remove.escalate(Stop::Remove { delete_files: true }),
            Stop::Remove { delete_files: true }
        );
        assert_eq!(
            Stop::Remove { delete_files: true }.escalate(remove),
            Stop::Remove { delete_files: true }
        );
    }

    #[tokio::test]
    async fn every_waiter_awaits_the_same_settlement() {
        let mut running = Running::new(CancellationToken::new());
        let first = running.stop(Stop::Pause);
        let second = running.stop(Stop::Pause);
        assert!(running.cancel.is_cancelled());
        let (a, b) = (tokio::spawn(first.wait()), tokio::spawn(second.wait()));
        tokio::task::yield_now().await;
        assert!(
            !a.is_finished() && !b.is_finished(),
            "not before it settles"
        );
        let ticket = crate::engine::writer::Ticket::for_tests(7);
        running.settle(Some(ticket));
        assert_eq!(a.await.unwrap(), Some(ticket));
        assert_eq!(b.await.unwrap(), Some(ticket));
    }

    #[test]
    fn a_resume_during_a_pause_requeues_and_a_later_pause_takes_it_back() {
        let mut running = Running::new(CancellationToken::new());
        assert!(running.resume().is_none(), "nothing to wait for");
        let _ = running.stop(Stop::Pause);
        let _ = running.resume();
        assert!(running.requeue());
        let _ = running.stop(Stop::Pause);
        assert!(!running.requeue());
        let _ = running.resume();
        let _ = running.stop(Stop::Remove {
            delete_files: false,
        });
        assert_eq!(
            running.reason(),
            Some(Stop::Remove {
                delete_files: false
            })
        );
    }
}

/// A retry wait this long or longer lends the download's slot.
const PARK_AFTER: Duration = Duration::from_secs(1);

/// Whether a running download only waits to retry; see the module's notes.
pub(crate) struct Park {
    shared: Arc<Shared>,
    state: Mutex<Parking>,
}

#[derive(Default)]
struct Parking {
    /// The probe, or the connections: what could be doing something.
    workers: u32,
    /// Those of them sleeping before a retry.
    sleepers: u32,
    parked: bool,
}

/// One worker of a download, counted while it lives.
pub(crate) struct Worker(Arc<Park>);

impl std::fmt::Debug for Park {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Park")
            .field("parked", &state.parked)
            .finish_non_exhaustive()
    }
}

impl Park {
    pub fn new(shared: Arc<Shared>) -> Arc<Park> {
        Arc::new(Park {
            shared,
            state: Mutex::new(Parking::default()),
        })
    }

    /// Whether the download may write what it fetches (see
    /// `Shared::may_write`).
    pub fn may_write(&self) -> bool {
        self.shared.may_write()
    }

    pub fn worker(self: &Arc<Self>) -> Worker {
        self.change(|p| p.workers += 1);
        Worker(self.clone())
    }

    /// Sleeps `delay` before a retry; a long one counts as waiting.
    pub async fn sleep(&self, delay: Duration) {
        if delay < PARK_AFTER {
            return tokio::time::sleep(delay).await;
        }
        self.change(|p| p.sleepers += 1);
        // Counted out however the sleep ends (a cancelled task included).
        struct Awake<'a>(&'a Park);
        impl Drop for Awake<'_> {
            fn drop(&mut self) {
                self.0.change(|p| p.sleepers -= 1);
            }
        }
        let _awake = Awake(self);
        tokio::time::sleep(delay).await;
    }

    fn change(&self, change: impl FnOnce(&mut Parking)) {
        let newly_parked = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut state);
            let parked = state.workers > 0 && state.sleepers >= state.workers;
            let before = std::mem::replace(&mut state.parked, parked);
            match (before, parked) {
                (false, true) => self.shared.parked.fetch_add(1, Ordering::SeqCst),
                (true, false) => self.shared.parked.fetch_sub(1, Ordering::SeqCst),
                _ => 0,
            };
            !before && parked
        };
        if newly_parked {
            self.shared.schedule();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.change(|p| p.workers -= 1);
    }
}

impl Drop for Park {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if state.parked {
            self.shared.parked.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
