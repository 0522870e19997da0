//! Exponential backoff with jitter: the one retry rule of every loop that
//! waits for a peer to come back — the engine's tries against a download's
//! server and the SDK's event stream reconnecting to the daemon.
//!
//! Each wait doubles from the first one up to a ceiling, and is then scaled
//! by a random factor in [0.5, 1): a crowd of clients that failed together
//! spreads out instead of retrying in step, and no wait is shorter than half
//! of the nominal one.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// The waits between tries of one loop; [`Backoff::reset`] after progress.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    ceiling: Duration,
    /// Give up after this many failed tries in a row (`None`: never).
    tries: Option<u32>,
    failures: u32,
}

impl Backoff {
    /// Waits from `first`, doubling up to `ceiling`, for ever.
    pub fn new(first: Duration, ceiling: Duration) -> Backoff {
        Backoff {
            first,
            ceiling,
            tries: None,
            failures: 0,
        }
    }

    /// The same, but [`Backoff::next_delay`] gives up at the `tries`th
    /// failure in a row.
    pub fn giving_up_after(mut self, tries: u32) -> Backoff {
        self.tries = Some(tries);
        self
    }

    /// Counts a failure: the wait before the next try, or `None` when the
    /// tries are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        if self.tries.is_some_and(|tries| self.failures >= tries) {
            return None;
        }
        let doubled = 2u32.saturating_pow(self.failures - 1);
        Some(jitter(self.first.saturating_mul(doubled).min(self.ceiling)))
    }

    /// A try made progress: the next failure waits the first wait again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// `wait` scaled by a random factor in [0.5, 1). The randomness is std's
/// per-instance hash keys: enough to spread clients out, and it keeps a
/// random-number crate out of the SDK's build.
fn jitter(wait: Duration) -> Duration {
    let random = RandomState::new().hash_one(0u8);
    // The top 53 bits, as a fraction in [0, 1).
    let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
    wait.mul_f64(0.5 + fraction / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_ceiling_each_between_half_and_all_of_it() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        for nominal in [100, 200, 400, 800, 800, 800] {
            let wait = backoff.next_delay().unwrap();
            let nominal = Duration::from_millis(nominal);
            assert!(
                wait >= nominal / 2 && wait < nominal,
                "{wait:?} for {nominal:?}"
            );
        }
    }

    #[test]
    fn a_reset_starts_again_from_the_first_wait() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(60));
        for _ in 0..5 {
            backoff.next_delay();
        }
        backoff.reset();
        assert!(backoff.next_delay().unwrap() < Duration::from_millis(100));
    }

    #[test]
    fn a_limited_backoff_gives_up_at_its_last_try_and_an_unlimited_one_never() {
        let mut limited =
            Backoff::new(Duration::from_millis(1), Duration::from_secs(1)).giving_up_after(3);
        assert!(limited.next_delay().is_some());
        assert!(limited.next_delay().is_some());
        assert_eq!(limited.next_delay(), None);
        let mut unlimited = Backoff::new(Duration::from_millis(1), Duration::from_millis(2));
        assert!((0..100).all(|_| unlimited.next_delay().is_some()));
    }

    #[test]
    fn jitter_spreads_equal_waits() {
        let waits: std::collections::HashSet<Duration> =
            (0..20).map(|_| jitter(Duration::from_secs(1))).collect();
        assert!(waits.len() > 10, "{waits:?}");
    }
}
