//! The byte ranges of one download and how connections share them.
//!
//! Each connection owns one [`Segment`] at a time and is the only writer of
//! its `pos`; others may only lower its `end` (work stealing), under the
//! table's lock. The hot path therefore needs two atomic operations per
//! chunk and no lock. A stealer may lower `end` below a chunk the owner is
//! already writing; both then write the same bytes of the same file, which
//! is harmless, and progress counts `min(pos, end)`.
//!
//! Who gets what is decided by time, not bytes: every connection carries a
//! [`Meter`] of its recent throughput, and a range's cost is its remaining
//! bytes over its owner's rate. A connection asking for work
//!
//! 1. takes a range nobody owns (the initial split, a restored table);
//! 2. gives way if it is much slower than the fastest connection
//!    ([`SLOW_FACTOR`]): it gets nothing more and its connection closes, so
//!    a slow connection never holds the tail while faster ones are idle
//!    (nor is it replaced: against a server that limits each connection,
//!    measured with nginx's `limit_rate`, a new one gains nothing);
//! 3. else takes the costliest range's later part, sized so owner and
//!    stealer finish together (never leaving either under `min_split`);
//! 4. else, when the costliest ranges are too small to split (the end
//!    game), races one: it downloads the same bytes again from where the
//!    owner is, if it would finish clearly sooner than the owner and every
//!    racer already on it. The first copy to finish wins and the others stop
//!    where they are; both copies are the same bytes of the same version of
//!    the file (every answer is checked against it), so the file is the same
//!    whichever wins.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A connection this many times slower than the fastest one gets no more
/// work: its range is taken over (stolen or raced) instead.
pub const SLOW_FACTOR: f64 = 3.0;

/// A racer must expect to finish in at most this fraction of the time the
/// range would take otherwise: racing duplicates bytes, so it must pay.
const RACE_GAIN: f64 = 0.7;

/// What a connection asking for work gets.
#[derive(Debug)]
pub enum Claim {
    Range(Arc<Segment>),
    /// Work is left, but none that this connection would speed up now: ask
    /// again a little later.
    Wait,
    /// Nothing for this connection any more: it should close.
    Done,
}

impl Claim {
    #[cfg(test)]
    fn range(self) -> Option<Arc<Segment>> {
        match self {
            Claim::Range(segment) => Some(segment),
            _ => None,
        }
    }
}

/// How a connection's throughput is measured: over the last one or two
/// windows of this length, so a connection that stalls slows down at once.
const METER_WINDOW: Duration = Duration::from_millis(500);

/// Rates are not trusted over less time than this.
const METER_MIN_SPAN: Duration = Duration::from_millis(100);

/// One connection's recent throughput, and what a request costs it.
#[derive(Debug, Default)]
pub struct Meter {
    windows: Mutex<Windows>,
    /// Microseconds from its last request to the answer's headers.
    overhead_us: AtomicU64,
}

#[derive(Debug, Default)]
struct Windows {
    /// The window before the current one: (start, bytes).
    previous: Option<(Instant, u64)>,
    current: Option<(Instant, u64)>,
    /// When the last bytes came.
    last: Option<Instant>,
}

impl Meter {
    /// Counts `bytes` just received.
    pub fn record(&self, bytes: u64, now: Instant) {
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        w.last = Some(now);
        match w.current {
            // The bytes arrived during the window they close.
            Some((start, count)) if now.duration_since(start) >= METER_WINDOW => {
                w.previous = Some((start, count + bytes));
                w.current = Some((now, 0));
            }
            Some((start, count)) => w.current = Some((start, count + bytes)),
            None => w.current = Some((now, bytes)),
        }
    }

    /// Notes how long the last request took to be answered.
    pub fn record_overhead(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.overhead_us.store(us, Ordering::Relaxed);
    }

    pub fn overhead(&self) -> Duration {
        Duration::from_micros(self.overhead_us.load(Ordering::Relaxed))
    }

    /// How long it has delivered nothing (zero before its first byte, which
    /// its request's overhead covers).
    pub fn silence(&self, now: Instant) -> Duration {
        let w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        w.last
            .map_or(Duration::ZERO, |last| now.saturating_duration_since(last))
    }

    /// Bytes per second over the last windows; `None` before there is a
    /// span worth measuring.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (start, bytes) = match (w.previous, w.current) {
            (Some((start, a)), Some((_, b))) => (start, a + b),
            (None, Some(current)) => current,
            _ => return None,
        };
        let span = now.duration_since(start);
        (span >= METER_MIN_SPAN).then(|| bytes as f64 / span.as_secs_f64())
    }
}

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

    #[cfg(test)]
    pub fn start(&self) -> u64 {
        self.start
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
    /// The connection working on it, if any.
    owner: Option<Arc<Meter>>,
    /// For an end-game racer: the range it duplicates.
    races: Option<Arc<Segment>>,
}

impl Slot {
    fn new(segment: Arc<Segment>, owner: Option<Arc<Meter>>) -> Self {
        Slot {
            segment,
            owner,
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
                        Slot::new(segment, None)
                    })
                    .collect()
            }
            _ => vec![Slot::new(
                Arc::new(Segment::new(0, 0, total.unwrap_or(UNKNOWN_END))),
                None,
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
            .map(|s| Slot::new(Arc::new(Segment::new(s.start, s.pos, s.end)), None))
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

    /// Gives the connection measured by `me` its next range (see the module
    /// docs for the order of choices).
    pub fn claim(&self, me: &Arc<Meter>) -> Claim {
        self.claim_at_time(me, Instant::now())
    }

    fn claim_at_time(&self, me: &Arc<Meter>, now: Instant) -> Claim {
        let mut slots = self.slots();
        if self.ranges {
            settle_races(&slots);
            // Finished ranges only slow the search down; `completed` counts
            // from the total. (A lone stream keeps its segment: it is the count.)
            slots.retain(|s| s.segment.remaining() > 0);
        }
        if let Some(slot) = slots.iter_mut().find(|s| s.owner.is_none()) {
            slot.owner = Some(me.clone());
            return Claim::Range(slot.segment.clone());
        }
        if !self.ranges || slots.is_empty() {
            return Claim::Done;
        }
        let rate_of = |meter: &Option<Arc<Meter>>| meter.as_ref().and_then(|m| m.rate(now));
        let known: Vec<f64> = slots
            .iter()
            .filter_map(|s| rate_of(&s.owner))
            .chain(me.rate(now))
            .filter(|r| *r > 0.0)
            .collect();
        let fastest = known.iter().copied().fold(0.0, f64::max);
        if me
            .rate(now)
            .is_some_and(|mine| mine * SLOW_FACTOR < fastest)
        {
            tracing::trace!(mine = ?me.rate(now), fastest, "a slow connection gives way");
            return Claim::Done;
        }
        // Unmeasured connections count as average ones.
        let average = if known.is_empty() {
            1.0
        } else {
            known.iter().sum::<f64>() / known.len() as f64
        };
        let rate =
            |meter: &Option<Arc<Meter>>| rate_of(meter).filter(|r| *r > 0.0).unwrap_or(average);
        // When a copy of a range is expected to be done: a connection that
        // has gone silent is late by its silence at least (a stall, or a
        // server holding a new request back), whatever its rate was.
        let eta = |remaining: u64, owner: &Option<Arc<Meter>>| {
            let silence = owner.as_ref().map_or(0.0, |m| m.silence(now).as_secs_f64());
            remaining as f64 / rate(owner) + silence
        };
        let mine = me.rate(now).filter(|r| *r > 0.0).unwrap_or(average);
        // What a new request costs this connection before its first byte.
        let overhead = me.overhead().as_secs_f64();

        // The ranges being downloaded, costliest first; a range's cost is the
        // soonest any copy of it (owner or racer) is expected to finish.
        let mut candidates: Vec<(f64, usize)> = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.races.is_none())
            .map(|(i, s)| {
                let victim = &s.segment;
                let soonest = racers_of(&slots, victim)
                    .map(|r| eta(r.segment.remaining(), &r.owner))
                    .fold(eta(victim.remaining(), &s.owner), f64::min);
                (soonest, i)
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (soonest, i) in candidates {
            let slot = &slots[i];
            let victim = slot.segment.clone();
            let (pos, end) = (victim.pos(), victim.end());
            let remaining = end.saturating_sub(pos);
            if remaining == 0 {
                continue;
            }
            let split = self.min_split.max(1);
            if racers_of(&slots, &victim).next().is_none() && remaining >= 2 * split {
                // Owner and stealer finish together: the owner keeps its share
                // of the time, within the bounds of the smallest range.
                let owner = rate(&slot.owner);
                let kept = (remaining as f64 * owner / (owner + mine)) as u64;
                let kept = kept.clamp(split, remaining - split);
                let middle = pos + kept;
                tracing::trace!(from = pos, kept, owner, mine, "stealing the end of a range");
                victim.end.store(middle, Ordering::Release);
                let stolen = Arc::new(Segment::new(middle, middle, end));
                slots.push(Slot::new(stolen.clone(), Some(me.clone())));
                return Claim::Range(stolen);
            }
            if overhead + remaining as f64 / mine < RACE_GAIN * soonest {
                tracing::trace!(from = pos, remaining, mine, soonest, "racing a range");
                let racer = Arc::new(Segment::new(pos, pos, end));
                slots.push(Slot {
                    segment: racer.clone(),
                    owner: Some(me.clone()),
                    races: Some(victim),
                });
                return Claim::Range(racer);
            }
        }
        // Nothing pays now; it may once an owner slows down or a range ends.
        Claim::Wait
    }

    /// Claims the unowned range whose next byte is `offset`, for a
    /// connection that already has a body starting there.
    pub fn claim_at(&self, offset: u64, me: &Arc<Meter>) -> Option<Arc<Segment>> {
        let mut slots = self.slots();
        let slot = slots
            .iter_mut()
            .find(|s| s.owner.is_none() && s.segment.pos() == offset)?;
        slot.owner = Some(me.clone());
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

fn racers_of<'a>(slots: &'a [Slot], victim: &'a Arc<Segment>) -> impl Iterator<Item = &'a Slot> {
    slots
        .iter()
        .filter(move |r| r.races.as_ref().is_some_and(|v| Arc::ptr_eq(v, victim)))
}

/// Ends the races that have a winner. A racer that has all its bytes ends
/// its victim where the racer started; every racer then ends where its
/// victim now ends, and a victim that finished stops its racers where they
/// are. (Several racers may share a victim: each later racer started at or
/// past the earlier ones, so a win never leaves a byte unclaimed.)
fn settle_races(slots: &[Slot]) {
    for slot in slots {
        if let Some(victim) = &slot.races {
            if slot.segment.remaining() == 0 {
                victim.end.fetch_min(slot.segment.start, Ordering::AcqRel);
            }
        }
    }
    for slot in slots {
        let Some(victim) = &slot.races else { continue };
        let racer = &slot.segment;
        if victim.remaining() == 0 {
            racer.end.fetch_min(racer.pos(), Ordering::AcqRel);
        } else {
            racer.end.fetch_min(victim.end(), Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    /// A connection that has delivered `rate` bytes per second for a second.
    fn meter(rate: u64, now: Instant) -> Arc<Meter> {
        let meter = Arc::new(Meter::default());
        meter.record(0, now - Duration::from_millis(1000));
        meter.record(rate / 2, now - Duration::from_millis(500));
        meter.record(rate / 2, now);
        meter
    }

    fn fresh() -> Arc<Meter> {
        Arc::new(Meter::default())
    }

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
    fn a_meter_measures_recent_throughput_and_slows_down_during_a_stall() {
        let now = Instant::now();
        let m = meter(8 * MIB, now);
        let rate = m.rate(now).unwrap();
        assert!(
            (rate - 8.0 * MIB as f64).abs() < 0.01 * MIB as f64,
            "{rate}"
        );
        let later = now + Duration::from_secs(1);
        assert!(m.rate(later).unwrap() < 0.6 * rate, "a stall shows");
        assert_eq!(fresh().rate(now), None, "nothing measured yet");
    }

    #[test]
    fn an_idle_connection_steals_half_of_a_range_from_an_equally_fast_one() {
        let table = SegmentTable::split(Some(8 * MIB), true, 2, MIB);
        let (ma, mb) = (fresh(), fresh());
        let a = table.claim(&ma).range().unwrap();
        let b = table.claim(&mb).range().unwrap();
        a.set_pos(a.end()); // `a` is done, `b` has 4 MiB left
        let stolen = table.claim(&ma).range().unwrap();
        assert_eq!((stolen.pos(), stolen.end()), (6 * MIB, 8 * MIB));
        assert_eq!(b.end(), 6 * MIB);
        b.set_pos(b.end());
        stolen.set_pos(stolen.end());
        assert!(table.is_done());
        assert_eq!(table.completed(), 8 * MIB);
    }

    #[test]
    fn a_stealer_takes_the_share_that_makes_both_finish_together() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(20 * MIB), true, 2, MIB);
        let (slow, fast) = (meter(MIB, now), meter(4 * MIB, now));
        let s = table.claim_at_time(&slow, now).range().unwrap();
        let f = table.claim_at_time(&fast, now).range().unwrap();
        f.set_pos(f.end());
        let stolen = table.claim_at_time(&fast, now).range().unwrap();
        // 10 MiB left at 1 and 4 MiB/s: the slow one keeps a fifth.
        assert_eq!(s.end(), 2 * MIB);
        assert_eq!((stolen.pos(), stolen.end()), (2 * MIB, 10 * MIB));
    }

    #[test]
    fn the_costliest_range_is_stolen_from_not_the_largest() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(30 * MIB), true, 3, MIB);
        let (slow, fast, idle) = (meter(MIB, now), meter(8 * MIB, now), meter(8 * MIB, now));
        let s = table.claim_at_time(&slow, now).range().unwrap(); // 0..10
        let f = table.claim_at_time(&fast, now).range().unwrap(); // 10..20
        let i = table.claim_at_time(&idle, now).range().unwrap(); // 20..30
        s.set_pos(6 * MIB); // 4 MiB left at 1 MiB/s: 4 s
        f.set_pos(10 * MIB + MIB); // 9 MiB left at 8 MiB/s: about 1 s
        i.set_pos(i.end());
        let stolen = table.claim_at_time(&idle, now).range().unwrap();
        assert!(
            stolen.start() < 10 * MIB,
            "from the slow range: {}",
            stolen.start()
        );
    }

    #[test]
    fn a_much_slower_connection_gets_no_more_work() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(20 * MIB), true, 2, MIB);
        let (slow, fast) = (meter(MIB, now), meter(8 * MIB, now));
        let s = table.claim_at_time(&slow, now).range().unwrap();
        let _f = table.claim_at_time(&fast, now).range().unwrap();
        s.set_pos(s.end());
        assert!(
            matches!(table.claim_at_time(&slow, now), Claim::Done),
            "it closes rather than steal from the fast one"
        );
    }

    #[test]
    fn an_unsplittable_tail_is_raced_by_a_faster_connection_and_the_first_to_finish_wins() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (ms, mf) = (meter(MIB, now), meter(2 * MIB, now));
        let (slow, fast) = (
            table.claim_at_time(&ms, now).range().unwrap(),
            table.claim_at_time(&mf, now).range().unwrap(),
        );
        fast.set_pos(fast.end());
        slow.set_pos(MIB / 2);
        // Half a MiB left: too little to split, so the idle connection races it.
        let racer = table.claim_at_time(&mf, now).range().unwrap();
        assert_eq!((racer.pos(), racer.end()), (MIB / 2, MIB));
        assert!(
            matches!(table.claim_at_time(&meter(2 * MIB, now), now), Claim::Wait),
            "as fast as the racer: no gain in a third copy, for now"
        );
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
    fn a_racer_no_faster_than_the_owner_is_not_sent() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (a, b) = (meter(2 * MIB, now), meter(2 * MIB, now));
        let (first, second) = (
            table.claim_at_time(&a, now).range().unwrap(),
            table.claim_at_time(&b, now).range().unwrap(),
        );
        first.set_pos(first.end());
        // Too little left to split into pieces worth a request.
        second.set_pos(second.start() + MIB * 6 / 10);
        assert!(matches!(table.claim_at_time(&a, now), Claim::Wait));
    }

    #[test]
    fn a_faster_racer_joins_a_slow_racer_and_any_win_ends_the_others() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (crawl, slow, fast) = (meter(MIB / 8, now), meter(MIB, now), meter(8 * MIB, now));
        let victim = table.claim_at_time(&crawl, now).range().unwrap(); // 0..1
        let other = table.claim_at_time(&slow, now).range().unwrap(); // 1..2
        other.set_pos(other.end());
        let first = table.claim_at_time(&slow, now).range().unwrap();
        assert_eq!(first.start(), 0, "the slow one races the crawling one");
        victim.set_pos(MIB / 4);
        let second = table.claim_at_time(&fast, now).range().unwrap();
        assert_eq!((second.start(), second.end()), (MIB / 4, MIB));
        second.set_pos(MIB);
        assert!(table.is_done(), "the fast racer's win ends the race");
        assert_eq!(first.remaining(), 0, "the slow racer stops");
        assert_eq!(victim.remaining(), 0, "and so does the owner");
        assert_eq!(table.completed(), 2 * MIB);
    }

    #[test]
    fn a_race_that_would_cost_more_than_it_saves_is_not_run() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (owner, racer) = (meter(MIB, now), meter(8 * MIB, now));
        let _o = table.claim_at_time(&owner, now).range().unwrap();
        let r = table.claim_at_time(&racer, now).range().unwrap();
        r.set_pos(r.end());
        // A far server: a new request costs more than the owner has left.
        racer.record_overhead(Duration::from_secs(2));
        assert!(matches!(table.claim_at_time(&racer, now), Claim::Wait));
        racer.record_overhead(Duration::from_millis(10));
        assert!(table.claim_at_time(&racer, now).range().is_some());
    }

    #[test]
    fn a_silent_owner_is_raced_even_if_it_was_fast() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (owner, other) = (meter(8 * MIB, now), meter(8 * MIB, now));
        let _o = table.claim_at_time(&owner, now).range().unwrap();
        let r = table.claim_at_time(&other, now).range().unwrap();
        r.set_pos(r.end());
        assert!(
            matches!(table.claim_at_time(&other, now), Claim::Wait),
            "as fast as the owner: nothing to gain"
        );
        // The owner has sent nothing for half a second (a stall, or a
        // server holding its request back): it is raced, measured rate or not.
        let later = now + Duration::from_millis(500);
        other.record(4 * MIB, later);
        assert!(table.claim_at_time(&other, later).range().is_some());
    }

    #[test]
    fn a_victim_that_finishes_first_stops_its_racer() {
        let now = Instant::now();
        let table = SegmentTable::split(Some(2 * MIB), true, 2, MIB);
        let (ms, mf) = (meter(MIB, now), meter(4 * MIB, now));
        let (slow, fast) = (
            table.claim_at_time(&ms, now).range().unwrap(),
            table.claim_at_time(&mf, now).range().unwrap(),
        );
        fast.set_pos(fast.end());
        let racer = table.claim_at_time(&mf, now).range().unwrap();
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
        assert!(table.claim_at(3, &fresh()).is_none(), "nothing starts at 3");
        let table = SegmentTable::restore(20, &saved, 1);
        let seg = table.claim_at(15, &fresh()).unwrap();
        assert_eq!((seg.pos(), seg.end()), (15, 20));
    }
}
