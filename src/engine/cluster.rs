//! The engine as one node of a cluster (`haul daemon --cluster-db`): the
//! downloads live in PostgreSQL ([`crate::cluster`]), and the registry is
//! this node's mirror of all of them, so `list`, `status` and `stats` on any
//! node show the cluster.
//!
//! - Who runs what: the scheduler claims queued downloads up to the node's
//!   free slots ([`claim`]); a claimed download runs as on a lone daemon,
//!   and its writes (checkpoints, its end) go through the store's writer to
//!   [`ClusterStore`], fenced by the claim's epoch. A fenced write, or a
//!   lease this node can no longer vouch for, stops the download at once
//!   without writing ([`Stop::Shutdown`]: the record is someone else's).
//! - Downloads another node runs, or nobody: pause, resume and remove go to
//!   the database directly ([`pause`], [`resume`], [`remove`]), which asks
//!   the owner through `desired` and a NOTIFY; the call answers once the
//!   change is committed and this node's mirror shows it.
//! - The mirror follows the cluster's event log (`clusterSeq` order) from
//!   a snapshot ([`catch_up`]): every change another node made, or that
//!   this node made to a download it does not run, is applied and
//!   published to this node's subscribers. Changes to the downloads this
//!   node runs are applied and published where they happen, as on a lone
//!   daemon; their log entries are skipped (`written`).
//! - Background ([`start`]): the heartbeat (renew, reap, publish progress,
//!   claim), the watchdog (the lease's local deadline), the listener
//!   (events, asks from other nodes, their progress). A node that lost its
//!   lease stops its downloads, rejoins under a new node id and takes a new
//!   snapshot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::control::{Running, Settlement, Stop};
use super::error::{EngineError, Failure, FailureCode};
use super::events::EngineEvent;
use super::queue::{Registry, RemoteRun};
use super::status::{Gid, State};
use super::store::{DownloadRecord, Store, StoreError, Write};
use super::{task, Shared};
use crate::cluster::{
    Asked, ClusterError, ClusterEvent, Coordinator, Desired, EventKind, Inserted, Lease, NodeId,
    Notice, Progress, Refusal, Setting,
};

/// How a node joins the cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The `postgres://` URL of the cluster database.
    pub url: String,
    /// How the node shows in `download.status` and the logs.
    pub node_name: String,
    /// What one renewal grants (by the database's clock).
    pub lease: Duration,
    /// How often the node renews, reaps and claims.
    pub renew_every: Duration,
    /// Events kept in the cluster's log for clients that reconnect.
    pub event_window: u64,
}

/// How long a call waits for another node to carry out a pause or remove
/// before it answers with the state the download is in then.
const OWNER_ANSWERS_WITHIN: Duration = Duration::from_secs(30);

/// Events read from the log per query.
const EVENTS_PER_READ: usize = 1000;

/// The most adds committed in one transaction.
const INSERTS_PER_COMMIT: usize = 1000;

/// An add waiting for its commit, and where its answer goes.
type Insert = (
    DownloadRecord,
    oneshot::Sender<Result<Inserted, EngineError>>,
);

/// A download as the snapshot has it, and the name of the node running it.
pub(crate) struct Mirrored {
    pub record: DownloadRecord,
    pub node: Option<String>,
}

/// What the store's writer thread learns that the engine must act on.
enum Ask {
    /// A write of `gid` was fenced: another node owns it now.
    Fenced(Gid),
    /// Another node asked for this (seen at a checkpoint).
    Desired(Gid, Desired),
}

/// The engine's side of the cluster, shared by the engine, the store's
/// writer thread and the background tasks.
pub(crate) struct Link {
    config: ClusterConfig,
    coordinator: RwLock<Arc<Coordinator>>,
    runtime: tokio::runtime::Handle,
    /// The epoch of each download this node runs (claimed, not yet ended):
    /// every write of it is fenced by that epoch.
    tenure: Mutex<HashMap<Gid, i64>>,
    /// The number of the last change this node committed to each download
    /// it ran: the log's older entries of it are already applied.
    written: Mutex<HashMap<Gid, i64>>,
    /// The last event applied to the mirror.
    applied: watch::Sender<i64>,
    /// Held while the node rejoins.
    rejoining: tokio::sync::Mutex<()>,
    /// Held while the log is applied: events are applied once, in order.
    catching_up: tokio::sync::Mutex<()>,
    claiming: AtomicBool,
    claim_again: AtomicBool,
    /// The progress of the downloads this node runs, for the next NOTIFY.
    progress: Mutex<HashMap<Gid, Progress>>,
    names: Mutex<HashMap<NodeId, String>>,
    asks: mpsc::UnboundedSender<Ask>,
    asked: Mutex<Option<mpsc::UnboundedReceiver<Ask>>>,
    /// Adds, committed in batches: a JSON-RPC batch of adds is one commit.
    inserts: mpsc::UnboundedSender<Insert>,
    inserted: Mutex<Option<mpsc::UnboundedReceiver<Insert>>>,
    /// This node's asks of other nodes waiting for their answer.
    answers: Mutex<HashMap<u64, oneshot::Sender<Option<Refusal>>>>,
    stop: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("node", &self.coordinator().node())
            .finish_non_exhaustive()
    }
}

impl Link {
    /// Registers the node and takes the first snapshot of the downloads.
    pub async fn join(config: ClusterConfig) -> Result<(Arc<Link>, Vec<Mirrored>), ClusterError> {
        let coordinator =
            Coordinator::register(&config.url, &config.node_name, Lease::new(config.lease)).await?;
        tracing::info!(node = %coordinator.node(), name = %config.node_name, "joined the cluster");
        let (asks, asked) = mpsc::unbounded_channel();
        let (inserts, inserted) = mpsc::unbounded_channel();
        let link = Arc::new(Link {
            config,
            coordinator: RwLock::new(Arc::new(coordinator)),
            runtime: tokio::runtime::Handle::current(),
            tenure: Mutex::default(),
            written: Mutex::default(),
            applied: watch::Sender::new(0),
            rejoining: tokio::sync::Mutex::new(()),
            catching_up: tokio::sync::Mutex::new(()),
            claiming: AtomicBool::new(false),
            claim_again: AtomicBool::new(false),
            progress: Mutex::default(),
            names: Mutex::default(),
            asks,
            asked: Mutex::new(Some(asked)),
            inserts,
            inserted: Mutex::new(Some(inserted)),
            answers: Mutex::default(),
            stop: CancellationToken::new(),
            tasks: Mutex::default(),
        });
        link.refresh_names().await;
        let remotes = link.snapshot().await?;
        Ok((link, remotes))
    }

    pub fn coordinator(&self) -> Arc<Coordinator> {
        self.coordinator
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn node_name(&self) -> &str {
        &self.config.node_name
    }

    /// Whether this node may still write what its downloads fetch: false
    /// from the moment its lease may have run out.
    pub fn may_write(&self) -> bool {
        self.coordinator().may_write()
    }

    fn running_here(&self) -> usize {
        lock(&self.tenure).len()
    }

    fn epoch_of(&self, gid: Gid) -> Option<i64> {
        lock(&self.tenure).get(&gid).copied()
    }

    /// The downloads as the database has them, and where the log goes on.
    async fn snapshot(&self) -> Result<Vec<Mirrored>, ClusterError> {
        let (downloads, seq) = self.coordinator().snapshot().await?;
        self.applied.send_replace(seq);
        let names = lock(&self.names).clone();
        Ok(downloads
            .into_iter()
            .map(|d| Mirrored {
                node: d.owner.map(|n| node_label(&names, n)),
                record: d.record,
            })
            .collect())
    }

    async fn refresh_names(&self) {
        if let Ok(names) = self.coordinator().node_names().await {
            *lock(&self.names) = names.into_iter().collect();
        }
    }

    /// Notes the progress of a download this node runs, for the next batch.
    pub fn progress(&self, progress: Progress) {
        let Ok(gid) = progress.gid.parse::<Gid>() else {
            return;
        };
        lock(&self.progress).insert(gid, progress);
    }

    /// Stops the background tasks; the node's downloads must be stopped.
    pub async fn leave(&self) {
        self.stop.cancel();
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.tasks));
        for task in &tasks {
            task.abort();
        }
        match self.coordinator().graceful_shutdown().await {
            Ok(changes) => tracing::info!(
                handed_back = changes.len(),
                "left the cluster: its downloads are free for the other nodes"
            ),
            Err(e) => {
                tracing::warn!("cannot leave the cluster cleanly (the lease will run out): {e}")
            }
        }
    }
}

fn node_label(names: &HashMap<NodeId, String>, node: NodeId) -> String {
    names
        .get(&node)
        .cloned()
        .unwrap_or_else(|| format!("node {node}"))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The store of a cluster node: the writes of the downloads it runs, fenced
/// by their epoch, and the settings of downloads nobody runs. Runs on the
/// store's writer thread, which waits on the database.
pub(crate) struct ClusterStore {
    link: Arc<Link>,
}

impl ClusterStore {
    pub fn new(link: Arc<Link>) -> ClusterStore {
        ClusterStore { link }
    }

    fn apply_one(&self, write: &Write) -> Result<(), ClusterError> {
        let link = &self.link;
        let coordinator = link.coordinator();
        let fenced = |gid: Gid| {
            lock(&link.tenure).remove(&gid);
            let _ = link.asks.send(Ask::Fenced(gid));
        };
        match write {
            Write::Save(record) => {
                let Some(epoch) = link.epoch_of(record.gid) else {
                    if record.state == State::Active {
                        // The last checkpoint of a run this node lost: the
                        // download is another node's, or will be.
                        tracing::debug!(gid = %record.gid, "not recorded: the run lost its claim");
                        return Ok(());
                    }
                    // A download nobody runs: what it was added with, and
                    // its place in the queue (its state changes go to the
                    // database directly, see `pause` and `resume`).
                    return match link.runtime.block_on(coordinator.update_settings(record)) {
                        Err(ClusterError::Fenced { gid, .. }) => {
                            tracing::warn!(%gid, "not recorded: another node runs this download now");
                            Ok(())
                        }
                        other => other,
                    };
                };
                match link.runtime.block_on(coordinator.save(record, epoch)) {
                    Ok(saved) => {
                        if record.state != State::Active {
                            lock(&link.tenure).remove(&record.gid);
                        }
                        if let Some(seq) = saved.cluster_seq {
                            lock(&link.written).insert(record.gid, seq);
                        }
                        if let (Some(desired), State::Active) = (saved.desired, record.state) {
                            let _ = link.asks.send(Ask::Desired(record.gid, desired));
                        }
                        Ok(())
                    }
                    Err(e @ (ClusterError::Fenced { .. } | ClusterError::LeaseLost { .. })) => {
                        tracing::warn!(gid = %record.gid, "{e}");
                        fenced(record.gid);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Write::Delete { gid, .. } => {
                let Some(epoch) = lock(&link.tenure).remove(gid) else {
                    return Ok(()); // removed through the database already
                };
                match link.runtime.block_on(coordinator.delete(*gid, epoch)) {
                    Ok(change) => {
                        lock(&link.written).insert(*gid, change.cluster_seq);
                        Ok(())
                    }
                    Err(e @ ClusterError::Fenced { .. }) => {
                        tracing::warn!(%gid, "{e}");
                        Ok(())
                    }
                    Err(e) => {
                        // Kept for the retry, under the same tenure.
                        lock(&link.tenure).insert(*gid, epoch);
                        Err(e)
                    }
                }
            }
        }
    }
}

impl Store for ClusterStore {
    fn load(&mut self) -> Result<Vec<DownloadRecord>, StoreError> {
        // The engine starts from the link's snapshot, which knows owners.
        Ok(Vec::new())
    }

    /// Each write in its own transaction: one download's fenced write must
    /// not undo another's. A failure stops the batch; the writer retries
    /// the latest write of each download, which is safe to repeat.
    fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        for write in writes {
            self.apply_one(write).map_err(|e| StoreError::Corrupt {
                gid: write.gid().to_string(),
                what: e.to_string(),
            })?;
        }
        Ok(())
    }
}

fn cluster_error(e: ClusterError) -> EngineError {
    match e {
        ClusterError::NotFound { gid } => EngineError::NotFound { gid },
        ClusterError::InvalidState { gid, state } => EngineError::InvalidState { gid, state },
        e => EngineError::store(super::writer::StoreFailure(e.to_string())),
    }
}

/// Starts the node's background tasks.
pub(crate) fn start(shared: &Arc<Shared>, link: &Arc<Link>) {
    let mut tasks = lock(&link.tasks);
    let asked = lock(&link.asked).take();
    if let Some(asked) = asked {
        tasks.push(shared.runtime.spawn(act_on_asks(shared.clone(), asked)));
    }
    if let Some(inserted) = lock(&link.inserted).take() {
        tasks.push(shared.runtime.spawn(insert_batches(link.clone(), inserted)));
    }
    tasks.push(
        shared
            .runtime
            .spawn(heartbeat(shared.clone(), link.clone())),
    );
    tasks.push(shared.runtime.spawn(watchdog(shared.clone(), link.clone())));
    tasks.push(shared.runtime.spawn(listen(shared.clone(), link.clone())));
}

/// Renews the lease, reaps dead nodes, sends the progress of the downloads
/// this node runs, and claims what its free slots allow.
async fn heartbeat(shared: Arc<Shared>, link: Arc<Link>) {
    let mut tick = tokio::time::interval(link.config.renew_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats: u64 = 0;
    loop {
        tick.tick().await;
        beats += 1;
        let coordinator = link.coordinator();
        match coordinator.renew().await {
            Ok(()) => {}
            Err(ClusterError::LeaseLost { node }) => {
                rejoin(&shared, &link, node).await;
                continue;
            }
            Err(e) => {
                tracing::warn!("cannot renew the node's lease: {e}");
                continue;
            }
        }
        match coordinator.reap().await {
            Ok(reaped) if !reaped.nodes.is_empty() => {
                tracing::info!(nodes = ?reaped.nodes, requeued = reaped.changes.len(), "reaped nodes whose lease ran out");
                link.refresh_names().await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot reap dead nodes: {e}"),
        }
        if beats % 12 == 1 {
            link.refresh_names().await;
            if let Err(e) = coordinator.prune_events(link.config.event_window).await {
                tracing::warn!("cannot prune the cluster's event log: {e}");
            }
        }
        catch_up(&shared, &link).await;
        claim(&shared, &link).await;
    }
}

/// Sends the progress of the downloads this node runs, once a second.
async fn send_progress(link: &Link) {
    let batch: Vec<Progress> = lock(&link.progress).drain().map(|(_, p)| p).collect();
    if batch.is_empty() {
        return;
    }
    if let Err(e) = link.coordinator().publish_progress(&batch).await {
        tracing::debug!("cannot send progress to the other nodes: {e}");
    }
}

/// Stops the node's downloads the moment its lease may have run out, by
/// its own clock: another node may take them from then on.
async fn watchdog(shared: Arc<Shared>, link: Arc<Link>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        if !link.may_write() && link.running_here() > 0 {
            tracing::warn!(
                "this node's lease may have run out: stopping its downloads, which other nodes may take now"
            );
            rejoin(&shared, &link, link.coordinator().node()).await;
        }
        if ticks % 4 == 0 {
            send_progress(&link).await;
        }
    }
}

/// Stops every download this node runs without writing: they are, or may
/// be at any moment, another node's.
fn stop_all_here(shared: &Shared, link: &Link) -> Vec<Settlement> {
    let gids: Vec<Gid> = lock(&link.tenure).drain().map(|(gid, _)| gid).collect();
    let mut registry = shared.registry();
    gids.into_iter()
        .filter_map(|gid| {
            let running = registry.get_mut(gid)?.running.as_mut()?;
            Some(running.stop(Stop::Shutdown))
        })
        .collect()
}

/// How long a rejoin waits for the stopped downloads' tasks to end.
const STOPS_WITHIN: Duration = Duration::from_secs(10);

/// Leaves the cluster as node `lost` (whose lease ran out, or may have)
/// and registers again under a new node id: stops the downloads it ran
/// without writing, hands back what the database still gives it (a lease
/// that had not run out there yet), and takes a new snapshot.
async fn rejoin(shared: &Arc<Shared>, link: &Arc<Link>, lost: NodeId) {
    let _turn = link.rejoining.lock().await;
    let previous = link.coordinator();
    if previous.node() != lost {
        return; // rejoined already
    }
    let stopped = stop_all_here(shared, link);
    let _ = tokio::time::timeout(
        STOPS_WITHIN,
        futures::future::join_all(stopped.into_iter().map(Settlement::wait)),
    )
    .await;
    if let Err(e) = previous.graceful_shutdown().await {
        tracing::debug!("the lost node's row could not be removed (the reaper will): {e}");
    }
    let old = lost;
    let coordinator = match Coordinator::register(
        &link.config.url,
        &link.config.node_name,
        Lease::new(link.config.lease),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot rejoin the cluster: {e}");
            return;
        }
    };
    tracing::warn!(old = %old, new = %coordinator.node(), "lost the lease: rejoined the cluster under a new node id");
    *link.coordinator.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(coordinator);
    lock(&link.written).clear();
    link.refresh_names().await;
    match link.snapshot().await {
        Ok(mirrored) => mirror_all(shared, link, mirrored),
        Err(e) => tracing::warn!("cannot read the cluster's downloads: {e}"),
    }
    // The listener listens on the old node's channel: it starts again.
    let task = shared.runtime.spawn(listen(shared.clone(), link.clone()));
    lock(&link.tasks).push(task);
    shared.schedule();
}

/// Listens to the cluster: committed events, asks from other nodes, their
/// progress. Starts again when the connection drops (a lost lease ends it).
async fn listen(shared: Arc<Shared>, link: Arc<Link>) {
    loop {
        let coordinator = link.coordinator();
        let node = coordinator.node();
        let (listener, mut notices) = match coordinator.listen(4096).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("cannot listen to the cluster: {e}");
                tokio::time::sleep(link.config.renew_every).await;
                continue;
            }
        };
        // What was missed while nobody listened.
        catch_up(&shared, &link).await;
        if let Ok(asked) = coordinator.desired_of_mine().await {
            for (gid, desired) in asked {
                carry_out(&shared, gid, desired);
            }
        }
        while let Some(notice) = notices.recv().await {
            match notice {
                Notice::Events { .. } => catch_up(&shared, &link).await,
                Notice::Desired { gid, desired } => carry_out(&shared, gid, desired),
                Notice::Setting {
                    ask,
                    from,
                    gid,
                    setting,
                } => {
                    let (shared, link) = (shared.clone(), link.clone());
                    drop(shared.runtime.clone().spawn(async move {
                        make_setting(&shared, &link, ask, from, gid, setting).await
                    }));
                }
                Notice::Answer { ask, refusal } => {
                    if let Some(waiter) = lock(&link.answers).remove(&ask) {
                        let _ = waiter.send(refusal);
                    }
                }
                Notice::Progress {
                    node: from,
                    progress,
                } if from != node => mirror_progress(&shared, &link, from, &progress),
                Notice::Progress { .. } => {}
            }
        }
        drop(listener);
        if link.coordinator().node() != node {
            return; // rejoined: a listener on the new channel took over
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn act_on_asks(shared: Arc<Shared>, mut asked: mpsc::UnboundedReceiver<Ask>) {
    while let Some(ask) = asked.recv().await {
        match ask {
            Ask::Fenced(gid) => {
                let stopped = {
                    let mut registry = shared.registry();
                    registry
                        .get_mut(gid)
                        .and_then(|e| e.running.as_mut())
                        .map(|running| running.stop(Stop::Shutdown))
                };
                let shared = shared.clone();
                drop(shared.runtime.clone().spawn(async move {
                    if let Some(stopped) = stopped {
                        stopped.wait().await;
                    }
                    refresh_one(&shared, gid).await;
                }));
            }
            Ask::Desired(gid, desired) => carry_out(&shared, gid, desired),
        }
    }
}

/// Replaces the mirror's record of `gid`, which this node no longer runs,
/// with the database's: the log's events of it may be older than what this
/// node's run made of it.
async fn refresh_one(shared: &Arc<Shared>, gid: Gid) {
    let Some(link) = &shared.cluster else {
        return;
    };
    let fresh = link.coordinator().download(gid).await;
    let names = lock(&link.names).clone();
    let mut registry = shared.registry();
    match fresh {
        Ok(Some(download)) => {
            if let Some(entry) = registry.get_mut(gid).filter(|e| e.running.is_none()) {
                entry.record = download.record;
                let node = download.owner.map(|n| node_label(&names, n));
                // What the owner last said of its run, if it is the same run.
                let heard = entry
                    .remote
                    .take()
                    .filter(|r| Some(&r.node) == node.as_ref());
                entry.remote = heard.or_else(|| node.map(RemoteRun::on));
            }
        }
        Ok(None) => {
            if registry.get(gid).is_some_and(|e| e.running.is_none()) {
                registry.remove(gid);
                shared.events.publish(EngineEvent::Removed { gid });
            }
        }
        Err(e) => tracing::warn!(%gid, "cannot read the download: {e}"),
    }
}

/// Another node asked this one to pause or remove a download it runs.
fn carry_out(shared: &Shared, gid: Gid, desired: Desired) {
    let mut registry = shared.registry();
    let Some(running) = registry.get_mut(gid).and_then(|e| e.running.as_mut()) else {
        return;
    };
    tracing::info!(%gid, asked = desired.as_str(), "another node asked to stop this download");
    let _ = running.stop(match desired {
        Desired::Pause => Stop::Pause,
        Desired::Remove => Stop::Remove {
            delete_files: false,
        },
    });
}

/// Applies the log's events after the last applied one to the mirror.
pub(crate) async fn catch_up(shared: &Arc<Shared>, link: &Link) {
    let _turn = link.catching_up.lock().await;
    let coordinator = link.coordinator();
    loop {
        let after = *link.applied.borrow();
        let events = match coordinator.events_since(after, EVENTS_PER_READ).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!("cannot read the cluster's events: {e}");
                return;
            }
        };
        let Some(last) = events.last().map(|e| e.cluster_seq) else {
            return;
        };
        if events.first().is_some_and(|e| e.cluster_seq > after + 1) {
            // Pruned past us: only a new snapshot is whole.
            match link.snapshot().await {
                Ok(mirrored) => mirror_all(shared, link, mirrored),
                Err(e) => tracing::warn!("cannot read the cluster's downloads: {e}"),
            }
            continue;
        }
        let count = events.len();
        // Something to claim: a download added queued, or queued again.
        let claimable = events.iter().any(|e| match e.kind {
            EventKind::Queued => true,
            EventKind::Added => e.payload.state.as_deref() == Some(State::Queued.as_str()),
            _ => false,
        });
        for event in events {
            apply_event(shared, link, &coordinator, event).await;
        }
        if claimable {
            shared.schedule();
        }
        link.applied.send_if_modified(|applied| {
            let moved = last > *applied;
            *applied = (*applied).max(last);
            moved
        });
        if count < EVENTS_PER_READ {
            return;
        }
    }
}

/// Applies one event of the log to the mirror, unless this node made the
/// change to a download it runs (its registry has it already), and
/// publishes it: in a cluster every state change reaches subscribers from
/// here, numbered, whichever node made it.
async fn apply_event(
    shared: &Arc<Shared>,
    link: &Link,
    coordinator: &Coordinator,
    event: ClusterEvent,
) {
    let gid = event.gid;
    let seq = Some(event.cluster_seq);
    let own = lock(&link.written)
        .get(&gid)
        .is_some_and(|&written| written >= event.cluster_seq);
    let record = match event.kind {
        _ if own => None,
        // The payload is a summary: a new download is read whole.
        EventKind::Added => match coordinator.download(gid).await {
            Ok(Some(download)) => Some(download.record),
            Ok(None) => return, // removed since
            Err(e) => {
                tracing::warn!(%gid, "cannot read a new download: {e}");
                return;
            }
        },
        _ => None,
    };
    if event.kind == EventKind::Started && !lock(&link.names).contains_key(&event.node) {
        link.refresh_names().await; // a node that joined since
    }
    let owner =
        (event.kind == EventKind::Started).then(|| node_label(&lock(&link.names), event.node));
    let p = &event.payload;
    let mut registry = shared.registry();
    let publish = |event: EngineEvent| shared.events.publish_numbered(event, seq);
    // This node runs it, or made this change: its own state is as new.
    if own || registry.get(gid).is_some_and(|e| e.running.is_some()) {
        if event.kind == EventKind::Removed {
            lock(&link.written).remove(&gid);
        }
        if let Some(event) = announced(
            gid,
            &event,
            p,
            registry.get(gid).and_then(|e| e.record.path.clone()),
        ) {
            publish(event);
        }
        return;
    }
    if let Some(record) = record {
        if registry.get(gid).is_none() {
            registry.insert(record);
        }
        return;
    }
    if event.kind == EventKind::Removed {
        registry.remove(gid);
        lock(&link.written).remove(&gid);
        publish(EngineEvent::Removed { gid });
        return;
    }
    let Some(entry) = registry.get_mut(gid) else {
        return;
    };
    let r = &mut entry.record;
    r.completed_length = p.completed_length;
    r.total_length = p.total_length.or(r.total_length);
    entry.remote = None;
    match event.kind {
        EventKind::Started => {
            r.state = State::Active;
            r.error = None;
            entry.remote = Some(RemoteRun::on(owner.unwrap_or_default()));
        }
        EventKind::Queued => {
            r.state = State::Queued;
            r.error = None;
        }
        EventKind::Paused => r.state = State::Paused,
        EventKind::Complete => {
            r.state = State::Complete;
            r.segments.clear();
            if let Some(path) = &p.path {
                let path = std::path::PathBuf::from(path);
                r.file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                r.path = Some(path);
            }
            r.completed_at = Some(event.at);
        }
        EventKind::Error => {
            r.state = State::Error;
            let code = p
                .error_code
                .as_deref()
                .and_then(FailureCode::parse)
                .unwrap_or(FailureCode::Internal);
            r.error = Some(Failure::new(
                code,
                p.error_message.clone().unwrap_or_default(),
            ));
        }
        EventKind::Added | EventKind::Removed => {}
    }
    let published = announced(gid, &event, p, r.path.clone());
    if let Some(event) = published {
        publish(event);
    }
}

/// What subscribers hear of a change this node applied itself: the same
/// as of a change the mirror applies (see [`apply_event`]).
fn announced(
    gid: Gid,
    event: &ClusterEvent,
    p: &crate::cluster::EventPayload,
    path: Option<std::path::PathBuf>,
) -> Option<EngineEvent> {
    match event.kind {
        EventKind::Started => Some(EngineEvent::Activated { gid }),
        EventKind::Paused => Some(EngineEvent::Paused {
            gid,
            completed_length: p.completed_length,
        }),
        EventKind::Complete => Some(EngineEvent::Complete {
            gid,
            path: p
                .path
                .as_ref()
                .map(std::path::PathBuf::from)
                .or(path)
                .unwrap_or_default(),
            total_length: p.total_length.unwrap_or(p.completed_length),
        }),
        EventKind::Error => Some(EngineEvent::Error {
            gid,
            code: p
                .error_code
                .as_deref()
                .and_then(FailureCode::parse)
                .unwrap_or(FailureCode::Internal),
            message: p.error_message.clone().unwrap_or_default(),
            completed_length: p.completed_length,
        }),
        EventKind::Removed => Some(EngineEvent::Removed { gid }),
        EventKind::Added | EventKind::Queued => None,
    }
}

/// Claims queued downloads for this node's free slots and starts them.
/// One claim at a time; a call during one makes it go round again.
pub(crate) async fn claim(shared: &Arc<Shared>, link: &Arc<Link>) {
    if link.claiming.swap(true, Ordering::SeqCst) {
        link.claim_again.store(true, Ordering::SeqCst);
        return;
    }
    loop {
        link.claim_again.store(false, Ordering::SeqCst);
        let max =
            shared.max_concurrent.load(Ordering::SeqCst) + shared.parked.load(Ordering::SeqCst);
        let free = max.saturating_sub(link.running_here());
        let mut full = false;
        if free > 0 && !shared.closing.load(Ordering::SeqCst) && link.may_write() {
            let host_cap = shared
                .config
                .max_connections_per_host
                .min(u32::MAX as usize) as u32;
            match link.coordinator().claim(free, host_cap).await {
                Ok(claims) => {
                    full = claims.len() == free;
                    let started: Vec<Started> = claims
                        .into_iter()
                        .filter_map(|claim| start_claimed(shared, link, claim))
                        .collect();
                    // Their `started` events go out before anything their
                    // tasks publish.
                    catch_up(shared, link).await;
                    for s in started {
                        task::spawn(shared, s.gid, s.cancel, s.limiter, s.retarget);
                    }
                }
                Err(ClusterError::LeaseLost { .. }) => {}
                Err(e) => tracing::warn!("cannot claim downloads: {e}"),
            }
        }
        if !full && !link.claim_again.load(Ordering::SeqCst) {
            link.claiming.store(false, Ordering::SeqCst);
            // A schedule() between the check and the store above.
            if !link.claim_again.swap(false, Ordering::SeqCst)
                || link.claiming.swap(true, Ordering::SeqCst)
            {
                return;
            }
        }
    }
}

/// A claimed download made active in the registry, its task yet to start.
struct Started {
    gid: Gid,
    cancel: CancellationToken,
    limiter: Arc<super::limiter::Limiter>,
    retarget: Arc<tokio::sync::Notify>,
}

fn start_claimed(
    shared: &Arc<Shared>,
    link: &Link,
    claim: crate::cluster::Claim,
) -> Option<Started> {
    let gid = claim.record.gid;
    if shared.closing.load(Ordering::SeqCst) {
        return None;
    }
    lock(&link.tenure).insert(gid, claim.epoch);
    lock(&link.written).insert(gid, claim.cluster_seq);
    let mut registry = shared.registry();
    if registry.get(gid).is_some_and(|e| e.running.is_some()) {
        return None; // cannot be: a claim is of a download nobody runs
    }
    if registry.get(gid).is_some() {
        let entry = registry.get_mut(gid).expect("just found");
        entry.record = claim.record;
    } else {
        registry.insert(claim.record);
    }
    let entry = registry.get_mut(gid).expect("just inserted");
    entry.remote = None;
    entry
        .limiter
        .set_rate(entry.record.request.speed_limit.unwrap_or(0));
    tracing::info!(%gid, epoch = claim.epoch, connections = claim.host_connections, "claimed");
    let cancel = CancellationToken::new();
    let mut running = Running::new(cancel.clone());
    running.connection_cap = Some(claim.host_connections.max(1));
    let retarget = running.retarget();
    entry.running = Some(running);
    Some(Started {
        gid,
        cancel,
        limiter: entry.limiter.clone(),
        retarget,
    })
}

/// Commits the adds waiting, up to [`INSERTS_PER_COMMIT`] in a transaction.
async fn insert_batches(link: Arc<Link>, mut inbox: mpsc::UnboundedReceiver<Insert>) {
    while let Some(first) = inbox.recv().await {
        let mut batch = vec![first];
        while batch.len() < INSERTS_PER_COMMIT {
            match inbox.try_recv() {
                Ok(insert) => batch.push(insert),
                Err(_) => break,
            }
        }
        let records: Vec<DownloadRecord> = batch.iter().map(|(r, _)| r.clone()).collect();
        match link.coordinator().insert_many(&records).await {
            Ok(answers) => {
                for ((_, reply), answer) in batch.into_iter().zip(answers) {
                    let _ = reply.send(answer.map_err(cluster_error));
                }
            }
            Err(e) => {
                let why = e.to_string();
                for (_, reply) in batch {
                    let failure = super::writer::StoreFailure(why.clone());
                    let _ = reply.send(Err(EngineError::store(failure)));
                }
            }
        }
    }
}

/// Adds a download to the cluster: committed there (with the adds that
/// arrived with it), queued for any node.
pub(crate) async fn add(
    shared: &Arc<Shared>,
    link: &Link,
    mut record: DownloadRecord,
) -> Result<(), EngineError> {
    let (reply, answer) = oneshot::channel();
    let closed = || {
        EngineError::store(super::writer::StoreFailure(
            "the node is leaving the cluster".into(),
        ))
    };
    link.inserts
        .send((record.clone(), reply))
        .map_err(|_| closed())?;
    let inserted = answer.await.map_err(|_| closed())??;
    record.seq = inserted.seq;
    record.rank = inserted.seq;
    lock(&link.written).insert(record.gid, inserted.cluster_seq);
    let mut registry = shared.registry();
    if registry.get(record.gid).is_none() {
        registry.insert(record);
    }
    Ok(())
}

/// Pauses or removes a download this node does not run; answers once the
/// change is committed and the mirror shows it.
pub(crate) async fn stop_elsewhere(
    shared: &Arc<Shared>,
    link: &Link,
    gid: Gid,
    desired: Desired,
) -> Result<(), EngineError> {
    let asked = link
        .coordinator()
        .set_desired(gid, desired)
        .await
        .map_err(cluster_error)?;
    match asked {
        Asked::Done(Some(change)) => wait_applied(shared, link, change.cluster_seq).await,
        Asked::Done(None) => {}
        Asked::Owner(owner) => {
            tracing::debug!(%gid, %owner, asked = desired.as_str(), "asked the owner");
            let done = |registry: &mut Registry| match registry.get(gid) {
                None => true,
                Some(e) => desired == Desired::Pause && e.record.state != State::Active,
            };
            let mut applied = link.applied.subscribe();
            let waited = tokio::time::timeout(OWNER_ANSWERS_WITHIN, async {
                loop {
                    if done(&mut shared.registry()) {
                        return;
                    }
                    if applied.changed().await.is_err() {
                        return;
                    }
                }
            })
            .await;
            if waited.is_err() {
                tracing::warn!(%gid, %owner, "the owner did not carry out the {} within {OWNER_ANSWERS_WITHIN:?}", desired.as_str());
            }
        }
    }
    Ok(())
}

/// The download as the database has it now (the mirror's record of a
/// download another node runs lacks what it learnt since: its path).
pub(crate) async fn fresh_record(link: &Link, gid: Gid) -> Result<DownloadRecord, EngineError> {
    match link.coordinator().download(gid).await {
        Ok(Some(download)) => Ok(download.record),
        Ok(None) => Err(EngineError::NotFound { gid }),
        Err(e) => Err(cluster_error(e)),
    }
}

/// Changes a setting of a download another node runs, by asking that node
/// (its next write would undo a change made here). `false` when no other
/// node runs it: the caller changes it itself.
pub(crate) async fn set_elsewhere(
    shared: &Arc<Shared>,
    link: &Link,
    gid: Gid,
    setting: Setting,
) -> Result<bool, EngineError> {
    // Twice: the owner may have let it go between the read and the ask.
    for _ in 0..2 {
        let coordinator = link.coordinator();
        let fresh = coordinator
            .download(gid)
            .await
            .map_err(cluster_error)?
            .ok_or(EngineError::NotFound { gid })?;
        let Some(owner) = fresh.owner.filter(|&o| o != coordinator.node()) else {
            return Ok(false);
        };
        let ask: u64 = rand::random();
        let (reply, answer) = oneshot::channel();
        lock(&link.answers).insert(ask, reply);
        let asked = coordinator.ask_owner(owner, ask, gid, &setting).await;
        let answer = match asked {
            Ok(()) => tokio::time::timeout(OWNER_ANSWERS_WITHIN, answer).await,
            Err(e) => {
                lock(&link.answers).remove(&ask);
                return Err(cluster_error(e));
            }
        };
        lock(&link.answers).remove(&ask);
        match answer {
            Ok(Ok(None)) => {
                // Durable before it answered: the mirror reads it back.
                refresh_one(shared, gid).await;
                return Ok(true);
            }
            Ok(Ok(Some(Refusal::NotHere))) => continue,
            Ok(Ok(Some(refusal))) => return Err(refused(gid, refusal)),
            Ok(Err(_)) | Err(_) => {
                return Err(EngineError::store(super::writer::StoreFailure(format!(
                    "node {owner}, which runs download {gid}, did not answer within {OWNER_ANSWERS_WITHIN:?}"
                ))))
            }
        }
    }
    Ok(false)
}

/// Makes the change node `from` asked of a download this node runs, and
/// answers.
async fn make_setting(
    shared: &Arc<Shared>,
    link: &Link,
    ask: u64,
    from: NodeId,
    gid: Gid,
    setting: Setting,
) {
    let runs_here = shared
        .registry()
        .get(gid)
        .is_some_and(|e| e.running.is_some());
    let refusal = if runs_here {
        let engine = super::Engine {
            shared: shared.clone(),
        };
        let made = match setting {
            Setting::SpeedLimit { limit } => engine.set_speed_limit(gid, limit).await.map(drop),
            Setting::Url { url, restart } => engine.set_url(gid, url, restart).await.map(drop),
        };
        made.err().map(refusal_of)
    } else {
        Some(Refusal::NotHere)
    };
    if let Err(e) = link.coordinator().answer(from, gid, ask, refusal).await {
        tracing::warn!(%gid, node = %from, "cannot answer another node: {e}");
    }
}

/// An engine error as another node is told it.
fn refusal_of(e: EngineError) -> Refusal {
    match e {
        EngineError::NotFound { .. } => Refusal::NotFound,
        EngineError::InvalidState { state, .. } => Refusal::InvalidState {
            state: state.as_str().to_owned(),
        },
        EngineError::InvalidUrl { url, reason } => Refusal::InvalidUrl { url, reason },
        EngineError::RemoteFileDiffers { url, reason } => {
            Refusal::RemoteFileDiffers { url, reason }
        }
        e => Refusal::Failed {
            message: e.to_string(),
        },
    }
}

/// What another node's refusal is here.
fn refused(gid: Gid, refusal: Refusal) -> EngineError {
    match refusal {
        Refusal::NotFound => EngineError::NotFound { gid },
        Refusal::InvalidState { state } => EngineError::InvalidState {
            gid,
            state: State::parse(&state).unwrap_or(State::Active),
        },
        Refusal::InvalidUrl { url, reason } => EngineError::InvalidUrl { url, reason },
        Refusal::RemoteFileDiffers { url, reason } => {
            EngineError::RemoteFileDiffers { url, reason }
        }
        Refusal::NotHere => EngineError::store(super::writer::StoreFailure(format!(
            "download {gid} moved between nodes while it was being changed: try again"
        ))),
        Refusal::Failed { message } => EngineError::store(super::writer::StoreFailure(message)),
    }
}

/// Resumes a download this node does not run, from the database.
pub(crate) async fn resume(shared: &Arc<Shared>, link: &Link, gid: Gid) -> Result<(), EngineError> {
    let change = link
        .coordinator()
        .resume(gid)
        .await
        .map_err(cluster_error)?;
    if let Some(change) = change {
        wait_applied(shared, link, change.cluster_seq).await;
    }
    Ok(())
}

/// Waits until the mirror has applied the log up to `seq`.
async fn wait_applied(shared: &Arc<Shared>, link: &Link, seq: i64) {
    catch_up(shared, link).await;
    let mut applied = link.applied.subscribe();
    let _ = tokio::time::timeout(
        OWNER_ANSWERS_WITHIN,
        applied.wait_for(|&applied| applied >= seq),
    )
    .await;
}

/// Makes the mirror the snapshot, but for the downloads this node runs.
fn mirror_all(shared: &Shared, link: &Link, mirrored: Vec<Mirrored>) {
    let mut registry = shared.registry();
    let mut stale: std::collections::HashSet<Gid> = registry.gids().collect();
    for Mirrored { record, node } in mirrored {
        let gid = record.gid;
        stale.remove(&gid);
        match registry.get_mut(gid) {
            Some(entry) if entry.running.is_some() => {}
            Some(entry) => {
                entry.record = record;
                entry.remote = node.map(RemoteRun::on);
            }
            None => {
                registry.insert(record);
                if let Some(entry) = registry.get_mut(gid) {
                    entry.remote = node.map(RemoteRun::on);
                }
            }
        }
    }
    for gid in stale {
        if registry.get(gid).is_some_and(|e| e.running.is_none()) {
            registry.remove(gid);
            lock(&link.written).remove(&gid);
            shared.events.publish(EngineEvent::Removed { gid });
        }
    }
}

/// Another node's progress, into the mirror and to this node's subscribers.
fn mirror_progress(shared: &Arc<Shared>, link: &Link, from: NodeId, progress: &[Progress]) {
    let node = lock(&link.names).get(&from).cloned();
    // Downloads whose name the mirror has yet to learn: the owner chose it
    // after the `started` event, and recorded it before its first progress.
    let mut unnamed = Vec::new();
    let mut registry = shared.registry();
    for p in progress {
        let Ok(gid) = p.gid.parse::<Gid>() else {
            continue;
        };
        let Some(entry) = registry.get_mut(gid) else {
            continue;
        };
        if entry.running.is_some() || entry.record.state != State::Active {
            continue;
        }
        entry.record.completed_length = p.completed_length;
        entry.record.total_length = p.total_length.or(entry.record.total_length);
        if entry.record.path.is_none() {
            unnamed.push(gid);
        }
        let node = node
            .clone()
            .or_else(|| entry.remote.as_ref().map(|r| r.node.clone()))
            .unwrap_or_else(|| node_label(&HashMap::new(), from));
        entry.remote = Some(RemoteRun {
            node,
            speed: p.download_speed,
            connections: p.connections,
        });
        shared.events.publish(EngineEvent::Progress {
            gid,
            completed_length: p.completed_length,
            total_length: p.total_length,
            download_speed: p.download_speed,
            eta: super::status::eta(p.total_length, p.completed_length, p.download_speed),
            connections: p.connections,
        });
    }
    drop(registry);
    for gid in unnamed {
        let shared = shared.clone();
        drop(
            shared
                .runtime
                .clone()
                .spawn(async move { refresh_one(&shared, gid).await }),
        );
    }
}
