//! The byte ranges of one download and how connections share them.
//!
//! Each connection owns one [`Segment`] at a time and is the only writer of
//! its `pos`; others may only lower its `end` (work stealing), under the
//! table's lock. The hot path therefore needs two atomic operations per
//! chunk and no lock. A stealer may lower `end` below a chunk the owner is
//! already writing; both then write the same bytes of the same file, which
//! is harmless, and progress counts `min(pos, end)`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// `end` of the single segment of a stream whose length is unknown.
pub const UNKNOWN_END: u64 = u64::MAX;

#[derive(Debug)]
pub struct Segment {
    start: u64,
    pos: AtomicU64,
    end: AtomicU64,
}

impl Segment {
    fn new(start: u64, pos: u64, end: u64) -> Self {
        Segment {
            start,
            pos: AtomicU64::new(pos),
            end: AtomicU64::new(end),
        }
    }

    pub fn pos(&self) -> u64 {
        self.pos.load(Ordering::Acquire)
    }

    pub fn end(&self) -> u64 {
        self.end.load(Ordering::Acquire)
    }

    /// Called by the owner after the bytes up to `pos` are written (Release:
    /// a checkpoint that sees the new `pos` also sees the write, so its
    /// fdatasync covers it).
    pub fn set_pos(&self, pos: u64) {
        self.pos.store(pos, Ordering::Release);
    }

    /// Fixes the end of a lone stream: at EOF, or from a new response's length.
    pub fn set_end(&self, end: u64) {
        self.end.store(end, Ordering::Release);
    }

    pub fn remaining(&self) -> u64 {
        self.end().saturating_sub(self.pos())
    }

    fn saved(&self) -> SavedSegment {
        let end = self.end();
        SavedSegment {
            start: self.start,
            pos: self.pos().min(end),
            end,
        }
    }
}

/// A segment as the store records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedSegment {
    pub start: u64,
    pub pos: u64,
    pub end: u64,
}

#[derive(Debug)]
struct Slot {
    segment: Arc<Segment>,
    /// Whether a connection is working on it.
    owned: bool,
    /// For an end-game racer: the range it duplicates.
    races: Option<Arc<Segment>>,
}

impl Slot {
    fn new(segment: Arc<Segment>, owned: bool) -> Self {
        Slot {
            segment,
            owned,
            races: None,
        }
    }
}

#[derive(Debug)]
pub struct SegmentTable {
    slots: Mutex<Vec<Slot>>,
    total: Option<u64>,
    /// Whether the server serves ranges; without them there is nothing to steal.
    ranges: bool,
    min_split: u64,
}

impl SegmentTable {
    /// A fresh download: up to `connections` ranges made of whole
    /// `min_split` units (the last takes the odd bytes), none under
    /// `min_split`. Whole units keep boundaries aligned for the disk.
    pub fn split(total: Option<u64>, ranges: bool, connections: u16, min_split: u64) -> Self {
        let unit = min_split.max(1);
        let slots = match total {
            Some(total) if ranges => {
                let units = total / unit;
                let pieces = units.clamp(1, u64::from(connections));
                let (base, extra) = (units / pieces, units % pieces);
                let mut start = 0;
                (0..pieces)
                    .map(|i| {
                        let end = if i + 1 == pieces {
                            total
                        } else {
                            start + (base + u64::from(i < extra)) * unit
                        };
                        let segment = Arc::new(Segment::new(start, start, end));
                        start = end;
                        Slot::new(segment, false)
                    })
                    .collect()
            }
            _ => vec![Slot::new(
                Arc::new(Segment::new(0, 0, total.unwrap_or(UNKNOWN_END))),
                false,
            )],
        };
        SegmentTable {
            slots: Mutex::new(slots),
            total,
            ranges: ranges && total.is_some(),
            min_split,
        }
    }

    /// A resumed download: the unfinished ranges of its last checkpoint.
    pub fn restore(total: u64, saved: &[SavedSegment], min_split: u64) -> Self {
        let slots = saved
            .iter()
            .filter(|s| s.pos < s.end)
            .map(|s| Slot::new(Arc::new(Segment::new(s.start, s.pos, s.end)), false))
            .collect();
        SegmentTable {
            slots: Mutex::new(slots),
            total: Some(total),
            ranges: true,
            min_split,
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives a connection its next range: an unowned one first, else half of
    /// the largest remaining range (work stealing), else — when every range
    /// left is too small to split — a duplicate of the largest tail nobody
    /// races yet (end game: whichever connection finishes it first wins, so
    /// a slow connection never holds the end of the file). `None` when
    /// nothing is left for another connection.
    pub fn claim(&self) -> Option<Arc<Segment>> {
        let mut slots = self.slots();
        if self.ranges {
            settle_races(&slots);
            // Finished ranges only slow the search down; `completed` counts
            // from the total. (A lone stream keeps its segment: it is the count.)
            slots.retain(|s| s.segment.remaining() > 0);
        }
        if let Some(slot) = slots.iter_mut().find(|s| !s.owned) {
            slot.owned = true;
            return Some(slot.segment.clone());
        }
        if !self.ranges {
            return None;
        }
        let raced: Vec<*const Segment> = slots
            .iter()
            .filter_map(|s| s.races.as_ref())
            .map(Arc::as_ptr)
            .collect();
        let victim = slots
            .iter()
            .filter(|s| s.races.is_none() && !raced.contains(&Arc::as_ptr(&s.segment)))
            .map(|s| s.segment.clone())
            .max_by_key(|seg| seg.remaining())?;
        let (pos, end) = (victim.pos(), victim.end());
        let remaining = end.saturating_sub(pos);
        if remaining >= 2 * self.min_split {
            let middle = pos + remaining / 2;
            victim.end.store(middle, Ordering::Release);
            let stolen = Arc::new(Segment::new(middle, middle, end));
            slots.push(Slot::new(stolen.clone(), true));
            return Some(stolen);
        }
        if remaining == 0 {
            return None;
        }
        let racer = Arc::new(Segment::new(pos, pos, end));
        slots.push(Slot {
            segment: racer.clone(),
            owned: true,
            races: Some(victim),
        });
        Some(racer)
    }

    /// Claims the unowned range whose next byte is `offset`, for a
    /// connection that already has a body starting there.
    pub fn claim_at(&self, offset: u64) -> Option<Arc<Segment>> {
        let mut slots = self.slots();
        let slot = slots
            .iter_mut()
            .find(|s| !s.owned && s.segment.pos() == offset)?;
        slot.owned = true;
        Some(slot.segment.clone())
    }

    /// Bytes written so far. Finished ranges leave the table, hence counting
    /// what is missing from the total (racers duplicate a range counted
    /// already); a lone stream counts its position.
    pub fn completed(&self) -> u64 {
        let slots = self.slots();
        match self.total {
            Some(total) if self.ranges => {
                let missing: u64 = slots
                    .iter()
                    .filter(|s| s.races.is_none())
                    .map(|s| s.segment.remaining())
                    .sum();
                total - missing.min(total)
            }
            _ => slots
                .iter()
                .map(|s| s.segment.pos() - s.segment.start)
                .sum(),
        }
    }

    /// The unfinished ranges, for a checkpoint. A racer's bytes are not
    /// claimed until it wins (its victim's end then moves down to it).
    pub fn snapshot(&self) -> Vec<SavedSegment> {
        self.slots()
            .iter()
            .filter(|s| s.races.is_none())
            .map(|s| s.segment.saved())
            .filter(|s| s.pos < s.end)
            .collect()
    }

    /// Every byte is written, even if a losing racer is still connected.
    pub fn is_done(&self) -> bool {
        let slots = self.slots();
        settle_races(&slots);
        slots.iter().all(|s| s.segment.remaining() == 0)
    }

    pub fn ranges(&self) -> bool {
        self.ranges
    }
}

/// Ends the races that have a winner: a racer that has all its bytes ends
/// its victim where the racer started; a victim that finished first stops
/// its racer where it is.
fn settle_races(slots: &[Slot]) {
    for slot in slots {
        let Some(victim) = &slot.races else { continue };
        let racer = &slot.segment;
        if racer.remaining() == 0 {
            victim.end.fetch_min(racer.start, Ordering::AcqRel);
        } else if victim.remaining() == 0 {
            racer.end.fetch_min(racer.pos(), Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_file_is_split_evenly_but_never_below_the_minimum() {
        let table = SegmentTable::split(Some(10 * MIB + 3), true, 8, MIB);
        let saved = table.snapshot();
        assert_eq!(saved.len(), 8);
        assert_eq!(saved.first().unwrap().start, 0);
        assert_eq!(saved.last().unwrap().end, 10 * MIB + 3);
        assert!(saved.windows(2).all(|w| w[0].end == w[1].start));
        assert!(
            saved.iter().all(|s| s.start % MIB == 0),
            "aligned: {saved:?}"
        );
        let sizes: Vec<u64> = saved.iter().map(|s| (s.end - s.start) / MIB).collect();
        assert_eq!(sizes, [2, 2, 1, 1, 1, 1, 1, 1]);
        assert_eq!(
            SegmentTable::split(Some(3 * MIB), true, 8, MIB)
                .snapshot()
                .len(),
            3
        );
        assert_eq!(
            SegmentTable::split(Some(100), true, 8, MIB)
                .snapshot()
                .len(),
            1
        );
        assert_eq!(
            SegmentTable::split(Some(10 * MIB), false, 8, MIB)
                .snapshot()
                .len(),
            1
        );
    }

    #[test]
    fn an_idle_connection_steals_half_of_the_largest_remaining_range() {
        let table = SegmentTable::split(Some(8 * MIB), true, 2, MIB);
        let a = table.claim().unwrap();
        let b = table.claim().unwrap();
        a.set_pos(a.end()); // `a` is done, `b` has 4 MiB left
        let stolen = table.claim().unwrap();
        assert_eq!((stolen.pos(), stolen.end()), (6 * MIB, 8 * MIB));
        assert_eq!(b.end(), 6 * MIB);
        // 2 MiB left in each: splitting them would go below 1 MiB... exactly 1 MiB is fine.
        let again = table.claim().unwrap();
        assert_eq!(again.end() - again.pos(), MIB);
        b.set_pos(b.end());
        stolen.set_pos(stolen.end());
        again.set_pos(again.end());
        assert!(table.claim().is_none());
        assert!(table.is_done());
        assert_eq!(table.completed(), 8 * MIB);
    }

    #[test]
    fn an_unsplittable_tail_is_raced_and_the_first_to_finish_wins() {
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (slow, fast) = (table.claim().unwrap(), table.claim().unwrap());
        fast.set_pos(fast.end());
        slow.set_pos(MIB / 2);
        // Half a MiB left: too little to split, so the idle connection races it.
        let racer = table.claim().unwrap();
        assert_eq!((racer.pos(), racer.end()), (MIB / 2, MIB));
        assert!(table.claim().is_none(), "one racer per tail");
        assert_eq!(
            table.completed(),
            MIB + MIB / 2,
            "a racer adds nothing until it wins"
        );
        assert!(!table.is_done());
        racer.set_pos(MIB);
        assert!(table.is_done(), "the racer's win finishes the slow range");
        assert_eq!(slow.remaining(), 0);
        assert_eq!(table.completed(), 2 * MIB);
        assert!(table.snapshot().is_empty());
    }

    #[test]
    fn a_victim_that_finishes_first_stops_its_racer() {
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (slow, fast) = (table.claim().unwrap(), table.claim().unwrap());
        fast.set_pos(fast.end());
        let racer = table.claim().unwrap();
        racer.set_pos(racer.pos() + 10);
        slow.set_pos(slow.end());
        assert!(table.is_done());
        assert_eq!(racer.remaining(), 0);
    }

    #[test]
    fn a_restored_table_resumes_only_what_is_missing() {
        let saved = [
            SavedSegment {
                start: 0,
                pos: 10,
                end: 10,
            },
            SavedSegment {
                start: 10,
                pos: 15,
                end: 20,
            },
        ];
        let table = SegmentTable::restore(20, &saved, 1);
        assert_eq!(table.completed(), 15);
        assert!(table.claim_at(3).is_none(), "nothing starts at 3");
        let table = SegmentTable::restore(20, &saved, 1);
        let seg = table.claim_at(15).unwrap();
        assert_eq!((seg.pos(), seg.end()), (15, 20));
    }
}
