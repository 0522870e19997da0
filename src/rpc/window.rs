//! The event window: the recent notifications a reconnecting client can have
//! replayed (`events.subscribe` with `since`).
//!
//! It is a [`CoalescingLog`]: every state change and only the latest
//! progress of each download (older progress is superseded, not lost), up to
//! a capacity; the oldest entries make room for new ones. `evicted_through`
//! remembers how far back that went: a `since` below it would have a gap, so
//! it is refused.

use std::sync::Arc;

use serde_json::value::RawValue;

use crate::engine::coalesce::{Coalesce, CoalescingLog};

/// One serialised notification, as the hub fans it out.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub seq: u64,
    /// The notification's method, e.g. `download.progress`.
    pub kind: &'static str,
    /// The download it is about.
    pub gid: Arc<str>,
    /// Progress may be superseded by later progress of the same download;
    /// state changes never are.
    pub progress: bool,
    /// Serialised once; every connection gets a copy of these bytes, never
    /// a parse of them.
    pub json: Arc<RawValue>,
}

impl Coalesce for Pushed {
    type Key = Arc<str>;
    fn supersedable(&self) -> Option<Arc<str>> {
        self.progress.then(|| self.gid.clone())
    }
}

pub struct Window {
    capacity: usize,
    entries: CoalescingLog<Pushed>,
    /// The highest `seq` dropped to make room.
    evicted_through: u64,
}

impl Window {
    pub fn new(capacity: usize) -> Window {
        Window {
            capacity: capacity.max(1),
            entries: CoalescingLog::default(),
            evicted_through: 0,
        }
    }

    pub fn push(&mut self, pushed: Pushed) {
        self.entries.push_back(pushed);
        while self.entries.len() > self.capacity {
            let Some(oldest) = self.entries.pop_front() else {
                break;
            };
            self.evicted_through = oldest.seq;
        }
    }

    /// The lowest `since` that replays without a gap.
    pub fn oldest_seq(&self) -> u64 {
        self.evicted_through
    }

    /// Every kept notification after `since`, in order; `None` when some
    /// were dropped for room.
    pub fn since(&self, since: u64) -> Option<impl Iterator<Item = &Pushed>> {
        (since >= self.evicted_through).then(|| self.entries.iter_from(move |p| p.seq <= since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed(seq: u64, gid: &str, progress: bool) -> Pushed {
        Pushed {
            seq,
            kind: if progress {
                "download.progress"
            } else {
                "download.started"
            },
            gid: Arc::from(gid),
            progress,
            json: Arc::from(RawValue::from_string(format!("{seq}")).unwrap()),
        }
    }

    fn seqs(window: &Window, since: u64) -> Option<Vec<u64>> {
        window.since(since).map(|it| it.map(|p| p.seq).collect())
    }

    #[test]
    fn progress_is_kept_only_as_the_latest_of_each_download() {
        let mut window = Window::new(100);
        for (seq, gid, progress) in [
            (1, "a", false),
            (2, "a", true),
            (3, "b", true),
            (4, "a", true),
            (5, "b", false),
        ] {
            window.push(pushed(seq, gid, progress));
        }
        assert_eq!(seqs(&window, 0), Some(vec![1, 3, 4, 5]));
        assert_eq!(seqs(&window, 3), Some(vec![4, 5]));
        assert_eq!(window.oldest_seq(), 0, "superseded progress is no gap");
    }

    #[test]
    fn a_full_window_drops_the_oldest_and_refuses_to_replay_across_the_gap() {
        let mut window = Window::new(3);
        for seq in 1..=5 {
            window.push(pushed(seq, "a", false));
        }
        assert_eq!(window.oldest_seq(), 2);
        assert_eq!(seqs(&window, 1), None);
        assert_eq!(seqs(&window, 2), Some(vec![3, 4, 5]));
        assert_eq!(seqs(&window, 5), Some(vec![]));
    }

    #[test]
    fn evicting_a_downloads_progress_forgets_it() {
        let mut window = Window::new(2);
        window.push(pushed(1, "a", true));
        window.push(pushed(2, "b", false));
        window.push(pushed(3, "c", false));
        window.push(pushed(4, "a", true));
        assert_eq!(seqs(&window, 2), Some(vec![3, 4]));
    }
}
