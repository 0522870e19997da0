//! The store's one writer, with group commit. After `open` the engine only
//! writes to its store, so one thread owns it: callers queue a write under
//! the registry lock (no disk I/O there or on the async runtime), get a
//! [`Ticket`], and await [`Writer::durable`] once the lock is released. The
//! thread commits everything queued so far in one transaction, so a burst
//! of writes — 100 adds in one JSON-RPC batch, a checkpoint of every active
//! download — costs one commit, however many callers wait on it.
//!
//! A failed commit fails every ticket in it and marks the store unhealthy;
//! its writes are kept (the latest per download: each is a whole record or
//! a delete, so replaying them is safe) and retried with the next commit or
//! after [`RETRY_AFTER`], and the first commit that succeeds makes the store
//! healthy again. Nothing is ever claimed before its data: a checkpoint is
//! queued only after its bytes are synced.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use super::status::Gid;
use super::store::{DownloadRecord, Store, Write};

/// How long failed writes wait to be retried when nothing else comes.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Failed commits remembered for their waiters; a waiter further behind than
/// this many failures is told about the oldest one it cannot see.
const FAILURES_KEPT: usize = 64;

/// The place of one write in the commit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[must_use = "a write is acknowledged only once `durable` says so"]
pub(crate) struct Ticket(u64);

#[cfg(test)]
impl Ticket {
    pub fn for_tests(n: u64) -> Ticket {
        Ticket(n)
    }
}

/// Why a write is not durable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreFailure(pub String);

pub(crate) struct Writer {
    /// The queue and the next ticket, under one lock so tickets follow the
    /// order writes reach the thread.
    queue: Mutex<Queue>,
    thread: Mutex<Option<JoinHandle<()>>>,
    shared: Arc<Outcomes>,
}

struct Queue {
    sender: Option<mpsc::Sender<(Ticket, Write)>>,
    next: u64,
}

/// What the thread reports back.
struct Outcomes {
    /// Every ticket up to this one is decided: committed or failed.
    decided: watch::Sender<u64>,
    /// Recent failed commits: (first ticket, last ticket, why).
    failures: Mutex<Vec<(u64, u64, StoreFailure)>>,
    healthy: AtomicBool,
}

impl Writer {
    pub fn spawn(store: Box<dyn Store>) -> Writer {
        let (sender, inbox) = mpsc::channel();
        let shared = Arc::new(Outcomes {
            decided: watch::Sender::new(0),
            failures: Mutex::new(Vec::new()),
            healthy: AtomicBool::new(true),
        });
        let outcomes = shared.clone();
        let thread = std::thread::Builder::new()
            .name("haul-store".into())
            .spawn(move || commit_loop(store, inbox, &outcomes));
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(e) => {
                tracing::error!("cannot start the store's writer thread: {e}");
                None
            }
        };
        Writer {
            queue: Mutex::new(Queue {
                sender: thread.is_some().then_some(sender),
                next: 1,
            }),
            thread: Mutex::new(thread),
            shared,
        }
    }

    pub fn save(&self, record: &DownloadRecord) -> Ticket {
        self.send(Write::Save(Box::new(record.clone())))
    }

    pub fn delete(&self, gid: Gid, seq: i64) -> Ticket {
        self.send(Write::Delete { gid, seq })
    }

    fn send(&self, write: Write) -> Ticket {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let ticket = Ticket(queue.next);
        queue.next += 1;
        let sent = queue
            .sender
            .as_ref()
            .is_some_and(|s| s.send((ticket, write)).is_ok());
        if !sent {
            drop(queue);
            tracing::warn!("a change arrived after the store was closed; it is not recorded");
            self.fail(ticket, ticket, StoreFailure("the store is closed".into()));
        }
        ticket
    }

    /// Waits until the write behind `ticket` is committed, or says why not.
    pub async fn durable(&self, ticket: Ticket) -> Result<(), StoreFailure> {
        let mut decided = self.shared.decided.subscribe();
        // The sender lives in `self`, so the channel cannot close under us.
        let _ = decided.wait_for(|&done| done >= ticket.0).await;
        let failures = self
            .shared
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let failed = failures
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&ticket.0))
            .map(|(_, _, why)| why.clone());
        match failed {
            Some(why) => Err(why),
            // Forgotten failures are older than every kept one: if the ticket
            // is older still, it may have been one of them.
            None if failures.len() == FAILURES_KEPT
                && failures
                    .first()
                    .is_some_and(|(first, ..)| ticket.0 < *first) =>
            {
                Err(failures[0].2.clone())
            }
            None => Ok(()),
        }
    }

    /// Waits until every write queued so far is decided.
    pub async fn flush(&self) {
        let last = {
            let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.next - 1
        };
        let mut decided = self.shared.decided.subscribe();
        let _ = decided.wait_for(|&done| done >= last).await;
    }

    /// Whether the last commit succeeded.
    pub fn healthy(&self) -> bool {
        self.shared.healthy.load(Ordering::SeqCst)
    }

    /// Why the store is unhealthy, if it is.
    pub fn last_failure(&self) -> Option<StoreFailure> {
        if self.healthy() {
            return None;
        }
        let failures = self
            .shared
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        failures.last().map(|(_, _, why)| why.clone())
    }

    /// Commits what is queued and stops the thread; later writes fail.
    pub async fn close(&self) {
        self.flush().await;
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sender
            .take();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    fn fail(&self, first: Ticket, last: Ticket, why: StoreFailure) {
        self.shared.record(first.0, last.0, Err(why));
    }
}

impl Outcomes {
    fn record(&self, first: u64, last: u64, outcome: Result<(), StoreFailure>) {
        match outcome {
            Ok(()) => self.healthy.store(true, Ordering::SeqCst),
            Err(why) => {
                self.healthy.store(false, Ordering::SeqCst);
                let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
                if failures.len() == FAILURES_KEPT {
                    failures.remove(0);
                }
                failures.push((first, last, why));
            }
        }
        self.decided.send_modify(|done| *done = (*done).max(last));
    }
}

/// The thread: until every sender is gone (the engine closed or dropped),
/// commits whatever is queued, failed writes first.
fn commit_loop(
    mut store: Box<dyn Store>,
    inbox: mpsc::Receiver<(Ticket, Write)>,
    outcomes: &Outcomes,
) {
    let mut retry: Vec<Write> = Vec::new();
    loop {
        let first = if retry.is_empty() {
            inbox.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            inbox.recv_timeout(RETRY_AFTER)
        };
        let mut tickets = None;
        let mut writes = std::mem::take(&mut retry);
        match first {
            Ok(first) => {
                for (ticket, write) in std::iter::once(first).chain(inbox.try_iter()) {
                    let (lo, _) = tickets.get_or_insert((ticket.0, ticket.0));
                    tickets = Some((*lo, ticket.0));
                    writes.push(write);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) if writes.is_empty() => return,
            Err(RecvTimeoutError::Disconnected) => {
                // Last chance for the failed writes; then they are lost.
                if let Err(e) = store.apply(&writes) {
                    tracing::error!(
                        "{} changes could not be recorded before closing: {e}",
                        writes.len()
                    );
                }
                return;
            }
        }
        let outcome = store.apply(&writes).map_err(|e| {
            tracing::error!("cannot record {} changes in the store: {e}", writes.len());
            retry = latest_per_download(std::mem::take(&mut writes));
            StoreFailure(e.to_string())
        });
        match tickets {
            Some((first, last)) => outcomes.record(first, last, outcome),
            // A retry alone decides no ticket, but tells whether the store
            // works again.
            None => {
                if outcome.is_ok() {
                    outcomes.healthy.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

/// The writes that still matter after a failure: the last one per download.
fn latest_per_download(writes: Vec<Write>) -> Vec<Write> {
    let mut latest: HashMap<Gid, usize> = HashMap::new();
    for (i, write) in writes.iter().enumerate() {
        latest.insert(write.gid(), i);
    }
    let mut keep: Vec<usize> = latest.into_values().collect();
    keep.sort_unstable();
    let mut writes: Vec<Option<Write>> = writes.into_iter().map(Some).collect();
    keep.into_iter().filter_map(|i| writes[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::StoreError;
    use std::sync::atomic::AtomicUsize;

    /// A store that fails while `broken` is set and counts what it applied.
    #[derive(Default, Clone)]
    struct Flaky {
        broken: Arc<AtomicBool>,
        applied: Arc<Mutex<Vec<Gid>>>,
        commits: Arc<AtomicUsize>,
    }

    impl Store for Flaky {
        fn load(&mut self) -> Result<Vec<DownloadRecord>, StoreError> {
            Ok(Vec::new())
        }
        fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
            if self.broken.load(Ordering::SeqCst) {
                return Err(StoreError::Corrupt {
                    gid: String::new(),
                    what: "disk is full".into(),
                });
            }
            self.commits.fetch_add(1, Ordering::SeqCst);
            self.applied
                .lock()
                .unwrap()
                .extend(writes.iter().map(Write::gid));
            Ok(())
        }
    }

    fn flaky() -> (Writer, Flaky) {
        let store = Flaky::default();
        (Writer::spawn(Box::new(store.clone())), store)
    }

    #[tokio::test]
    async fn a_write_is_durable_once_its_commit_succeeded() {
        let (writer, store) = flaky();
        let gid = Gid::random();
        let ticket = writer.delete(gid, 1);
        writer.durable(ticket).await.unwrap();
        assert_eq!(*store.applied.lock().unwrap(), [gid]);
        assert!(writer.healthy());
    }

    #[tokio::test]
    async fn many_waiters_share_few_commits() {
        let (writer, store) = flaky();
        let (applied, commits) = (&store.applied, &store.commits);
        let tickets: Vec<Ticket> = (0..1000).map(|_| writer.delete(Gid::random(), 1)).collect();
        let waits = tickets.into_iter().map(|t| writer.durable(t));
        for result in futures::future::join_all(waits).await {
            result.unwrap();
        }
        assert_eq!(applied.lock().unwrap().len(), 1000);
        assert!(
            commits.load(Ordering::SeqCst) < 1000,
            "{} commits for 1000 writes",
            commits.load(Ordering::SeqCst)
        );
    }

    #[tokio::test]
    async fn a_failed_commit_fails_its_writes_and_they_are_retried_when_the_store_works_again() {
        let (writer, store) = flaky();
        let (broken, applied) = (&store.broken, &store.applied);
        broken.store(true, Ordering::SeqCst);
        let gid = Gid::random();
        let failed = writer.delete(gid, 1);
        let why = writer.durable(failed).await.unwrap_err();
        assert!(why.0.contains("disk is full"), "{why}");
        assert!(!writer.healthy());
        assert!(writer.last_failure().is_some());

        broken.store(false, Ordering::SeqCst);
        let next = writer.delete(Gid::random(), 1);
        writer.durable(next).await.unwrap();
        assert!(writer.healthy());
        assert_eq!(
            applied.lock().unwrap()[0],
            gid,
            "the failed write went first"
        );
    }

    #[tokio::test]
    async fn a_closed_writer_fails_new_writes_at_once() {
        let (writer, _) = flaky();
        writer.close().await;
        let ticket = writer.delete(Gid::random(), 1);
        assert!(writer.durable(ticket).await.is_err());
    }

    #[test]
    fn only_the_last_write_of_each_download_is_retried() {
        let (a, b) = (Gid::random(), Gid::random());
        let delete = |gid| Write::Delete { gid, seq: 1 };
        let kept = latest_per_download(vec![delete(a), delete(b), delete(a)]);
        let gids: Vec<Gid> = kept.iter().map(Write::gid).collect();
        assert_eq!(gids, [b, a]);
    }
}
