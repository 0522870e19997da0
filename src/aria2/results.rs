//! The downloads removed through the aria2 door, as aria2 keeps them: in
//! `tellStopped` with status `removed` until `removeDownloadResult` or
//! `purgeDownloadResult`, at most [`MAX_RESULTS`] (aria2's
//! `--max-download-result` default), in memory only, as in aria2.

use std::collections::VecDeque;

use crate::engine::{Gid, Status};

const MAX_RESULTS: usize = 1000;

#[derive(Debug, Default)]
pub(crate) struct Results {
    /// Oldest removal first.
    removed: VecDeque<Status>,
    /// Stopped downloads no longer listed: for `numStoppedTotal`.
    forgotten: u64,
}

impl Results {
    /// Keeps `status` as the removed download's last word.
    pub fn removed(&mut self, status: Status) {
        if self.removed.len() == MAX_RESULTS {
            self.removed.pop_front();
            self.forgotten += 1;
        }
        self.removed.push_back(status);
    }

    pub fn get(&self, gid: Gid) -> Option<&Status> {
        self.removed.iter().find(|s| s.gid == gid)
    }

    /// Whether there was one to forget.
    pub fn forget(&mut self, gid: Gid) -> bool {
        let before = self.removed.len();
        self.removed.retain(|s| s.gid != gid);
        let forgot = self.removed.len() < before;
        self.forgotten += u64::from(forgot);
        forgot
    }

    /// Counts stopped downloads forgotten elsewhere (purged from the engine).
    pub fn count_forgotten(&mut self, n: u64) {
        self.forgotten += n;
    }

    pub fn clear(&mut self) {
        self.forgotten += self.removed.len() as u64;
        self.removed.clear();
    }

    pub fn len(&self) -> usize {
        self.removed.len()
    }

    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Status> + ExactSizeIterator {
        self.removed.iter()
    }

    pub fn gids_starting_with<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = Gid> + 'a {
        self.removed
            .iter()
            .map(|s| s.gid)
            .filter(move |gid| gid.to_string().starts_with(prefix))
    }
}
