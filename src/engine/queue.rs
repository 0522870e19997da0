//! The in-memory registry of downloads (the queue order lives in `seq`) and
//! the per-host connection slots shared by all downloads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::limiter::Limiter;
use super::status::{Gid, State};
use super::store::DownloadRecord;

/// Why a running download is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Pause,
    Remove {
        delete_files: bool,
    },
    /// The engine is closing: the download stays active in the store and
    /// resumes at the next open.
    Shutdown,
}

/// A running download's task and its controls.
#[derive(Debug)]
pub(crate) struct Running {
    pub cancel: CancellationToken,
    pub stop: Option<Stop>,
    pub handle: Option<JoinHandle<()>>,
    pub speed: u64,
    pub connections: u32,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub record: DownloadRecord,
    /// The per-download speed limit, alive across pauses so a change sticks.
    pub limiter: Arc<Limiter>,
    pub running: Option<Running>,
}

#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: HashMap<Gid, Entry>,
    /// Creation order → gid: FIFO for the queue, order for `list`.
    order: BTreeMap<i64, Gid>,
    next_seq: i64,
}

impl Registry {
    pub fn insert(&mut self, record: DownloadRecord) {
        self.next_seq = self.next_seq.max(record.seq + 1);
        self.order.insert(record.seq, record.gid);
        let limiter = Arc::new(Limiter::new(record.request.speed_limit.unwrap_or(0)));
        self.entries.insert(
            record.gid,
            Entry {
                record,
                limiter,
                running: None,
            },
        );
    }

    pub fn next_seq(&self) -> i64 {
        self.next_seq
    }

    pub fn get(&self, gid: Gid) -> Option<&Entry> {
        self.entries.get(&gid)
    }

    pub fn get_mut(&mut self, gid: Gid) -> Option<&mut Entry> {
        self.entries.get_mut(&gid)
    }

    pub fn remove(&mut self, gid: Gid) -> Option<Entry> {
        let entry = self.entries.remove(&gid)?;
        self.order.remove(&entry.record.seq);
        Some(entry)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entries in creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.order.values().filter_map(|gid| self.entries.get(gid))
    }

    pub fn count(&self, state: State) -> usize {
        self.entries
            .values()
            .filter(|e| e.record.state == state)
            .count()
    }

    /// The oldest queued download.
    pub fn next_queued(&self) -> Option<Gid> {
        self.iter()
            .find(|e| e.record.state == State::Queued)
            .map(|e| e.record.gid)
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
