//! Token-bucket speed limits, one per download and one global, whose rate
//! can change while transfers run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Limiter {
    /// Bytes per second; 0 means unlimited. Read on every chunk, so atomic.
    rate: AtomicU64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// May go negative: a chunk larger than the burst is paid off by waiting.
    tokens: f64,
    last: Instant,
}

impl Limiter {
    pub fn new(rate: u64) -> Self {
        Limiter {
            rate: AtomicU64::new(rate),
            bucket: Mutex::new(Bucket {
                tokens: 0.0,
                last: Instant::now(),
            }),
        }
    }

    pub fn rate(&self) -> u64 {
        self.rate.load(Ordering::Relaxed)
    }

    pub fn set_rate(&self, rate: u64) {
        self.rate.store(rate, Ordering::Relaxed);
    }

    /// Accounts for `bytes` just received and waits as long as the rate says.
    pub async fn take(&self, bytes: usize) {
        let wait = self.debit(bytes, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn debit(&self, bytes: usize, now: Instant) -> Duration {
        let rate = self.rate();
        if rate == 0 {
            return Duration::ZERO; // the hot path when unlimited: one atomic load
        }
        let rate = rate as f64;
        // A quarter second of burst keeps the rate smooth without starving
        // the reads that hand over large chunks.
        let burst = rate / 4.0;
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.last = now;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst) - bytes as f64;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens / rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_waits() {
        let limiter = Limiter::new(0);
        assert_eq!(limiter.debit(1 << 30, Instant::now()), Duration::ZERO);
    }

    #[test]
    fn debt_is_paid_off_at_the_configured_rate() {
        let limiter = Limiter::new(1000);
        let start = limiter.bucket.lock().unwrap().last;
        // An empty bucket: 500 bytes cost half a second.
        assert_eq!(limiter.debit(500, start), Duration::from_millis(500));
        // A second later the debt is paid and 250 bytes of burst are back.
        assert_eq!(
            limiter.debit(250, start + Duration::from_millis(1500)),
            Duration::ZERO
        );
        limiter.set_rate(0);
        assert_eq!(limiter.debit(1 << 20, start), Duration::ZERO);
    }
}
