//! The transport-neutral download engine: an [`Engine`] handle over a queue
//! of downloads, each a task of N ranged HTTP/1.1 connections writing into a
//! `.part` file, with progress checkpointed to an embedded SQLite store.
//!
//! - `mod.rs`: the handle — add, pause, resume, remove, status, list, stats,
//!   subscribe — and the scheduler; `control`: one download's control
//!   state (what is in flight, stop reasons, settlements).
//! - `download`: one download's task: probe, name, transfer, verify, rename;
//!   `task`: the guard every task runs under, and how its end is applied.
//! - `transfer`: one connection — ranged GETs, retries, positional writes.
//! - `probe`: the first request of every (re)start.
//! - `segments`: range splitting, work stealing and end-game racing.
//! - `limiter`: token-bucket speed limits; `queue`: registry and host slots.
//! - `naming`: every file name and directory, kept inside the root.
//! - `network`: TLS trust, client certificates and proxies: every HTTP
//!   client a download uses is built there; `cookies`: the cookie jar of
//!   each download (cookies.txt, the download's own, the server's);
//!   `netrc`: logins from a `.netrc`; `digest`: HTTP Digest auth, which
//!   every request of a download is sent through.
//! - `store`: persistence trait and its SQLite implementation; `writer`:
//!   its one writer thread (group commit, tickets a caller awaits before it
//!   answers, health).
//! - `cluster`: the engine as one node of a cluster (`--cluster-db`): the
//!   registry mirrors the cluster's downloads, the scheduler claims, the
//!   store writes fenced by the claim's epoch.
//! - `events`, `status`, `request`, `config`, `error`: the API's vocabulary;
//!   `coalesce`: the one "latest progress wins" log every event queue uses.

#[cfg(feature = "cluster")]
mod cluster;
pub(crate) mod coalesce;
mod config;
mod control;
mod cookies;
mod digest;
mod download;
mod error;
mod events;
mod limiter;
mod naming;
mod netrc;
mod network;
mod probe;
mod queue;
mod request;
mod segments;
mod status;
mod store;
mod task;
mod transfer;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

#[cfg(feature = "cluster")]
pub use cluster::ClusterConfig;
pub use config::{EngineConfig, DEFAULT_CONNECTIONS, MAX_CONNECTIONS};
pub use cookies::{parse_cookies_txt, Cookie, SetCookie};
pub use error::{EngineError, Failure, FailureCode};
pub use events::{EngineEvent, Published, RestartReason, Subscription};
pub use netrc::{parse_netrc, NetrcEntry};
pub use network::{
    read_key_pair, shown_url, NetworkConfig, NetworkError, Proxies, ProxyChoice, ProxyUrl,
};
pub use request::{AddRequest, Checksum, HashAlgorithm, Overwrite};
pub use segments::SavedSegment;
pub use status::{Gid, Options, ParseGidError, SourceState, SourceStatus, State, Stats, Status};
pub use store::{DownloadRecord, SqliteStore, Store, StoreError, Write};
pub use writer::StoreFailure;

use control::{Running, Settlement, Stop};
use events::EventHub;
use limiter::Limiter;
use queue::{Entry, HostSlots, Registry};
use writer::{Ticket, Writer};

/// Why [`Engine::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot use download root {}: {source}", path.display())]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock state directory {}: {source}", path.display())]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state directory {} is in use by another haul process", path.display())]
    Locked { path: PathBuf },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot set up the network: {0}")]
    Network(#[from] NetworkError),
    #[cfg(feature = "cluster")]
    #[error("cannot join the cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// Where [`Engine::move_in_queue`] moves a download, as aria2's
/// `changePosition` says it; positions past either end stop there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueMove {
    /// To this position, 0 being the first.
    To(usize),
    /// By this many places (negative: forwards, towards the first).
    By(i64),
    /// To this many places before the last.
    FromEnd(usize),
}

/// A page of [`Engine::list`].
#[derive(Debug)]
pub struct Page {
    pub downloads: Vec<Status>,
    /// How many downloads match, on every page.
    pub total: usize,
    /// Where the next page starts; `None` on the last.
    pub cursor: Option<Cursor>,
}

/// A position in the creation order of downloads: the next page starts
/// after it, however the list changed meanwhile. Written as a decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for Cursor {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Cursor)
    }
}

/// A cheap, cloneable handle to the running engine.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("download_root", &self.shared.root)
            .field("state_dir", &self.shared.config.state_dir)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    config: EngineConfig,
    /// The canonical download root.
    root: PathBuf,
    network: Arc<network::Network>,
    store: Writer,
    registry: Mutex<Registry>,
    /// Held while a final name is chosen (off the registry lock: choosing
    /// means stat calls), so two downloads never choose the same one.
    naming: Mutex<()>,
    events: EventHub,
    global_limiter: Arc<Limiter>,
    hosts: HostSlots,
    closing: AtomicBool,
    /// Starts at `config.max_concurrent`; changeable at run time.
    max_concurrent: AtomicUsize,
    /// Active downloads that only wait to retry, whose slots are lent to
    /// queued ones (`control::Park`).
    parked: AtomicUsize,
    /// Held (flock) until shutdown: one engine per state directory.
    lock: Mutex<Option<File>>,
    /// The runtime the engine was opened on: downloads run there, whichever
    /// thread asked for them (the daemon serves calls on runtimes of its own).
    runtime: tokio::runtime::Handle,
    /// Set when the engine is a node of a cluster.
    #[cfg(feature = "cluster")]
    cluster: Option<Arc<cluster::Link>>,
}

impl Engine {
    /// Opens the engine on `config.state_dir` with the SQLite store, creating
    /// what is missing, and resumes unfinished downloads: active ones start
    /// again, queued and paused ones stay so. Call inside a Tokio runtime.
    pub async fn open(config: EngineConfig) -> Result<Engine, OpenError> {
        let lock = match &config.state_dir {
            Some(dir) => Some(lock_state_dir(dir)?),
            None => None,
        };
        let store = SqliteStore::open(config.state_dir.as_deref())?;
        Self::open_inner(config, Box::new(store), lock)
    }

    /// Opens the engine as a node of the cluster `cluster` names: its
    /// downloads are the cluster's, every node sees them all, and it runs
    /// those it claims. `config.state_dir` (if any) is locked but holds no
    /// downloads.
    #[cfg(feature = "cluster")]
    pub async fn open_cluster(
        config: EngineConfig,
        cluster: ClusterConfig,
    ) -> Result<Engine, OpenError> {
        let lock = match &config.state_dir {
            Some(dir) => Some(lock_state_dir(dir)?),
            None => None,
        };
        let (link, mirrored) = cluster::Link::join(cluster).await?;
        let mut registry = Registry::default();
        for cluster::Mirrored { record, node } in mirrored {
            let gid = record.gid;
            registry.insert(record);
            if let Some(entry) = registry.get_mut(gid) {
                entry.remote = node.map(queue::RemoteRun::on);
            }
        }
        let store = Box::new(cluster::ClusterStore::new(link.clone()));
        let shared = Shared::new(config, store, registry, lock, Some(link.clone()))?;
        cluster::start(&shared, &link);
        shared.schedule();
        Ok(Engine { shared })
    }

    /// Opens the engine over another [`Store`]; `config.state_dir` is unused.
    pub async fn open_with_store(
        config: EngineConfig,
        store: Box<dyn Store>,
    ) -> Result<Engine, OpenError> {
        Self::open_inner(config, store, None)
    }

    fn open_inner(
        config: EngineConfig,
        mut store: Box<dyn Store>,
        lock: Option<File>,
    ) -> Result<Engine, OpenError> {
        let mut registry = Registry::default();
        let mut were_active = Vec::new();
        for mut record in store.load()? {
            // Queued for a moment: the scheduler restarts them ahead of the
            // downloads that were only waiting.
            if record.state == State::Active {
                were_active.push(record.gid);
                record.state = State::Queued;
            }
            registry.insert(record);
        }
        #[cfg(feature = "cluster")]
        let shared = Shared::new(config, store, registry, lock, None)?;
        #[cfg(not(feature = "cluster"))]
        let shared = Shared::new(config, store, registry, lock)?;
        shared.schedule_first(&were_active);
        Ok(Engine { shared })
    }
}

impl Shared {
    fn new(
        config: EngineConfig,
        store: Box<dyn Store>,
        registry: Registry,
        lock: Option<File>,
        #[cfg(feature = "cluster")] cluster: Option<Arc<cluster::Link>>,
    ) -> Result<Arc<Shared>, OpenError> {
        let root_error = |source| OpenError::Root {
            path: config.download_root.clone(),
            source,
        };
        std::fs::create_dir_all(&config.download_root).map_err(root_error)?;
        let root = config.download_root.canonicalize().map_err(root_error)?;
        Ok(Arc::new(Shared {
            network: Arc::new(network::Network::new(
                &config.network,
                &config.user_agent,
                config.stall_timeout,
            )?),
            root,
            store: Writer::spawn(store),
            registry: Mutex::new(registry),
            naming: Mutex::new(()),
            events: EventHub::default(),
            global_limiter: Arc::new(Limiter::new(config.global_speed_limit)),
            hosts: HostSlots::new(config.max_connections_per_host),
            closing: AtomicBool::new(false),
            max_concurrent: AtomicUsize::new(config.max_concurrent.max(1)),
            parked: AtomicUsize::new(0),
            lock: Mutex::new(lock),
            runtime: tokio::runtime::Handle::current(),
            #[cfg(feature = "cluster")]
            cluster,
            config,
        }))
    }
}

impl Engine {
    /// The canonical download root.
    pub fn download_root(&self) -> &Path {
        &self.shared.root
    }

    /// Queues a download (or adds it paused) and returns its gid once its
    /// record is committed: an acknowledged download survives a crash.
    pub async fn add(&self, request: AddRequest) -> Result<Gid, EngineError> {
        request.validate()?;
        if let Some(name) = &request.file_name {
            naming::check_plain_name(name)?;
        }
        // Directories are created now, so a bad `dir` is the caller's error;
        // that, and looking for a taken name, is disk work for the blocking
        // pool. Most adds name neither and never leave this thread.
        let name = request
            .file_name
            .clone()
            .filter(|_| request.overwrite == Overwrite::Fail);
        if request.dir.as_deref().is_some_and(|d| !d.is_empty()) || name.is_some() {
            let (root, dir) = (self.shared.root.clone(), request.dir.clone());
            self.shared
                .blocking(move || {
                    let dir = naming::resolve_dir(&root, dir.as_deref())?;
                    match name.map(|name| dir.join(name)) {
                        Some(path) if path.symlink_metadata().is_ok() => {
                            Err(EngineError::DestinationExists { path })
                        }
                        _ => Ok(()),
                    }
                })
                .await?;
        }
        // A node of a cluster adds it to the cluster's database, which
        // numbers it.
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.shared.cluster {
            let record = self.shared.new_record(&self.shared.registry(), request)?;
            let gid = record.gid;
            cluster::add(&self.shared, link, record).await?;
            self.shared.schedule();
            return Ok(gid);
        }
        let (gid, ticket) = {
            let mut registry = self.shared.registry();
            let record = self.shared.new_record(&registry, request)?;
            let gid = record.gid;
            registry.insert(record);
            let entry = registry
                .get_mut(gid)
                .ok_or_else(|| EngineError::internal("lost an entry"))?;
            (gid, self.shared.save(entry))
        };
        if let Err(failure) = self.shared.store.durable(ticket).await {
            // Not acknowledged, so not kept: undo it, even if the scheduler
            // started it meanwhile.
            let _ = self.remove(gid, true).await;
            return Err(EngineError::store(failure));
        }
        self.shared.schedule();
        Ok(gid)
    }

    /// Pauses a queued or active download. Answers once it is stopped, its
    /// progress checkpointed and its state committed, with the state it is
    /// then really in (a remove or resume that came in meanwhile wins).
    pub async fn pause(&self, gid: Gid) -> Result<Status, EngineError> {
        #[cfg(feature = "cluster")]
        if self.shared.runs_elsewhere(gid)? {
            self.elsewhere(gid, crate::cluster::Desired::Pause).await?;
            return self.status(gid);
        }
        let settlement = {
            let mut registry = self.shared.registry();
            let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
            match (entry.record.state, entry.running.as_mut()) {
                (_, Some(running)) => Some(running.stop(Stop::Pause)),
                (State::Queued, None) => {
                    entry.record.state = State::Paused;
                    let completed_length = entry.record.completed_length;
                    let _ = self.shared.save(entry);
                    self.shared.events.publish(EngineEvent::Paused {
                        gid,
                        completed_length,
                    });
                    None
                }
                // Already where the caller wants it.
                (State::Paused, None) => None,
                (state, None) => return Err(EngineError::InvalidState { gid, state }),
            }
        };
        self.settled(gid, settlement).await?;
        self.status(gid)
    }

    /// Queues a paused or failed download again; it keeps its bytes. During
    /// a pause in flight, the download settles queued instead of paused.
    pub async fn resume(&self, gid: Gid) -> Result<Status, EngineError> {
        #[cfg(feature = "cluster")]
        if self.shared.runs_elsewhere(gid)? {
            if let Some(link) = &self.shared.cluster {
                cluster::resume(&self.shared, link, gid).await?;
            }
            self.shared.schedule();
            return self.status(gid);
        }
        let settlement = {
            let mut registry = self.shared.registry();
            let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
            match (entry.record.state, entry.running.as_mut()) {
                (_, Some(running)) => running.resume(),
                (State::Paused | State::Error, None) => {
                    entry.record.state = State::Queued;
                    entry.record.error = None;
                    let _ = self.shared.save(entry);
                    None
                }
                // Already on its way.
                (State::Queued, None) => None,
                (state, None) => return Err(EngineError::InvalidState { gid, state }),
            }
        };
        self.shared.schedule();
        self.settled(gid, settlement).await?;
        self.status(gid)
    }

    /// Forgets a download in any state, stopping it first; with
    /// `delete_files` also deletes its `.part` and, if complete, its file.
    /// Answers once the files are gone and the deletion is committed.
    pub async fn remove(&self, gid: Gid, delete_files: bool) -> Result<(), EngineError> {
        #[cfg(feature = "cluster")]
        if self.shared.runs_elsewhere(gid)? {
            if let Some(link) = &self.shared.cluster {
                let record = cluster::fresh_record(link, gid).await?;
                return self.remove_elsewhere(record, delete_files).await;
            }
        }
        let forgotten = {
            let mut registry = self.shared.registry();
            let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
            match entry.running.as_mut() {
                Some(running) => Err(running.stop(Stop::Remove { delete_files })),
                None => Ok(self.shared.forget(&mut registry, gid, delete_files)),
            }
        };
        match forgotten {
            Err(settlement) => self.settled(gid, Some(settlement)).await,
            Ok(forgotten) => {
                let ticket = self.shared.removed(forgotten).await;
                self.shared
                    .store
                    .durable(ticket)
                    .await
                    .map_err(EngineError::store)
            }
        }
    }

    /// Pauses or removes a download this node does not run.
    #[cfg(feature = "cluster")]
    async fn elsewhere(
        &self,
        gid: Gid,
        desired: crate::cluster::Desired,
    ) -> Result<(), EngineError> {
        match &self.shared.cluster {
            Some(link) => cluster::stop_elsewhere(&self.shared, link, gid, desired).await,
            None => Ok(()),
        }
    }

    /// Removes a download this node does not run; its files (on the root
    /// every node shares) go once the removal is committed.
    #[cfg(feature = "cluster")]
    async fn remove_elsewhere(
        &self,
        record: DownloadRecord,
        delete_files: bool,
    ) -> Result<(), EngineError> {
        self.elsewhere(record.gid, crate::cluster::Desired::Remove)
            .await?;
        if let (true, Some(path)) = (delete_files, record.path) {
            let mut doomed = vec![naming::part_path(&path)];
            if record.state == State::Complete {
                doomed.push(path);
            }
            self.shared.delete_files(record.gid, doomed).await;
        }
        Ok(())
    }

    /// Waits for a stop to settle, then until the download's last record
    /// (or its deletion) is committed.
    async fn settled(&self, gid: Gid, settlement: Option<Settlement>) -> Result<(), EngineError> {
        let settled = match settlement {
            Some(settlement) => settlement.wait().await,
            None => None,
        };
        let last = self.shared.registry().get(gid).and_then(|e| e.last_write);
        match last.or(settled) {
            Some(ticket) => self
                .shared
                .store
                .durable(ticket)
                .await
                .map_err(EngineError::store),
            None => Ok(()),
        }
    }

    pub fn status(&self, gid: Gid) -> Result<Status, EngineError> {
        let proxies = self.shared.network.proxies();
        let registry = self.shared.registry();
        registry
            .get(gid)
            .map(|e| status_of(e, &proxies, self.shared.node_name()))
            .ok_or(EngineError::NotFound { gid })
    }

    /// What the download was added with, credentials included: for a
    /// caller that shows its options, which must hide them itself.
    pub fn request(&self, gid: Gid) -> Result<AddRequest, EngineError> {
        self.shared
            .registry()
            .get(gid)
            .map(|e| e.record.request.clone())
            .ok_or(EngineError::NotFound { gid })
    }

    /// Up to `max` gids whose text starts with `prefix`, for callers that
    /// accept a gid by its first digits (as aria2 does).
    pub fn gids_starting_with(&self, prefix: &str, max: usize) -> Vec<Gid> {
        if let Ok(gid) = prefix.parse::<Gid>() {
            return self.status(gid).map(|_| gid).into_iter().collect();
        }
        self.shared
            .registry()
            .gids()
            .filter(|gid| gid.to_string().starts_with(prefix))
            .take(max)
            .collect()
    }

    /// The downloads in `states` (all when empty), in creation order: the
    /// page `offset..offset + limit` of those created after `after` (a
    /// [`Page::cursor`] from an earlier page), and how many matched in all.
    pub fn list(
        &self,
        states: &[State],
        offset: usize,
        limit: usize,
        after: Option<Cursor>,
    ) -> Page {
        let proxies = self.shared.network.proxies();
        let mut registry = self.shared.registry();
        let total = if states.is_empty() {
            registry.len()
        } else {
            let mut wanted = states.to_vec();
            wanted.sort_unstable_by_key(|s| *s as usize);
            wanted.dedup();
            wanted.into_iter().map(|s| registry.count(s)).sum()
        };
        let mut last = None;
        // One more than the page, to know whether another follows.
        let mut entries = registry
            .in_states_after(states, after.map(|c| c.0))
            .skip(offset)
            .take(limit.saturating_add(1));
        let downloads: Vec<Status> = entries
            .by_ref()
            .take(limit)
            .map(|e| {
                last = Some(e.record.seq);
                status_of(e, &proxies, self.shared.node_name())
            })
            .collect();
        let more = entries.next().is_some();
        Page {
            downloads,
            total,
            cursor: last.filter(|_| more).map(Cursor),
        }
    }

    /// The waiting downloads (queued and paused) in queue order: the page
    /// `offset..offset + limit`, and how many wait in all.
    pub fn waiting(&self, offset: usize, limit: usize) -> Page {
        let proxies = self.shared.network.proxies();
        let mut registry = self.shared.registry();
        let waiting = registry.waiting();
        let total = waiting.len();
        let downloads = waiting
            .skip(offset)
            .take(limit)
            .map(|e| status_of(e, &proxies, self.shared.node_name()))
            .collect();
        Page {
            downloads,
            total,
            cursor: None,
        }
    }

    /// Moves a waiting (queued or paused) download in the queue and answers
    /// its new position (0 is first) once the new order is committed.
    pub async fn move_in_queue(&self, gid: Gid, to: QueueMove) -> Result<usize, EngineError> {
        let (position, ticket) = {
            let mut registry = self.shared.registry();
            let entry = registry.get(gid).ok_or(EngineError::NotFound { gid })?;
            let state = entry.record.state;
            if !matches!(state, State::Queued | State::Paused) {
                return Err(EngineError::InvalidState { gid, state });
            }
            let (mut order, ranks): (Vec<Gid>, Vec<i64>) = registry
                .waiting()
                .map(|e| (e.record.gid, e.record.rank))
                .unzip();
            let from = order
                .iter()
                .position(|g| *g == gid)
                .ok_or_else(|| EngineError::internal("a waiting download is not in the queue"))?;
            let last = order.len() - 1;
            let position = match to {
                QueueMove::To(n) => n.min(last),
                QueueMove::By(d) => from.saturating_add_signed(d as isize).min(last),
                QueueMove::FromEnd(n) => last.saturating_sub(n),
            };
            order.remove(from);
            order.insert(position, gid);
            // The same ranks in the new order: only the moved span changes,
            // and downloads added later still come after all of them.
            let mut ticket = None;
            for (moved, rank) in order.into_iter().zip(ranks) {
                let entry = registry
                    .get_mut(moved)
                    .ok_or_else(|| EngineError::internal("lost a waiting download"))?;
                if entry.record.rank != rank {
                    entry.record.rank = rank;
                    ticket = Some(self.shared.save(entry));
                }
            }
            (position, ticket)
        };
        if let Some(ticket) = ticket {
            self.shared
                .store
                .durable(ticket)
                .await
                .map_err(EngineError::store)?;
        }
        self.shared.schedule();
        Ok(position)
    }

    pub fn stats(&self) -> Stats {
        let mut registry = self.shared.registry();
        let mut count = |state| registry.count(state) as u64;
        let (active, queued, paused, complete, error) = (
            count(State::Active),
            count(State::Queued),
            count(State::Paused),
            count(State::Complete),
            count(State::Error),
        );
        let download_speed = registry
            .in_states(&[State::Active])
            .map(|e| match (&e.running, &e.remote) {
                (Some(run), _) => run.speed,
                (None, Some(remote)) => remote.speed,
                (None, None) => 0,
            })
            .sum();
        Stats {
            active,
            queued,
            paused,
            complete,
            error,
            download_speed,
            store_failure: self.shared.store.last_failure(),
        }
    }

    /// Events from now on. See [`Subscription`] for the delivery guarantees.
    pub fn subscribe(&self) -> Subscription {
        self.shared.events.subscribe()
    }

    /// Changes a download's limit (bytes/s, 0 = none), effective at once;
    /// answers once the new limit is committed.
    pub async fn set_speed_limit(&self, gid: Gid, limit: u64) -> Result<Status, EngineError> {
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.shared.cluster {
            let setting = crate::cluster::Setting::SpeedLimit { limit };
            if self.shared.runs_elsewhere(gid)?
                && cluster::set_elsewhere(&self.shared, link, gid, setting).await?
            {
                return self.status(gid);
            }
        }
        let ticket = {
            let mut registry = self.shared.registry();
            let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
            entry.limiter.set_rate(limit);
            entry.record.request.speed_limit = (limit > 0).then_some(limit);
            self.shared.save(entry)
        };
        self.shared
            .store
            .durable(ticket)
            .await
            .map_err(EngineError::store)?;
        self.status(gid)
    }

    /// Points a download that is not complete at another URL of the same
    /// file, keeping its bytes. With bytes kept, the new URL is asked first,
    /// and another file there is refused unless `restart` (the download
    /// then starts again from zero when it next runs). An active download
    /// checkpoints and goes on from its bytes at the new URL.
    pub async fn set_url(
        &self,
        gid: Gid,
        url: String,
        restart: bool,
    ) -> Result<Status, EngineError> {
        let parsed = request::parse_url(&url)?;
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.shared.cluster {
            let setting = crate::cluster::Setting::Url {
                url: url.clone(),
                restart,
            };
            if self.shared.runs_elsewhere(gid)?
                && cluster::set_elsewhere(&self.shared, link, gid, setting).await?
            {
                return self.status(gid);
            }
        }
        let refuse_complete = |state: State| match state {
            State::Complete => Err(EngineError::InvalidState { gid, state }),
            _ => Ok(()),
        };
        let record = self
            .shared
            .record(gid)
            .ok_or(EngineError::NotFound { gid })?;
        refuse_complete(record.state)?;
        let kept = record.completed_length > 0 || !record.segments.is_empty();
        // Another file there is refused, or (with `restart`) left for the
        // next start to find, which then starts over from zero.
        let validators = match kept {
            false => None,
            true => match download::same_file(&self.shared, &record, &parsed).await {
                Ok(validators) => Some(validators),
                Err(_) if restart => None,
                Err(reason) => {
                    return Err(EngineError::RemoteFileDiffers {
                        url: network::shown_url(&url),
                        reason,
                    })
                }
            },
        };
        let ticket = {
            let mut registry = self.shared.registry();
            let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
            refuse_complete(entry.record.state)?;
            entry.record.request.url = url;
            if let Some(v) = validators {
                entry.record.etag = v.etag;
                entry.record.last_modified = v.last_modified;
                entry.record.if_range = v.if_range;
            }
            if let Some(running) = &entry.running {
                running.retarget_now();
            }
            self.shared.save(entry)
        };
        self.shared
            .store
            .durable(ticket)
            .await
            .map_err(EngineError::store)?;
        self.status(gid)
    }

    /// Changes the limit over all downloads (bytes/s, 0 = none), at once.
    pub fn set_global_speed_limit(&self, limit: u64) {
        self.shared.global_limiter.set_rate(limit);
    }

    /// Changes how many downloads may be active at once. Raising it starts
    /// queued downloads now; lowering it lets active ones finish.
    pub fn set_max_concurrent(&self, max: usize) {
        self.shared
            .max_concurrent
            .store(max.max(1), Ordering::SeqCst);
        self.shared.schedule();
    }

    /// The options that can change at run time.
    pub fn options(&self) -> Options {
        Options {
            max_concurrent: self.shared.max_concurrent.load(Ordering::SeqCst),
            global_speed_limit: self.shared.global_limiter.rate(),
            proxies: self.shared.network.proxies(),
        }
    }

    /// Changes the daemon's proxies (in one step, whatever else changes
    /// them meanwhile) and returns them: downloads that take them use the
    /// new ones from their next connection.
    pub fn update_proxies(&self, change: impl FnOnce(&mut Proxies)) -> Proxies {
        self.shared.network.update_proxies(change)
    }

    /// Stops every transfer after a last checkpoint; active downloads stay
    /// active in the store and resume at the next open. Subscriptions end
    /// and the state directory is unlocked; the handle is then inert.
    pub async fn shutdown(&self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        let settlements: Vec<Settlement> = {
            let mut registry = self.shared.registry();
            let gids: Vec<Gid> = registry
                .in_states(&[State::Active])
                .map(|e| e.record.gid)
                .collect();
            gids.into_iter()
                .filter_map(|gid| {
                    Some(
                        registry
                            .get_mut(gid)?
                            .running
                            .as_mut()?
                            .stop(Stop::Shutdown),
                    )
                })
                .collect()
        };
        for settlement in settlements {
            settlement.wait().await;
        }
        // Its last checkpoints in, a node hands its downloads back at once.
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.shared.cluster {
            self.shared.store.flush().await;
            link.leave().await;
        }
        self.shared.events.close();
        self.shared.store.close().await;
        // Everything is recorded: another engine may take the directory.
        self.shared
            .lock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
}

/// `entry`'s status, with `proxies` the daemon's and `here` the name of
/// this node in a cluster.
fn status_of(entry: &Entry, proxies: &Proxies, here: Option<&str>) -> Status {
    let r = &entry.record;
    let (speed, connections) = match (&entry.running, &entry.remote) {
        (Some(run), _) => (run.speed, run.connections),
        (None, Some(remote)) => (remote.speed, remote.connections),
        (None, None) => (0, 0),
    };
    let node = match (&entry.running, &entry.remote) {
        (Some(_), _) => here.map(str::to_owned),
        (None, remote) => remote.as_ref().map(|r| r.node.clone()),
    };
    let url = network::shown_url(&r.request.url);
    let waiting = |url: String| SourceStatus {
        url,
        state: SourceState::Waiting,
        download_speed: 0,
        connections: 0,
        reason: None,
    };
    let sources = match entry.running.as_ref().map(|run| &run.sources) {
        Some(sources) if !sources.is_empty() => sources.clone(),
        // Most downloads, in a long list: one source, its URL shown once.
        _ if r.request.mirrors.is_empty() => vec![waiting(url.clone())],
        _ => r
            .request
            .urls()
            .map(|url| waiting(network::shown_url(url)))
            .collect(),
    };
    Status {
        gid: r.gid,
        url,
        state: r.state,
        file_name: r.file_name.clone(),
        dir: r.request.dir.clone(),
        path: r.path.clone(),
        total_length: r.total_length,
        completed_length: r.completed_length,
        download_speed: speed,
        eta: status::eta(r.total_length, r.completed_length, speed),
        connections,
        sources,
        speed_limit: r.request.speed_limit.unwrap_or(0),
        proxy: proxies.shown_for(&r.request),
        insecure: r.request.insecure,
        error: r.error.clone(),
        created_at: r.created_at,
        completed_at: r.completed_at,
        node,
    }
}

fn lock_state_dir(dir: &Path) -> Result<File, OpenError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    use std::os::unix::io::AsRawFd;
    let io_error = |source| OpenError::StateDir {
        path: dir.to_owned(),
        source,
    };
    // The store holds request headers (tokens, cookies): owner only, also
    // when the directory was there before (made by hand, or by an older
    // version under a looser umask).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_error)?;
    let mode = std::fs::metadata(dir)
        .map_err(io_error)?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_error)?;
        tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "the state directory was open to other users: made it 0700");
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join("lock"))
        .map_err(io_error)?;
    // SAFETY: flock on a file descriptor we own; the kernel drops the lock
    // when the process dies, so a crash never leaves the directory locked.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(OpenError::Locked {
            path: dir.to_owned(),
        });
    }
    Ok(file)
}

/// A download taken out of the registry, whose files may still have to go.
pub(crate) struct Forgotten {
    gid: Gid,
    ticket: Ticket,
    doomed: Vec<PathBuf>,
}

impl Forgotten {
    fn doom(&mut self, path: PathBuf) {
        self.doomed.push(path);
    }
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues the entry's record for the store. Callers hold the registry
    /// lock, which orders the writes of one download.
    fn save(&self, entry: &mut Entry) -> Ticket {
        let ticket = self.store.save(&entry.record);
        entry.last_write = Some(ticket);
        ticket
    }

    /// Changes a download's record, saves it and publishes the event the
    /// change returns, all under the registry lock: events of one download
    /// leave in the order of its changes.
    fn update(
        &self,
        gid: Gid,
        change: impl FnOnce(&mut DownloadRecord) -> Option<EngineEvent>,
    ) -> Result<Ticket, EngineError> {
        let mut registry = self.registry();
        let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
        let event = change(&mut entry.record);
        let ticket = self.save(entry);
        if let Some(event) = event {
            self.events.publish(event);
        }
        Ok(ticket)
    }

    /// The record of a download `request` adds, with a gid of its own, in
    /// the registry's next place; refused when the registry is full.
    fn new_record(
        &self,
        registry: &Registry,
        request: AddRequest,
    ) -> Result<DownloadRecord, EngineError> {
        let max = self.config.max_downloads;
        if registry.len() as u64 >= max {
            return Err(EngineError::LimitExceeded {
                limit: "downloads",
                max,
            });
        }
        let gid = loop {
            let gid = Gid::random();
            if registry.get(gid).is_none() {
                break gid;
            }
        };
        let state = if request.paused {
            State::Paused
        } else {
            State::Queued
        };
        Ok(DownloadRecord::new(
            gid,
            registry.next_seq(),
            state,
            request,
        ))
    }

    /// Whether the engine is a node of a cluster and does not run `gid`
    /// (another node does, or none): its changes go through the database.
    #[cfg(feature = "cluster")]
    fn runs_elsewhere(&self, gid: Gid) -> Result<bool, EngineError> {
        if self.cluster.is_none() {
            return Ok(false);
        }
        let registry = self.registry();
        let entry = registry.get(gid).ok_or(EngineError::NotFound { gid })?;
        Ok(entry.running.is_none())
    }

    /// Publishes a state change — but on a node of a cluster, where every
    /// state change is published, numbered, once the cluster's log has it
    /// (`cluster::catch_up`): a change whose write is fenced never was.
    fn publish_state(&self, event: EngineEvent) {
        #[cfg(feature = "cluster")]
        if self.cluster.is_some() {
            return;
        }
        self.events.publish(event);
    }

    /// This node's name in a cluster.
    fn node_name(&self) -> Option<&str> {
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.cluster {
            return Some(link.node_name());
        }
        None
    }

    /// Whether the downloads may write what they fetch: always, but on a
    /// node of a cluster whose lease may have run out.
    pub(crate) fn may_write(&self) -> bool {
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.cluster {
            return link.may_write();
        }
        true
    }

    /// What a cluster's claim granted the download running as `gid`.
    fn connection_cap(&self, gid: Gid) -> Option<u32> {
        self.registry()
            .get(gid)
            .and_then(|e| e.running.as_ref())
            .and_then(|r| r.connection_cap)
    }

    /// Hands a running download's progress to the other nodes' clients.
    fn cluster_progress(
        &self,
        gid: Gid,
        completed: u64,
        total: Option<u64>,
        speed: u64,
        connections: u32,
    ) {
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.cluster {
            link.progress(crate::cluster::Progress {
                gid: gid.to_string(),
                completed_length: completed,
                total_length: total,
                download_speed: speed,
                connections,
            });
        }
        #[cfg(not(feature = "cluster"))]
        let _ = (gid, completed, total, speed, connections);
    }

    fn record(&self, gid: Gid) -> Option<DownloadRecord> {
        self.registry().get(gid).map(|e| e.record.clone())
    }

    /// Runs file-system work that may block on the engine's blocking pool,
    /// never on the caller's (possibly RPC-serving) thread.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        self.runtime
            .spawn_blocking(work)
            .await
            .unwrap_or_else(|e| Err(EngineError::internal(format!("file task failed: {e}"))))
    }

    /// Starts queued downloads while there is room.
    fn schedule(self: &Arc<Self>) {
        self.schedule_first(&[]);
    }

    /// Starts queued downloads while there is room, `first` before the rest
    /// of the FIFO (downloads that were active when the engine last closed).
    fn schedule_first(self: &Arc<Self>, first: &[Gid]) {
        if self.closing.load(Ordering::SeqCst) {
            return;
        }
        // A node of a cluster claims from the cluster's queue instead.
        #[cfg(feature = "cluster")]
        if let Some(link) = &self.cluster {
            let (shared, link) = (self.clone(), link.clone());
            drop(
                self.runtime
                    .spawn(async move { cluster::claim(&shared, &link).await }),
            );
            return;
        }
        let mut registry = self.registry();
        let max = self.max_concurrent.load(Ordering::SeqCst);
        while registry
            .count(State::Active)
            .saturating_sub(self.parked.load(Ordering::SeqCst))
            < max
        {
            let queued = |gid: &&Gid| {
                registry
                    .get(**gid)
                    .is_some_and(|e| e.record.state == State::Queued && e.running.is_none())
            };
            let Some(gid) = first
                .iter()
                .find(queued)
                .copied()
                .or_else(|| registry.next_queued())
            else {
                break;
            };
            let Some(entry) = registry.get_mut(gid) else {
                break;
            };
            entry.record.state = State::Active;
            let _ = self.save(entry);
            self.events.publish(EngineEvent::Activated { gid });
            let cancel = CancellationToken::new();
            let running = Running::new(cancel.clone());
            let retarget = running.retarget();
            task::spawn(self, gid, cancel, entry.limiter.clone(), retarget);
            entry.running = Some(running);
        }
    }

    /// Takes a download that is not running out of memory and the store;
    /// its files are deleted by [`Shared::removed`], off the lock.
    fn forget(&self, registry: &mut Registry, gid: Gid, delete_files: bool) -> Forgotten {
        let mut doomed = Vec::new();
        let entry = registry.remove(gid);
        // Callers found the entry under this lock; the store's key is its seq.
        let seq = entry.as_ref().map_or(-1, |e| e.record.seq);
        let ticket = self.store.delete(gid, seq);
        if let Some(entry) = entry {
            if let (true, Some(path)) = (delete_files, &entry.record.path) {
                doomed.push(naming::part_path(path));
                if entry.record.state == State::Complete {
                    doomed.push(path.clone());
                }
            }
        }
        Forgotten {
            gid,
            ticket,
            doomed,
        }
    }

    /// Deletes the files of a download that is gone, off the runtime.
    async fn delete_files(&self, gid: Gid, doomed: Vec<PathBuf>) {
        if doomed.is_empty() {
            return;
        }
        let deleted = self
            .blocking(move || {
                for file in doomed {
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => tracing::warn!(%gid, "cannot delete {}: {e}", file.display()),
                    }
                }
                Ok(())
            })
            .await;
        if let Err(e) = deleted {
            tracing::warn!(%gid, "cannot delete the files: {e}");
        }
    }

    /// Deletes a forgotten download's files, then tells subscribers it is
    /// gone; returns the ticket of its deletion from the store.
    async fn removed(&self, forgotten: Forgotten) -> Ticket {
        let Forgotten {
            gid,
            ticket,
            doomed,
        } = forgotten;
        self.delete_files(gid, doomed).await;
        // Under the lock, like every event: nothing of this gid can follow.
        let _registry = self.registry();
        self.publish_state(EngineEvent::Removed { gid });
        ticket
    }
}
