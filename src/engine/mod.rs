//! The transport-neutral download engine: an [`Engine`] handle over a queue
//! of downloads, each a task of N ranged HTTP/1.1 connections writing into a
//! `.part` file, with progress checkpointed to an embedded SQLite store.
//!
//! - `mod.rs`: the handle — add, pause, resume, remove, status, list, stats,
//!   subscribe — and the state transitions of the queue.
//! - `download`: one download's task: probe, name, transfer, verify, rename.
//! - `transfer`: one connection — ranged GETs, retries, positional writes.
//! - `probe`: the first request of every (re)start.
//! - `segments`: range splitting, work stealing and end-game racing.
//! - `limiter`: token-bucket speed limits; `queue`: registry and host slots.
//! - `naming`: every file name and directory, kept inside the root.
//! - `store`: persistence trait and its SQLite implementation; `writer`:
//!   write-behind in front of it (one thread, one commit per burst).
//! - `events`, `status`, `request`, `config`, `error`: the API's vocabulary.

mod config;
mod download;
mod error;
mod events;
mod limiter;
mod naming;
mod probe;
mod queue;
mod request;
mod segments;
mod status;
mod store;
mod transfer;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

pub use config::{EngineConfig, DEFAULT_CONNECTIONS, MAX_CONNECTIONS};
pub use error::{EngineError, Failure, FailureCode};
pub use events::{EngineEvent, Subscription};
pub use request::{AddRequest, Checksum, HashAlgorithm, Overwrite};
pub use segments::SavedSegment;
pub use status::{Gid, Options, ParseGidError, State, Stats, Status};
pub use store::{DownloadRecord, SqliteStore, Store, StoreError, Write};

use download::Outcome;
use events::EventHub;
use limiter::Limiter;
use queue::{Entry, HostSlots, Registry, Running, Stop};
use writer::Writer;

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
    #[error("cannot set up the http client: {0}")]
    Client(#[from] reqwest::Error),
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
    client: reqwest::Client,
    store: Writer,
    registry: Mutex<Registry>,
    events: EventHub,
    global_limiter: Arc<Limiter>,
    hosts: HostSlots,
    closing: AtomicBool,
    /// Starts at `config.max_concurrent`; changeable at run time.
    max_concurrent: AtomicUsize,
    /// Held (flock) until shutdown: one engine per state directory.
    lock: Mutex<Option<File>>,
    /// The runtime the engine was opened on: downloads run there, whichever
    /// thread asked for them (the daemon serves calls on runtimes of its own).
    runtime: tokio::runtime::Handle,
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
        let root_error = |source| OpenError::Root {
            path: config.download_root.clone(),
            source,
        };
        std::fs::create_dir_all(&config.download_root).map_err(root_error)?;
        let root = config.download_root.canonicalize().map_err(root_error)?;
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
        let shared = Arc::new(Shared {
            client: download::http_client(&config)?,
            root,
            store: Writer::spawn(store),
            registry: Mutex::new(registry),
            events: EventHub::default(),
            global_limiter: Arc::new(Limiter::new(config.global_speed_limit)),
            hosts: HostSlots::new(config.max_connections_per_host),
            closing: AtomicBool::new(false),
            max_concurrent: AtomicUsize::new(config.max_concurrent.max(1)),
            lock: Mutex::new(lock),
            runtime: tokio::runtime::Handle::current(),
            config,
        });
        shared.schedule_first(&were_active);
        Ok(Engine { shared })
    }

    /// The canonical download root.
    pub fn download_root(&self) -> &Path {
        &self.shared.root
    }

    /// Queues a download (or adds it paused) and returns its gid.
    pub fn add(&self, request: AddRequest) -> Result<Gid, EngineError> {
        request.validate()?;
        if let Some(name) = &request.file_name {
            naming::check_plain_name(name)?;
        }
        let dir = naming::resolve_dir(&self.shared.root, request.dir.as_deref())?;
        if let (Some(name), Overwrite::Fail) = (&request.file_name, request.overwrite) {
            let path = dir.join(name);
            if path.symlink_metadata().is_ok() {
                return Err(EngineError::DestinationExists { path });
            }
        }
        let mut registry = self.shared.registry();
        let max = self.shared.config.max_downloads;
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
        let record = DownloadRecord {
            gid,
            seq: registry.next_seq(),
            state: if request.paused {
                State::Paused
            } else {
                State::Queued
            },
            file_name: request.file_name.clone(),
            path: None,
            total_length: None,
            completed_length: 0,
            etag: None,
            last_modified: None,
            error: None,
            created_at: SystemTime::now(),
            completed_at: None,
            segments: Vec::new(),
            request,
        };
        self.shared.save(&record);
        registry.insert(record);
        drop(registry);
        self.shared.schedule();
        Ok(gid)
    }

    /// Pauses a queued or active download; returns once its progress is
    /// checkpointed and its connections are closed.
    pub async fn pause(&self, gid: Gid) -> Result<(), EngineError> {
        let stopping = self.begin_pause(gid)?;
        wait(stopping).await;
        Ok(())
    }

    /// The locked part of [`Engine::pause`]: the task to wait for, if any.
    /// (A lock guard must not live across an await; keeping it in a sync
    /// function makes that plain to the compiler too.)
    fn begin_pause(&self, gid: Gid) -> Result<Option<tokio::task::JoinHandle<()>>, EngineError> {
        let mut registry = self.shared.registry();
        let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
        match entry.record.state {
            State::Queued => {
                entry.record.state = State::Paused;
                let completed_length = entry.record.completed_length;
                self.shared.save(&entry.record);
                drop(registry);
                self.shared.events.publish(EngineEvent::Paused {
                    gid,
                    completed_length,
                });
                Ok(None)
            }
            State::Active => Ok(stop(entry, Stop::Pause)),
            // Already where the caller wants it.
            State::Paused => Ok(None),
            state => Err(EngineError::InvalidState { gid, state }),
        }
    }

    /// Queues a paused or failed download again; it keeps its bytes.
    pub fn resume(&self, gid: Gid) -> Result<(), EngineError> {
        let mut registry = self.shared.registry();
        let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
        match entry.record.state {
            State::Paused | State::Error => {
                entry.record.state = State::Queued;
                entry.record.error = None;
                self.shared.save(&entry.record);
                drop(registry);
                self.shared.schedule();
                Ok(())
            }
            // Already on its way.
            State::Queued | State::Active => Ok(()),
            state => Err(EngineError::InvalidState { gid, state }),
        }
    }

    /// Forgets a download in any state, stopping it first; with
    /// `delete_files` also deletes its `.part` and, if complete, its file.
    pub async fn remove(&self, gid: Gid, delete_files: bool) -> Result<(), EngineError> {
        let stopping = self.begin_remove(gid, delete_files)?;
        wait(stopping).await;
        Ok(())
    }

    /// The locked part of [`Engine::remove`]: the task to wait for, if any.
    fn begin_remove(
        &self,
        gid: Gid,
        delete_files: bool,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, EngineError> {
        let mut registry = self.shared.registry();
        let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
        if entry.record.state == State::Active {
            return Ok(stop(entry, Stop::Remove { delete_files }));
        }
        self.shared.forget(&mut registry, gid, delete_files)?;
        drop(registry);
        self.shared.events.publish(EngineEvent::Removed { gid });
        Ok(None)
    }

    pub fn status(&self, gid: Gid) -> Result<Status, EngineError> {
        let registry = self.shared.registry();
        registry
            .get(gid)
            .map(status_of)
            .ok_or(EngineError::NotFound { gid })
    }

    /// The downloads in `states` (all when empty), in creation order: the
    /// page `offset..offset + limit` and the number that matched.
    pub fn list(&self, states: &[State], offset: usize, limit: usize) -> (Vec<Status>, usize) {
        let mut registry = self.shared.registry();
        let total = if states.is_empty() {
            registry.len()
        } else {
            let mut wanted = states.to_vec();
            wanted.sort_unstable_by_key(|s| *s as usize);
            wanted.dedup();
            wanted.into_iter().map(|s| registry.count(s)).sum()
        };
        let page = registry
            .in_states(states)
            .skip(offset)
            .take(limit)
            .map(status_of)
            .collect();
        (page, total)
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
            .filter_map(|e| e.running.as_ref())
            .map(|r| r.speed)
            .sum();
        Stats {
            active,
            queued,
            paused,
            complete,
            error,
            download_speed,
        }
    }

    /// Events from now on. See [`Subscription`] for the delivery guarantees.
    pub fn subscribe(&self) -> Subscription {
        self.shared.events.subscribe()
    }

    /// Changes a download's limit (bytes/s, 0 = none), effective at once.
    pub fn set_speed_limit(&self, gid: Gid, limit: u64) -> Result<(), EngineError> {
        let mut registry = self.shared.registry();
        let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
        entry.limiter.set_rate(limit);
        entry.record.request.speed_limit = (limit > 0).then_some(limit);
        self.shared.save(&entry.record);
        Ok(())
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
        }
    }

    /// Stops every transfer after a last checkpoint; active downloads stay
    /// active in the store and resume at the next open. Subscriptions end
    /// and the state directory is unlocked; the handle is then inert.
    pub async fn shutdown(&self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        let handles: Vec<_> = {
            let mut registry = self.shared.registry();
            let gids: Vec<Gid> = registry.iter().map(|e| e.record.gid).collect();
            let mut handles = Vec::new();
            for gid in gids {
                if let Some(entry) = registry.get_mut(gid) {
                    handles.push(stop(entry, Stop::Shutdown));
                }
            }
            handles
        };
        for handle in handles {
            wait(handle).await;
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

/// Asks a running download to stop (the first reason wins) and takes its
/// task handle so the caller can wait for the stop to complete.
fn stop(entry: &mut Entry, reason: Stop) -> Option<tokio::task::JoinHandle<()>> {
    let running = entry.running.as_mut()?;
    running.stop.get_or_insert(reason);
    running.cancel.cancel();
    running.handle.take()
}

async fn wait(handle: Option<tokio::task::JoinHandle<()>>) {
    if let Some(handle) = handle {
        if let Err(e) = handle.await {
            tracing::error!("download task failed: {e}");
        }
    }
}

fn status_of(entry: &Entry) -> Status {
    let r = &entry.record;
    let (speed, connections) = entry
        .running
        .as_ref()
        .map_or((0, 0), |run| (run.speed, run.connections));
    Status {
        gid: r.gid,
        url: r.request.url.clone(),
        state: r.state,
        file_name: r.file_name.clone(),
        path: r.path.clone(),
        total_length: r.total_length,
        completed_length: r.completed_length,
        download_speed: speed,
        eta: status::eta(r.total_length, r.completed_length, speed),
        connections,
        speed_limit: r.request.speed_limit.unwrap_or(0),
        error: r.error.clone(),
        created_at: r.created_at,
        completed_at: r.completed_at,
    }
}

fn lock_state_dir(dir: &Path) -> Result<File, OpenError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    use std::os::unix::io::AsRawFd;
    let io_error = |source| OpenError::StateDir {
        path: dir.to_owned(),
        source,
    };
    // The store holds request headers (tokens, cookies): owner only.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_error)?;
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

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes one record; callers hold the registry lock, which orders the
    /// writes of one download.
    /// Queues the record for the store (see `writer`).
    fn save(&self, record: &DownloadRecord) {
        self.store.save(record);
    }

    /// Changes a download's record and saves it.
    fn update(
        &self,
        gid: Gid,
        change: impl FnOnce(&mut DownloadRecord),
    ) -> Result<(), EngineError> {
        let mut registry = self.registry();
        let entry = registry.get_mut(gid).ok_or(EngineError::NotFound { gid })?;
        change(&mut entry.record);
        self.save(&entry.record);
        Ok(())
    }

    fn record(&self, gid: Gid) -> Option<DownloadRecord> {
        self.registry().get(gid).map(|e| e.record.clone())
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
        let mut registry = self.registry();
        while registry.count(State::Active) < self.max_concurrent.load(Ordering::SeqCst) {
            let queued = |gid: &&Gid| {
                registry
                    .get(**gid)
                    .is_some_and(|e| e.record.state == State::Queued)
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
            self.save(&entry.record);
            let cancel = CancellationToken::new();
            let shared = self.clone();
            let (token, limiter) = (cancel.clone(), entry.limiter.clone());
            let handle = self.runtime.spawn(async move {
                let outcome = download::run(&shared, gid, token, limiter).await;
                shared.finish(gid, outcome);
            });
            entry.running = Some(Running {
                cancel,
                stop: None,
                handle: Some(handle),
                speed: 0,
                connections: 0,
            });
        }
    }

    /// Applies a finished task's outcome and the stop that was asked for.
    fn finish(self: &Arc<Self>, gid: Gid, outcome: Outcome) {
        let mut registry = self.registry();
        let Some(entry) = registry.get_mut(gid) else {
            return;
        };
        let stop = entry.running.take().and_then(|r| r.stop);
        if let Some(Stop::Remove { delete_files }) = stop {
            if let Err(e) = self.forget(&mut registry, gid, delete_files) {
                tracing::error!(%gid, "cannot remove: {e}");
            }
            drop(registry);
            self.events.publish(EngineEvent::Removed { gid });
            self.schedule();
            return;
        }
        let record = &mut entry.record;
        let event = match outcome {
            Outcome::Complete { path, total } => {
                record.state = State::Complete;
                record.file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                record.path = Some(path.clone());
                record.total_length = Some(total);
                record.completed_length = total;
                record.completed_at = Some(SystemTime::now());
                record.segments.clear();
                EngineEvent::Complete {
                    gid,
                    path,
                    total_length: total,
                }
            }
            Outcome::Failed(failure) => {
                tracing::info!(%gid, "download failed: {failure}");
                record.state = State::Error;
                record.error = Some(failure.clone());
                EngineEvent::Error {
                    gid,
                    code: failure.code,
                    message: failure.message,
                    completed_length: record.completed_length,
                }
            }
            Outcome::Stopped if stop == Some(Stop::Pause) => {
                record.state = State::Paused;
                EngineEvent::Paused {
                    gid,
                    completed_length: record.completed_length,
                }
            }
            // Shutting down: the record stays active so the next open resumes it.
            Outcome::Stopped => return,
        };
        self.save(record);
        drop(registry);
        self.events.publish(event);
        self.schedule();
    }

    /// Removes a download that is not running from memory and the store.
    fn forget(
        &self,
        registry: &mut Registry,
        gid: Gid,
        delete_files: bool,
    ) -> Result<(), EngineError> {
        self.store.delete(gid);
        let Some(entry) = registry.remove(gid) else {
            return Ok(());
        };
        if let (true, Some(path)) = (delete_files, &entry.record.path) {
            let mut doomed = vec![naming::part_path(path)];
            if entry.record.state == State::Complete {
                doomed.push(path.clone());
            }
            for file in doomed {
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => tracing::warn!(%gid, "cannot delete {}: {e}", file.display()),
                }
            }
        }
        Ok(())
    }
}
