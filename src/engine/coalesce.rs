//! "Latest progress wins": the one coalescing log behind every queue of
//! events in haul (an engine subscription, a WebSocket connection's pending
//! notifications, the replay window).
//!
//! The rule, stated once (and in openrpc.json, on `download.progress`): a
//! download's progress that has not gone out yet is superseded by its newer
//! progress. The older one is dropped and the newer keeps its own place in
//! the order; state changes are never dropped, merged or reordered. So a
//! reader that falls behind gets every state change and, per download, the
//! latest progress, in the order they happened.
//!
//! Pushing and popping cost O(1) amortised: a superseded entry stays in
//! place, marked dead, and popping skips it; the log is compacted whenever
//! dead entries outnumber live ones, so its size stays within twice what it
//! holds. (Dead entries stay in place so the log remains ordered, for
//! `iter_from`'s binary search.)

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// What the log needs to know of an entry.
pub trait Coalesce {
    type Key: Hash + Eq + Clone;
    /// `Some(download)` for an entry a newer one of the same key supersedes
    /// (progress); `None` for one that is never dropped (a state change).
    fn supersedable(&self) -> Option<Self::Key>;
}

#[derive(Debug)]
pub struct CoalescingLog<T: Coalesce> {
    /// Entries, oldest first, each with whether it is still live.
    entries: VecDeque<(T, bool)>,
    /// The absolute position of `entries[0]`: positions stay valid as the
    /// front moves (a `push_front` takes the one before).
    head: u64,
    /// Where each key's supersedable entry is.
    latest: HashMap<T::Key, u64>,
    live: usize,
}

impl<T: Coalesce> Default for CoalescingLog<T> {
    fn default() -> Self {
        CoalescingLog {
            entries: VecDeque::new(),
            // Room for as many `push_front`s as anyone will make.
            head: u64::MAX / 2,
            latest: HashMap::new(),
            live: 0,
        }
    }
}

impl<T: Coalesce> CoalescingLog<T> {
    /// Appends `entry`; a supersedable one drops its key's older one.
    pub fn push_back(&mut self, entry: T) {
        let position = self.head + self.entries.len() as u64;
        if let Some(key) = entry.supersedable() {
            if let Some(older) = self.latest.insert(key, position) {
                if let Some((_, live)) = self.entries.get_mut((older - self.head) as usize) {
                    if std::mem::replace(live, false) {
                        self.live -= 1;
                    }
                }
            }
        }
        self.entries.push_back((entry, true));
        self.live += 1;
        if self.entries.len() > 2 * self.live + 16 {
            self.compact();
        }
    }

    /// Removes the dead entries. Positions are renumbered from `head`, so
    /// the keys' positions are found again.
    fn compact(&mut self) {
        self.entries.retain(|(_, live)| *live);
        self.latest.clear();
        for (i, (entry, _)) in self.entries.iter().enumerate() {
            if let Some(key) = entry.supersedable() {
                self.latest.insert(key, self.head + i as u64);
            }
        }
    }

    /// Puts `entry` before everything else; it supersedes nothing, and
    /// nothing supersedes it (an answer that must go out first).
    pub fn push_front(&mut self, entry: T) {
        self.head -= 1;
        self.entries.push_front((entry, true));
        self.live += 1;
    }

    /// The oldest live entry.
    pub fn front(&mut self) -> Option<&T> {
        self.skip_dead();
        self.entries.front().map(|(entry, _)| entry)
    }

    pub fn pop_front(&mut self) -> Option<T> {
        self.skip_dead();
        let (entry, _) = self.entries.pop_front()?;
        let position = self.head;
        self.head += 1;
        self.live -= 1;
        if let Some(key) = entry.supersedable() {
            if self.latest.get(&key) == Some(&position) {
                self.latest.remove(&key);
            }
        }
        Some(entry)
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.latest.clear();
        self.live = 0;
    }

    /// Keeps the live entries `keep` says yes to (a rebuild: for rare
    /// changes like a new filter, not for the hot path).
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        for (entry, live) in self.entries.iter_mut() {
            if *live && !keep(entry) {
                *live = false;
                self.live -= 1;
            }
        }
        self.compact();
    }

    /// Live entries, oldest first.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries
            .iter()
            .filter(|(_, live)| *live)
            .map(|(entry, _)| entry)
    }

    /// Live entries from the first one for which `before` is false, for a
    /// log ordered by what `before` tests (the replay window by `seq`).
    pub fn iter_from(&self, before: impl Fn(&T) -> bool) -> impl Iterator<Item = &T> {
        let start = self.entries.partition_point(|(entry, _)| before(entry));
        self.entries
            .range(start..)
            .filter(|(_, live)| *live)
            .map(|(entry, _)| entry)
    }

    /// Drops the dead entries at the front, so it is a live one.
    fn skip_dead(&mut self) {
        while let Some((_, false)) = self.entries.front() {
            self.entries.pop_front();
            self.head += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    enum Event {
        Progress(&'static str, u32),
        Changed(&'static str),
    }

    impl Coalesce for Event {
        type Key = &'static str;
        fn supersedable(&self) -> Option<&'static str> {
            match self {
                Event::Progress(gid, _) => Some(gid),
                Event::Changed(_) => None,
            }
        }
    }

    use Event::{Changed, Progress};

    fn drain(log: &mut CoalescingLog<Event>) -> Vec<Event> {
        std::iter::from_fn(|| log.pop_front()).collect()
    }

    #[test]
    fn the_latest_progress_wins_in_its_own_place_and_state_changes_all_stay() {
        let mut log = CoalescingLog::default();
        for event in [
            Progress("a", 1),
            Progress("b", 1),
            Progress("a", 2),
            Changed("a"),
            Progress("a", 3),
            Progress("a", 4),
            Changed("b"),
        ] {
            log.push_back(event);
        }
        assert_eq!(log.len(), 4);
        assert_eq!(
            drain(&mut log),
            [
                Progress("b", 1),
                Changed("a"),
                Progress("a", 4),
                Changed("b")
            ]
        );
        assert!(log.is_empty());
    }

    #[test]
    fn progress_after_its_older_one_went_out_is_kept() {
        let mut log = CoalescingLog::default();
        log.push_back(Progress("a", 1));
        assert_eq!(log.pop_front(), Some(Progress("a", 1)));
        log.push_back(Progress("a", 2));
        assert_eq!(log.pop_front(), Some(Progress("a", 2)));
        assert_eq!(log.pop_front(), None);
    }

    #[test]
    fn a_front_entry_goes_first_and_is_never_superseded() {
        let mut log = CoalescingLog::default();
        log.push_back(Progress("a", 1));
        log.push_front(Changed("answer"));
        log.push_back(Progress("a", 2));
        assert_eq!(drain(&mut log), [Changed("answer"), Progress("a", 2)]);
    }

    #[test]
    fn holes_never_outnumber_live_entries() {
        let mut log = CoalescingLog::default();
        for i in 0..10_000 {
            log.push_back(Progress("a", i));
        }
        assert_eq!(log.len(), 1);
        assert!(log.entries.len() <= 2 + 16, "{} slots", log.entries.len());
        for i in 0..1000 {
            log.push_back(Progress(["b", "c"][i % 2], i as u32));
            log.push_back(Changed("d"));
        }
        assert!(log.entries.len() <= 2 * log.len() + 16);
        assert_eq!(log.front(), Some(&Progress("a", 9_999)));
        assert_eq!(log.iter().filter(|e| matches!(e, Progress(..))).count(), 3);
    }

    #[test]
    fn iteration_from_a_position_skips_what_came_before() {
        let mut log = CoalescingLog::default();
        for i in 0..5 {
            log.push_back(Progress(["a", "b"][i % 2], i as u32));
        }
        // Of a0 b1 a2 b3 a4, a4 and b3 survive.
        let from: Vec<&Event> = log
            .iter_from(|e| matches!(e, Progress(_, n) if *n < 4))
            .collect();
        assert_eq!(from, [&Progress("a", 4)]);
        assert_eq!(log.iter().count(), 2);
    }
}
