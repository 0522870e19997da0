//! Engine events and their fan-out to subscribers.
//!
//! Every subscriber has its own queue, so a slow one never blocks the engine
//! or the others: a [`CoalescingLog`], in which every state change waits and
//! a download's progress supersedes its older progress still waiting, so the
//! queue stays bounded by the number of state changes plus downloads.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::Stream;
use tokio::sync::Notify;

use super::coalesce::{Coalesce, CoalescingLog};
use super::error::FailureCode;
use super::status::Gid;

/// Why a download that had bytes started again from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartReason {
    /// The remote file is another one now (validators, length or range
    /// answers say so): the old bytes must not be mixed with the new.
    RemoteChanged,
    /// The server no longer serves ranges, or the `.part` file is gone.
    NotResumable,
}

impl RestartReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartReason::RemoteChanged => "remote-changed",
            RestartReason::NotResumable => "not-resumable",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The scheduler gave the download a slot: it is active, and probes
    /// its server next.
    Activated {
        gid: Gid,
    },
    /// The transfer began. `resumed` is true when earlier bytes were kept;
    /// false for a fresh start and for a restart from zero, whose reason
    /// `restarted` gives.
    Started {
        gid: Gid,
        file_name: String,
        total_length: Option<u64>,
        resumed: bool,
        restarted: Option<RestartReason>,
    },
    Progress {
        gid: Gid,
        completed_length: u64,
        total_length: Option<u64>,
        download_speed: u64,
        eta: Option<u64>,
        connections: u32,
    },
    Paused {
        gid: Gid,
        completed_length: u64,
    },
    Complete {
        gid: Gid,
        path: PathBuf,
        total_length: u64,
    },
    Error {
        gid: Gid,
        code: FailureCode,
        message: String,
        completed_length: u64,
    },
    Removed {
        gid: Gid,
    },
}

impl EngineEvent {
    pub fn gid(&self) -> Gid {
        match self {
            EngineEvent::Activated { gid }
            | EngineEvent::Started { gid, .. }
            | EngineEvent::Progress { gid, .. }
            | EngineEvent::Paused { gid, .. }
            | EngineEvent::Complete { gid, .. }
            | EngineEvent::Error { gid, .. }
            | EngineEvent::Removed { gid } => *gid,
        }
    }
}

impl Coalesce for EngineEvent {
    type Key = Gid;
    fn supersedable(&self) -> Option<Gid> {
        matches!(self, EngineEvent::Progress { .. }).then(|| self.gid())
    }
}

/// An event as subscribers get it: in a cluster, a state change carries
/// its number in the cluster's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub event: EngineEvent,
    pub cluster_seq: Option<i64>,
}

impl Coalesce for Published {
    type Key = Gid;
    fn supersedable(&self) -> Option<Gid> {
        self.event.supersedable()
    }
}

#[derive(Debug, Default)]
struct Queue {
    events: CoalescingLog<Published>,
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    notify: Notify,
}

impl Shared {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Fans events out; owned by the engine.
#[derive(Debug, Default)]
pub(crate) struct EventHub {
    subscribers: Mutex<Vec<Arc<Shared>>>,
}

impl EventHub {
    pub fn subscribe(&self) -> Subscription {
        let shared = Arc::new(Shared::default());
        self.subscribers().push(shared.clone());
        Subscription { shared }
    }

    pub fn publish(&self, event: EngineEvent) {
        self.publish_numbered(event, None);
    }

    /// Publishes a state change numbered `cluster_seq` in the cluster's log.
    pub fn publish_numbered(&self, event: EngineEvent, cluster_seq: Option<i64>) {
        let published = Published { event, cluster_seq };
        let mut subscribers = self.subscribers();
        // A dropped subscription leaves us as the only owner.
        subscribers.retain(|s| Arc::strong_count(s) > 1);
        for subscriber in subscribers.iter() {
            subscriber.queue().events.push_back(published.clone());
            subscriber.notify.notify_one();
        }
    }

    /// Ends every subscription once its queue is drained.
    pub fn close(&self) {
        for subscriber in self.subscribers().drain(..) {
            subscriber.queue().closed = true;
            subscriber.notify.notify_one();
        }
    }

    fn subscribers(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Shared>>> {
        self.subscribers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One consumer's view of the engine's events, from the moment it subscribed.
#[derive(Debug)]
pub struct Subscription {
    shared: Arc<Shared>,
}

impl Subscription {
    /// The next event; `None` after the engine shut down.
    pub async fn recv(&mut self) -> Option<EngineEvent> {
        self.recv_published().await.map(|p| p.event)
    }

    /// The next event with its number in a cluster's log.
    pub async fn recv_published(&mut self) -> Option<Published> {
        loop {
            {
                let mut queue = self.shared.queue();
                if let Some(event) = queue.events.pop_front() {
                    return Some(event);
                }
                if queue.closed {
                    return None;
                }
            }
            // `notify_one` stores a permit, so a push between the check
            // above and this await is not missed.
            self.shared.notify.notified().await;
        }
    }

    /// The same events as a `Stream`.
    pub fn into_stream(self) -> impl Stream<Item = EngineEvent> + Send + Unpin + 'static {
        Box::pin(futures::stream::unfold(self, |mut sub| async move {
            sub.recv().await.map(|event| (event, sub))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(gid: Gid, completed_length: u64) -> EngineEvent {
        EngineEvent::Progress {
            gid,
            completed_length,
            total_length: None,
            download_speed: 0,
            eta: None,
            connections: 1,
        }
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_the_latest_progress_and_every_state_change() {
        let hub = EventHub::default();
        let mut sub = hub.subscribe();
        let (a, b) = (Gid::random(), Gid::random());
        hub.publish(progress(a, 1));
        hub.publish(progress(b, 1));
        hub.publish(progress(a, 2));
        hub.publish(EngineEvent::Paused {
            gid: a,
            completed_length: 2,
        });
        hub.publish(progress(a, 3));
        hub.publish(progress(a, 4));
        hub.publish(EngineEvent::Removed { gid: b });
        let mut got = Vec::new();
        hub.close();
        while let Some(event) = sub.recv().await {
            got.push(event);
        }
        assert_eq!(
            got,
            vec![
                progress(b, 1),
                EngineEvent::Paused {
                    gid: a,
                    completed_length: 2
                },
                progress(a, 4),
                EngineEvent::Removed { gid: b },
            ]
        );
    }

    #[tokio::test]
    async fn progress_after_a_drained_queue_is_queued_again() {
        let hub = EventHub::default();
        let mut sub = hub.subscribe();
        let gid = Gid::random();
        hub.publish(progress(gid, 1));
        assert_eq!(sub.recv().await, Some(progress(gid, 1)));
        hub.publish(progress(gid, 2));
        assert_eq!(sub.recv().await, Some(progress(gid, 2)));
    }

    #[test]
    fn dropped_subscriptions_are_forgotten() {
        let hub = EventHub::default();
        drop(hub.subscribe());
        hub.publish(EngineEvent::Removed { gid: Gid::random() });
        assert!(hub.subscribers().is_empty());
    }
}
