//! The aria2 door's stopped list, in the order downloads stopped, as aria2
//! keeps it: complete and failed downloads (the engine's, for as long as it
//! keeps them) and those removed through this door, which haul itself
//! forgets at once but aria2 lists with status `removed` until
//! `removeDownloadResult` or `purgeDownloadResult` (at most [`MAX_REMOVED`],
//! aria2's `--max-download-result` default, in memory only, as in aria2).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::engine::{AddRequest, Engine, Gid, State, Status};

const MAX_REMOVED: usize = 1000;

/// A removed download's last word.
#[derive(Debug)]
pub(crate) struct Removed {
    pub status: Status,
    pub request: AddRequest,
}

#[derive(Debug)]
pub(crate) enum Stopped {
    /// Complete or failed: the engine has its status.
    Live(Gid),
    Removed(Box<Removed>),
}

#[derive(Debug, Default)]
pub(crate) struct Results {
    /// Stop order → entry.
    order: BTreeMap<u64, Stopped>,
    at: HashMap<Gid, u64>,
    next: u64,
    live: usize,
    removed: usize,
    /// Stopped downloads no longer listed: for `numStoppedTotal`.
    forgotten: u64,
}

impl Results {
    /// The engine's finished downloads, in the order they finished (those
    /// without a completion time, the failed ones, in creation order first).
    pub fn of(engine: &Engine) -> Results {
        let mut finished = engine
            .list(&[State::Complete, State::Error], 0, usize::MAX, None)
            .downloads;
        finished.sort_by_key(|s| s.completed_at);
        let mut results = Results::default();
        for status in finished {
            results.push(status.gid, Stopped::Live(status.gid));
        }
        results
    }

    fn push(&mut self, gid: Gid, entry: Stopped) {
        self.take(gid);
        match entry {
            Stopped::Live(_) => self.live += 1,
            Stopped::Removed(_) => self.removed += 1,
        }
        self.order.insert(self.next, entry);
        self.at.insert(gid, self.next);
        self.next += 1;
    }

    fn take(&mut self, gid: Gid) -> Option<Stopped> {
        let entry = self.order.remove(&self.at.remove(&gid)?)?;
        match entry {
            Stopped::Live(_) => self.live -= 1,
            Stopped::Removed(_) => self.removed -= 1,
        }
        Some(entry)
    }

    /// `gid` completed or failed just now.
    pub fn stopped(&mut self, gid: Gid) {
        self.push(gid, Stopped::Live(gid));
    }

    /// `gid` left the engine's finished downloads: it runs again, or it is
    /// forgotten. A removed download's result stays.
    pub fn left(&mut self, gid: Gid) {
        if let Some(&at) = self.at.get(&gid) {
            if matches!(self.order.get(&at), Some(Stopped::Live(_))) {
                self.take(gid);
            }
        }
    }

    /// Keeps a download removed through this door.
    pub fn removed(&mut self, status: Status, request: AddRequest) {
        if self.removed >= MAX_REMOVED {
            let oldest = self.order.iter().find_map(|(_, e)| match e {
                Stopped::Removed(r) => Some(r.status.gid),
                Stopped::Live(_) => None,
            });
            if let Some(gid) = oldest {
                self.take(gid);
                self.forgotten += 1;
            }
        }
        let gid = status.gid;
        self.push(gid, Stopped::Removed(Box::new(Removed { status, request })));
    }

    pub fn get_removed(&self, gid: Gid) -> Option<&Removed> {
        match self.order.get(self.at.get(&gid)?)? {
            Stopped::Removed(removed) => Some(removed),
            Stopped::Live(_) => None,
        }
    }

    /// Forgets a removed download's result; whether there was one.
    pub fn forget(&mut self, gid: Gid) -> bool {
        if self.get_removed(gid).is_none() {
            return false;
        }
        self.take(gid);
        self.forgotten += 1;
        true
    }

    /// Counts stopped downloads forgotten by the engine (purged).
    pub fn count_forgotten(&mut self, n: u64) {
        self.forgotten += n;
    }

    pub fn clear_removed(&mut self) {
        let gids: Vec<Gid> = self
            .order
            .values()
            .filter_map(|e| match e {
                Stopped::Removed(r) => Some(r.status.gid),
                Stopped::Live(_) => None,
            })
            .collect();
        self.forgotten += gids.len() as u64;
        for gid in gids {
            self.take(gid);
        }
    }

    /// Puts right what the events have not told yet (a download that
    /// finished a moment ago): cheap while the counts agree.
    pub fn sync(&mut self, engine: &Engine) {
        let stats = engine.stats();
        if (stats.complete + stats.error) as usize == self.live {
            return;
        }
        let finished = engine.list(&[State::Complete, State::Error], 0, usize::MAX, None);
        let now: HashSet<Gid> = finished.downloads.iter().map(|s| s.gid).collect();
        let gone: Vec<Gid> = self
            .order
            .values()
            .filter_map(|e| match e {
                Stopped::Live(gid) if !now.contains(gid) => Some(*gid),
                _ => None,
            })
            .collect();
        for gid in gone {
            self.take(gid);
        }
        for status in finished.downloads {
            let listed = self
                .at
                .get(&status.gid)
                .and_then(|at| self.order.get(at))
                .is_some_and(|e| matches!(e, Stopped::Live(_)));
            if !listed {
                self.push(status.gid, Stopped::Live(status.gid));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    /// The entries `start..start + len`, in stop order.
    pub fn slice(&self, start: usize, len: usize) -> impl Iterator<Item = &Stopped> {
        self.order.values().skip(start).take(len)
    }

    pub fn removed_starting_with<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = Gid> + 'a {
        self.order.values().filter_map(move |e| match e {
            Stopped::Removed(r) if r.status.gid.to_string().starts_with(prefix) => {
                Some(r.status.gid)
            }
            _ => None,
        })
    }
}
