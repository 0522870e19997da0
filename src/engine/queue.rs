//! The in-memory registry of downloads (creation order is `seq`, queue
//! order `rank`) and the per-host connection slots shared by all downloads.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::control::Running;
use super::limiter::Limiter;
use super::status::{Gid, State};
use super::store::DownloadRecord;
use super::writer::Ticket;

#[derive(Debug)]
pub(crate) struct Entry {
    pub record: DownloadRecord,
    /// The per-download speed limit, alive across pauses so a change sticks.
    pub limiter: Arc<Limiter>,
    pub running: Option<Running>,
    /// The ticket of the latest write of this record: a command answers
    /// once it is durable.
    pub last_write: Option<Ticket>,
    /// In a cluster, the run of this download on another node.
    pub remote: Option<RemoteRun>,
}

/// A download another node of the cluster runs, as this node last heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteRun {
    pub node: String,
    pub speed: u64,
    pub connections: u32,
}

impl RemoteRun {
    /// A run on `node` not heard from yet.
    #[cfg(feature = "cluster")]
    pub fn on(node: String) -> RemoteRun {
        RemoteRun {
            node,
            speed: 0,
            connections: 0,
        }
    }
}

/// Every download in memory, in creation order, indexed by state, so the
/// queue, `stats` and `list` cost nothing per download held (the daemon may
/// hold 100,000, mostly finished or waiting).
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Creation order → entry.
    entries: BTreeMap<i64, Entry>,
    index: HashMap<Gid, i64>,
    /// Each state's downloads, oldest first.
    by_state: [BTreeSet<i64>; State::ALL.len()],
    /// The waiting downloads (queued or paused) in queue order, `(rank,
    /// seq)`: the queued ones start in this order.
    waiting: BTreeSet<(i64, i64)>,
    queued: BTreeSet<(i64, i64)>,
    /// The entry last lent out by [`Registry::get_mut`], with its state and
    /// rank at that moment: whatever the borrower changed is accounted for
    /// on the next call (only one can be lent at a time).
    lent: Option<(i64, State, i64)>,
    next_seq: i64,
}

impl Registry {
    pub fn insert(&mut self, record: DownloadRecord) {
        self.settle();
        self.next_seq = self.next_seq.max(record.seq + 1);
        self.account(record.seq, record.state, record.rank, true);
        self.index.insert(record.gid, record.seq);
        let limiter = Arc::new(Limiter::new(record.request.speed_limit.unwrap_or(0)));
        self.entries.insert(
            record.seq,
            Entry {
                record,
                limiter,
                running: None,
                last_write: None,
                remote: None,
            },
        );
    }

    pub fn next_seq(&self) -> i64 {
        self.next_seq
    }

    pub fn get(&self, gid: Gid) -> Option<&Entry> {
        self.entries.get(self.index.get(&gid)?)
    }

    pub fn get_mut(&mut self, gid: Gid) -> Option<&mut Entry> {
        self.settle();
        let seq = *self.index.get(&gid)?;
        let record = &self.entries.get(&seq)?.record;
        self.lent = Some((seq, record.state, record.rank));
        self.entries.get_mut(&seq)
    }

    pub fn remove(&mut self, gid: Gid) -> Option<Entry> {
        self.settle();
        let seq = self.index.remove(&gid)?;
        let entry = self.entries.remove(&seq)?;
        self.account(seq, entry.record.state, entry.record.rank, false);
        Some(entry)
    }

    /// Every gid, in no particular order.
    pub fn gids(&self) -> impl Iterator<Item = Gid> + '_ {
        self.index.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn count(&mut self, state: State) -> usize {
        self.settle();
        self.by_state[state as usize].len()
    }

    /// The queued download first in the queue.
    pub fn next_queued(&mut self) -> Option<Gid> {
        self.settle();
        let (_, seq) = self.queued.first()?;
        Some(self.entries.get(seq)?.record.gid)
    }

    /// The waiting downloads (queued or paused), in queue order.
    pub fn waiting(&mut self) -> impl ExactSizeIterator<Item = &Entry> + DoubleEndedIterator {
        self.settle();
        let this = &*self;
        this.waiting.iter().map(|(_, seq)| &this.entries[seq])
    }

    /// The entries in `states` (every entry when empty), oldest first.
    pub fn in_states(&mut self, states: &[State]) -> impl Iterator<Item = &Entry> {
        self.in_states_after(states, None)
    }

    /// The entries in `states` created after the one of creation order
    /// `after` (which need not exist any more), oldest first.
    pub fn in_states_after(
        &mut self,
        states: &[State],
        after: Option<i64>,
    ) -> impl Iterator<Item = &Entry> {
        self.settle();
        let this = &*self;
        let from = after.map_or(i64::MIN, |seq| seq.saturating_add(1));
        let mut wanted: Vec<usize> = states.iter().map(|s| *s as usize).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut heads: Vec<_> = wanted
            .iter()
            .map(|s| this.by_state[*s].range(from..).peekable())
            .collect();
        let mut all = this.entries.range(from..).map(|(_, e)| e);
        // A merge of the states' ordered sets: the next oldest of their heads.
        std::iter::from_fn(move || {
            if heads.is_empty() {
                return all.next();
            }
            let (i, _) = heads
                .iter_mut()
                .enumerate()
                .filter_map(|(i, head)| Some((i, **head.peek()?)))
                .min_by_key(|(_, seq)| *seq)?;
            let seq = heads[i].next()?;
            this.entries.get(seq)
        })
    }

    /// Accounts for the state change of the entry last lent out, if any.
    fn settle(&mut self) {
        let Some((seq, state, rank)) = self.lent.take() else {
            return;
        };
        let Some(now) = self
            .entries
            .get(&seq)
            .map(|e| (e.record.state, e.record.rank))
        else {
            return;
        };
        if now != (state, rank) {
            self.account(seq, state, rank, false);
            self.account(seq, now.0, now.1, true);
        }
    }

    fn account(&mut self, seq: i64, state: State, rank: i64, present: bool) {
        fn change<K: Ord>(set: &mut BTreeSet<K>, key: K, present: bool) {
            if present {
                set.insert(key);
            } else {
                set.remove(&key);
            }
        }
        change(&mut self.by_state[state as usize], seq, present);
        if matches!(state, State::Queued | State::Paused) {
            change(&mut self.waiting, (rank, seq), present);
        }
        if state == State::Queued {
            change(&mut self.queued, (rank, seq), present);
        }
    }

    /// Final paths that unfinished downloads other than `except` have chosen,
    /// so two downloads never pick the same name.
    pub fn reserved_paths(&self, except: Gid) -> HashSet<PathBuf> {
        self.entries
            .values()
            .filter(|e| e.record.gid != except && !e.record.state.is_finished())
            .filter_map(|e| e.record.path.clone())
            .collect()
    }
}

/// Connections per host, shared by every download.
#[derive(Debug)]
pub(crate) struct HostSlots {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostSlots {
    pub fn new(per_host: usize) -> Self {
        HostSlots {
            per_host: per_host.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free connection slot to `host` (host:port).
    pub async fn acquire(&self, host: &str) -> OwnedSemaphorePermit {
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            // Forget hosts nobody is connected to, so the map stays small.
            hosts.retain(|_, s| Arc::strong_count(s) > 1);
            hosts
                .entry(host.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        match semaphore.acquire_owned().await {
            Ok(permit) => permit,
            Err(_) => unreachable!("host semaphores are never closed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::request::AddRequest;

    fn record(seq: i64, state: State) -> DownloadRecord {
        DownloadRecord::new(
            Gid::random(),
            seq,
            state,
            AddRequest::new("https://example.com/x"),
        )
    }

    #[test]
    fn counts_and_the_queue_follow_state_changes_made_through_get_mut() {
        let mut registry = Registry::default();
        let records: Vec<DownloadRecord> = (0..4).map(|i| record(i, State::Queued)).collect();
        let gids: Vec<Gid> = records.iter().map(|r| r.gid).collect();
        for r in records {
            registry.insert(r);
        }
        assert_eq!(
            (registry.count(State::Queued), registry.next_queued()),
            (4, Some(gids[0]))
        );
        registry.get_mut(gids[0]).unwrap().record.state = State::Active;
        registry.get_mut(gids[1]).unwrap().record.state = State::Paused;
        assert_eq!(registry.count(State::Queued), 2);
        assert_eq!(
            (registry.count(State::Active), registry.count(State::Paused)),
            (1, 1)
        );
        assert_eq!(registry.next_queued(), Some(gids[2]));
        registry.remove(gids[2]);
        assert_eq!(
            (registry.count(State::Queued), registry.next_queued()),
            (1, Some(gids[3]))
        );
        let order: Vec<Gid> = registry.in_states(&[]).map(|e| e.record.gid).collect();
        assert_eq!(order, [gids[0], gids[1], gids[3]]);
        let some: Vec<Gid> = registry
            .in_states(&[State::Queued, State::Active])
            .map(|e| e.record.gid)
            .collect();
        assert_eq!(some, [gids[0], gids[3]]);
    }
}
