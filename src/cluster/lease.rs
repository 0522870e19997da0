//! A node's lease as the node itself keeps it, by its monotonic clock.
//!
//! The database decides whether a lease ran out (its own clock, `now()`),
//! but a node that cannot reach it — or was frozen, or its renewals are
//! slow — must stop writing files *before* any reaper can hand its
//! downloads to another node. So every renewal also moves a local
//! deadline: the instant the renewal was *sent* (the server's lease starts
//! later, so it ends later) plus the lease, less a margin for clock rates.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a node's lease lasts and how early it stops trusting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// What one renewal grants, by the database's clock.
    pub length: Duration,
    /// How long before the end of `length` (by the node's clock) the node
    /// stops writing: covers clocks that run at slightly different rates.
    pub margin: Duration,
}

impl Lease {
    /// A lease of `length` whose last fifth the node does not use.
    pub fn new(length: Duration) -> Lease {
        Lease {
            length,
            margin: length / 5,
        }
    }
}

/// The local deadline, moved by each successful registration or renewal.
#[derive(Debug)]
pub(crate) struct LocalLease {
    lease: Lease,
    deadline: Mutex<Option<Instant>>,
}

impl LocalLease {
    pub fn new(lease: Lease) -> LocalLease {
        LocalLease {
            lease,
            deadline: Mutex::new(None),
        }
    }

    pub fn lease(&self) -> Lease {
        self.lease
    }

    /// A renewal sent at `sent_at` succeeded. A late answer to an earlier
    /// renewal never moves the deadline back.
    pub fn renewed(&self, sent_at: Instant) {
        let until = sent_at + self.lease.length.saturating_sub(self.lease.margin);
        let mut deadline = self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        if deadline.is_none_or(|d| d < until) {
            *deadline = Some(until);
        }
    }

    /// The lease is lost (or given up): no more writes, whatever the clock.
    pub fn lost(&self) {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn may_write(&self) -> bool {
        self.remaining() > Duration::ZERO
    }

    /// How long the node may still write by its own clock.
    pub fn remaining(&self) -> Duration {
        let deadline = *self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        deadline.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(Instant::now())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_deadline_ends_a_margin_before_the_lease() {
        let local = LocalLease::new(Lease {
            length: Duration::from_secs(30),
            margin: Duration::from_secs(6),
        });
        assert!(!local.may_write(), "not before the first renewal");
        let sent = Instant::now();
        local.renewed(sent);
        let left = local.remaining();
        assert!(left <= Duration::from_secs(24) && left > Duration::from_secs(23));
        // An answer to an older renewal does not shorten it.
        local.renewed(sent - Duration::from_secs(10));
        assert!(local.remaining() > Duration::from_secs(23));
        local.lost();
        assert!(!local.may_write());
    }

    #[test]
    fn a_renewal_sent_longer_ago_than_the_lease_allows_no_write() {
        let local = LocalLease::new(Lease::new(Duration::from_secs(5)));
        local.renewed(Instant::now() - Duration::from_secs(4));
        assert!(!local.may_write(), "4 s into a 5 s lease with a 1 s margin");
    }
}
