//! One download's task, from probe to rename: picks the name, (re)opens the
//! `.part`, runs the connections, reports progress, checkpoints, verifies.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::control::Park;
use super::error::{Failure, FailureCode};
use super::events::{EngineEvent, RestartReason};
use super::limiter::Limiter;
use super::naming;
use super::network::{self, Route};
use super::probe::{self, Probe};
use super::request;
use super::request::{AddRequest, Overwrite};
use super::segments::{Meter, SavedSegment, SegmentTable};
use super::status::{self, Gid};
use super::status::{SourceState, SourceStatus};
use super::store::DownloadRecord;
use super::transfer::{Body, ConnectionEnd, Identity, Source, Transfer};
use super::Shared;

/// Times a download starts over from zero because the remote file changed
/// under it, before it fails: a file that keeps changing cannot be had.
const MAX_RESTARTS: u32 = 3;

/// How one start of a download ended.
enum JobEnd {
    Done(Outcome),
    /// The remote file changed: start over from zero.
    Changed(RestartReason, String),
    /// The URL changed (to the same file): go on from the bytes there.
    Retarget,
}

/// How a download task ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Complete {
        path: PathBuf,
        total: u64,
    },
    Failed(Failure),
    /// Cancelled (pause, remove, shutdown) after a last checkpoint.
    Stopped,
}

pub(crate) async fn run(
    shared: &Arc<Shared>,
    gid: Gid,
    cancel: CancellationToken,
    limiter: Arc<Limiter>,
    retarget: &Notify,
) -> Outcome {
    if let Some(done) = renamed_before_a_crash(shared, gid) {
        return done;
    }
    let park = Park::new(shared.clone());
    let mut restarted = None;
    let mut restarts = 0;
    // The route of the last start: its cookie jar carries on.
    let mut earlier: Option<Route> = None;
    loop {
        let prepared = tokio::select! {
            _ = cancel.cancelled() => return Outcome::Stopped,
            prepared = prepare(shared, gid, limiter.clone(), restarted, earlier.as_ref(), &park) => prepared,
        };
        let job = match prepared {
            Ok(job) => job,
            Err(failure) => return Outcome::Failed(failure),
        };
        earlier = Some(job.route.clone());
        let (reason, why) = match job.run(shared, &cancel, retarget).await {
            JobEnd::Done(outcome) => return outcome,
            JobEnd::Changed(reason, why) => (reason, why),
            JobEnd::Retarget => {
                restarted = None;
                continue;
            }
        };
        if restarts >= MAX_RESTARTS {
            return Outcome::Failed(Failure::new(
                FailureCode::InvalidResponse,
                format!("{why}, and it kept changing: gave up after {MAX_RESTARTS} fresh starts"),
            ));
        }
        tracing::warn!(%gid, "{why}: starting over from zero");
        // The old bytes are another version's: none of them may be kept.
        let forgotten = shared.update(gid, |r| {
            r.completed_length = 0;
            r.segments.clear();
            r.total_length = None;
            r.etag = None;
            r.last_modified = None;
            r.if_range = None;
            None
        });
        if forgotten.is_err() {
            return Outcome::Failed(Failure::new(FailureCode::Io, "the download was removed"));
        }
        restarted = Some(reason);
        restarts += 1;
    }
}

/// A crash between the final rename and recording the completion leaves
/// every byte recorded, no `.part`, and the final file in place.
fn renamed_before_a_crash(shared: &Shared, gid: Gid) -> Option<Outcome> {
    let record = shared.record(gid)?;
    let (path, total) = (record.path?, record.total_length?);
    let finished = record.segments.is_empty() && record.completed_length == total;
    let renamed = !naming::part_path(&path).exists()
        && path
            .symlink_metadata()
            .is_ok_and(|m| m.is_file() && m.len() == total);
    (finished && renamed).then_some(Outcome::Complete { path, total })
}

/// Why a job's connections stopped.
enum Stopped {
    /// Every byte is in.
    Finished,
    /// A pause, a remove or a shutdown.
    Cancelled,
    /// A new URL: the job goes on from its bytes there.
    Retarget,
    Failed(Failure),
}

/// A download ready to transfer.
struct Job {
    gid: Gid,
    path: PathBuf,
    total: Option<u64>,
    transfer: Arc<Transfer>,
    /// The probe's body and connection slot, handed to the first connection
    /// (to the first source, which answered the probe).
    first: Option<(Body, OwnedSemaphorePermit)>,
    workers: usize,
    /// How the reference source's connections reach it; its cookies carry
    /// on to the next start.
    route: Route,
    /// Each source's route, by its index in the transfer.
    routes: Arc<Vec<Option<Route>>>,
    /// Each source's place among the download's URLs (its status order).
    given: Vec<usize>,
}

/// After this long a source is judged against the others' speed.
const JUDGED_AFTER: Duration = Duration::from_secs(3);
/// A source this many times slower per connection than the fastest is
/// dropped: its connections serve the file faster from another.
const SLOWER_BY: u64 = 8;

/// One source as `prepare` found it; a source dropped before the transfer
/// began has no route.
struct Found {
    given: usize,
    source: Source,
    route: Option<Route>,
}

/// Probes, picks the name, (re)opens the `.part` and plans the ranges.
/// `restarted` says why an earlier start of this run was thrown away.
async fn prepare(
    shared: &Arc<Shared>,
    gid: Gid,
    limiter: Arc<Limiter>,
    restarted: Option<RestartReason>,
    earlier: Option<&Route>,
    park: &Arc<Park>,
) -> Result<Job, Failure> {
    let record = shared
        .record(gid)
        .ok_or_else(|| Failure::new(FailureCode::Io, "the download was removed"))?;
    let invalid = |e: super::EngineError| Failure::new(FailureCode::Io, e.to_string());
    let (_, headers) = record.request.validate().map_err(invalid)?;
    let config = &shared.config;
    let resuming =
        record.path.is_some() && (record.completed_length > 0 || !record.segments.is_empty());
    let urls: Vec<&str> = record.request.urls().collect();

    // The first URL that answers is the reference the others are checked
    // against; one that does not is dropped for this run, while another
    // is left to try.
    let mut found: Vec<Found> = Vec::new();
    let mut reference = None;
    for (given, text) in urls.iter().enumerate() {
        let url = request::parse_url(text).map_err(invalid)?;
        let url = shared.network.login(&url);
        let mut route =
            Route::new(shared.network.clone(), &record.request, &url).map_err(invalid)?;
        route = match (given, earlier) {
            (0, Some(earlier)) => route.keeping_cookies_of(earlier),
            // A restart since: what the servers set is in the record.
            _ => route.replaying(&record.server_cookies),
        };
        // The kept validators are the download's URL's: a mirror has its own.
        let validator = record.if_range.clone().filter(|_| resuming && given == 0);
        let probing = park.worker();
        let probed = probe_with_retries(
            shared,
            gid,
            &route,
            &url,
            &headers,
            validator.as_deref(),
            park,
        )
        .await;
        drop(probing);
        let shown = network::shown_url(text);
        match probed {
            Ok(probed) => {
                reference = Some((given, url, route, probed));
                break;
            }
            Err(failure) if given + 1 < urls.len() => {
                tracing::warn!(%gid, url = %shown, error = %failure, "trying the next mirror");
                let source =
                    Source::unusable(shown, url.clone(), format!("failed: {}", failure.message));
                found.push(Found {
                    given,
                    source,
                    route: None,
                });
            }
            Err(failure) => return Err(failure),
        }
    }
    let Some((reference_at, url, route, (probe, permit))) = reference else {
        return Err(Failure::new(FailureCode::Io, "the download has no URL"));
    };
    // A mirror's validators are not the URL's: against a mirror, only the
    // length says whether the kept bytes are this file's.
    let kept = Identity {
        total: record.total_length,
        etag: record.etag.clone().filter(|_| reference_at == 0),
        last_modified: record.last_modified.clone().filter(|_| reference_at == 0),
    };
    let part = record.path.as_deref().map(naming::part_path);
    let part_exists = match part {
        Some(part) => shared
            .blocking(move || Ok(part.exists()))
            .await
            .unwrap_or(false),
        None => false,
    };
    let restart = if !resuming {
        None
    } else if !probe.unchanged || kept.differs(&probe.identity).is_some() {
        Some(RestartReason::RemoteChanged)
    } else if !part_exists || !probe.ranges || probe.total() != record.total_length {
        Some(RestartReason::NotResumable)
    } else {
        None
    };
    let resume = resuming && restart.is_none();
    if let Some(reason) = restart {
        let url = network::shown_url(urls[reference_at]);
        tracing::warn!(%gid, %url, reason = reason.as_str(), "restarting from zero");
    }
    let restarted = if resume { None } else { restart.or(restarted) };
    let path = match &record.path {
        Some(path) => path.clone(),
        None => choose_path(shared, &record, &probe).await?,
    };
    let total = probe.total();
    let mirrors = urls
        .iter()
        .enumerate()
        .skip(reference_at + 1)
        .map(|(given, text)| mirror(shared, &record, &headers, given, text, &probe));
    let mirrors = futures::future::join_all(mirrors).await;
    // In a cluster, what the claim granted within the cluster-wide cap.
    let connections = match shared.connection_cap(gid) {
        Some(cap) => record
            .request
            .connections()
            .min(cap.min(u16::MAX.into()) as u16),
        None => record.request.connections(),
    };
    let (part, min_split, connections, segments, ranges) = (
        naming::part_path(&path),
        config.min_split,
        connections,
        record.segments.clone(),
        probe.ranges,
    );
    let (file, table) = blocking(move || {
        let file = open_part(&part, !resume)?;
        let table = match total {
            Some(total) if resume => SegmentTable::restore(total, &segments, min_split),
            total => {
                if let Some(total) = total.filter(|&t| t > 0) {
                    preallocate(&file, total)?;
                }
                SegmentTable::split(total, ranges, connections, min_split)
            }
        };
        Ok((file, table))
    })
    .await?;
    let remaining = total.map_or(1, |total| total - table.completed());
    let workers = if table.ranges() {
        remaining
            .div_ceil(config.min_split.max(1))
            .min(u64::from(connections)) as usize
    } else {
        1
    };
    let completed = table.completed();
    let file_name = file_name(&path).unwrap_or_default();
    let saved = shared.update(gid, |r| {
        r.path = Some(path.clone());
        r.file_name = Some(file_name.clone());
        r.total_length = total;
        r.completed_length = completed;
        // The URL's own validators are kept, never a mirror's.
        if reference_at == 0 {
            r.etag = probe.identity.etag.clone();
            r.last_modified = probe.identity.last_modified.clone();
            r.if_range = probe.if_range.clone();
        }
        r.segments = table.snapshot();
        Some(EngineEvent::Started {
            gid,
            file_name,
            total_length: total,
            resumed: resume,
            restarted,
        })
    });
    // Nobody waits on this write: a crash before it commits only means
    // probing again.
    let _ = saved.map_err(invalid)?;
    let (target, target_headers) = network::redirected(&url, headers, &probe.url);
    let first = Found {
        given: reference_at,
        source: Source::new(
            target,
            network::shown_url(urls[reference_at]),
            target_headers,
            probe
                .if_range
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok()),
            probe.identity.clone(),
            route.digest(),
        ),
        route: Some(route.clone()),
    };
    // The reference first: the probe's body is its.
    let all: Vec<Found> = std::iter::once(first).chain(found).chain(mirrors).collect();
    let given = all.iter().map(|f| f.given).collect();
    let (sources, routes): (Vec<_>, Vec<_>) = all
        .into_iter()
        .map(|f| (Arc::new(f.source), f.route))
        .unzip();
    let transfer = Transfer::new(
        sources,
        Arc::new(file),
        Arc::new(table),
        [limiter, shared.global_limiter.clone()],
        config.stall_timeout,
        config.retry_policy(),
        park.clone(),
    );
    Ok(Job {
        gid,
        path,
        total,
        transfer: Arc::new(transfer),
        first: Some((probe.body, permit)),
        workers,
        route,
        routes: Arc::new(routes),
        given,
    })
}

/// A mirror, checked against the reference's `probe`: it must serve the
/// same length with ranges, or it is dropped before the transfer begins.
async fn mirror(
    shared: &Shared,
    record: &DownloadRecord,
    headers: &HeaderMap,
    given: usize,
    text: &str,
    reference: &Probe,
) -> Found {
    let shown = network::shown_url(text);
    let unusable = |url: url::Url, reason: String| Found {
        given,
        source: Source::unusable(shown.clone(), url, reason),
        route: None,
    };
    // Checked when the download was added, and again by `validate`.
    let url = match request::parse_url(text) {
        Ok(url) => shared.network.login(&url),
        Err(e) => return unusable(reference.url.clone(), e.to_string()),
    };
    let route = match Route::new(shared.network.clone(), &record.request, &url) {
        Ok(route) => route.replaying(&record.server_cookies),
        Err(e) => return unusable(url, e.to_string()),
    };
    if !reference.ranges || reference.total().is_none() {
        let why = "not used: the first source serves no ranges, so one connection downloads it all";
        return unusable(url, why.into());
    }
    let client = match route.client() {
        Ok(client) => client,
        Err(e) => return unusable(url, cannot_connect(e).message),
    };
    let timeout = shared.config.stall_timeout;
    let digest = route.digest();
    let probed = probe::probe(&client, digest.as_deref(), &url, headers, None, 1, timeout).await;
    let probe = match probed {
        Ok(probe) => probe,
        Err(e) => return unusable(url, format!("failed: {}", e.failure.message)),
    };
    let expected = reference.total().unwrap_or_default();
    if probe.total() != Some(expected) {
        let served = probe
            .total()
            .map_or("no length".to_owned(), |t| format!("{t} bytes"));
        return unusable(
            url,
            format!("serves another file: {served}, not {expected} bytes"),
        );
    }
    if !probe.ranges {
        return unusable(url, "serves no ranges".into());
    }
    let (target, headers) = network::redirected(&url, headers.clone(), &probe.url);
    let if_range = probe
        .if_range
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok());
    let source = Source::new(target, shown, headers, if_range, probe.identity, digest);
    Found {
        given,
        source,
        route: Some(route),
    }
}

/// The probe, retried like any range; it holds a connection slot, which the
/// first connection inherits with the body.
async fn probe_with_retries(
    shared: &Shared,
    gid: Gid,
    route: &Route,
    url: &url::Url,
    headers: &HeaderMap,
    validator: Option<&str>,
    park: &Park,
) -> Result<(Probe, OwnedSemaphorePermit), Failure> {
    let config = &shared.config;
    let host = &format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    );
    let client = route.client().map_err(cannot_connect)?;
    let mut retries = config.retry_policy().start();
    loop {
        let permit = shared.hosts.acquire(host).await;
        let digest = route.digest();
        let probed = probe::probe(
            &client,
            digest.as_deref(),
            url,
            headers,
            validator,
            config.min_split,
            config.stall_timeout,
        );
        match probed.await {
            Ok(probe) => return Ok((probe, permit)),
            Err(err) if err.transient => {
                drop(permit);
                let delay = retries.after(&err).ok_or_else(|| err.failure.clone())?;
                tracing::debug!(%gid, error = %err.failure, ?delay, "retrying the probe");
                park.sleep(delay).await;
            }
            Err(err) => return Err(err.failure),
        }
    }
}

/// A remote file's validators as one URL gives them.
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub if_range: Option<String>,
}

/// Whether `url` serves the file `record`'s kept bytes belong to: the same
/// length, and the same validators where both give them; if so, the
/// validators it gives (a mirror's are its own, and the next resume sends
/// them as If-Range). `Err` says why not (or why `url` could not be asked),
/// for `download.setUrl`.
pub(crate) async fn same_file(
    shared: &Shared,
    record: &DownloadRecord,
    url: &url::Url,
) -> Result<Validators, String> {
    let request = AddRequest {
        url: url.to_string(),
        ..record.request.clone()
    };
    let (_, headers) = request.validate().map_err(|e| e.to_string())?;
    let url = &shared.network.login(url);
    let route = Route::new(shared.network.clone(), &request, url).map_err(|e| e.to_string())?;
    let client = route.client().map_err(|e| cannot_connect(e).message)?;
    let timeout = shared.config.stall_timeout;
    let probe = probe::probe(
        &client,
        route.digest().as_deref(),
        url,
        &headers,
        None,
        1,
        timeout,
    )
    .await
    .map_err(|e| format!("cannot ask it which file it serves: {}", e.failure.message))?;
    let kept = Identity {
        total: record.total_length,
        etag: record.etag.clone(),
        last_modified: record.last_modified.clone(),
    };
    if let Some(reason) = kept.differs(&probe.identity) {
        return Err(reason);
    }
    if kept.total.is_some() && probe.identity.total.is_none() {
        return Err("it does not say the file's length, so it may be another file".into());
    }
    Ok(Validators {
        etag: probe.identity.etag,
        last_modified: probe.identity.last_modified,
        if_range: probe.if_range,
    })
}

/// reqwest refusing to build a client: a local fault, not the server's.
fn cannot_connect(e: reqwest::Error) -> Failure {
    Failure::new(FailureCode::Io, format!("cannot set up a connection: {e}"))
}

/// The name: the user's, else Content-Disposition's, else the last segment
/// of the URL the redirects led to, made plain and unique under the
/// overwrite policy. Chosen under the naming lock (stat calls, so not the
/// registry's) so two downloads never pick the same one.
async fn choose_path(
    shared: &Arc<Shared>,
    record: &DownloadRecord,
    probe: &Probe,
) -> Result<PathBuf, Failure> {
    let name = match &record.request.file_name {
        Some(name) => name.clone(),
        None => naming::sanitize(
            &probe
                .offered_name
                .clone()
                .or_else(|| naming::url_name(&probe.url))
                .unwrap_or_default(),
        ),
    };
    let (shared, gid, dir, policy) = (
        shared.clone(),
        record.gid,
        record.request.dir.clone(),
        record.request.overwrite,
    );
    blocking(move || {
        let dir = naming::resolve_dir(&shared.root, dir.as_deref())
            .map_err(|e| Failure::new(FailureCode::Io, e.to_string()))?;
        let _naming = shared.naming.lock().unwrap_or_else(|e| e.into_inner());
        let reserved = shared.registry().reserved_paths(gid);
        let path = naming::choose_path(&dir, &name, policy, &reserved)?;
        if let Some(entry) = shared.registry().get_mut(gid) {
            entry.record.path = Some(path.clone());
        }
        Ok(path)
    })
    .await
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn open_part(part: &Path, fresh: bool) -> Result<File, Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(fresh)
        .mode(0o644)
        // A planted symlink must not redirect our writes.
        .custom_flags(libc::O_NOFOLLOW)
        .open(part)
        .map_err(|e| Failure::io(&format!("open {}", part.display()), &e))
}

/// Reserves the blocks up front: less fragmentation. When the space is not
/// there (yet), the file stays sparse and the download goes as far as it
/// can: it fails with `disk-full` when a write finds the disk full, keeping
/// what it wrote, and a resume after space is freed finishes it.
fn preallocate(file: &File, len: u64) -> Result<(), Failure> {
    use std::os::unix::io::AsRawFd;
    let Ok(len) = libc::off_t::try_from(len) else {
        return Err(Failure::new(
            FailureCode::Io,
            format!("{len} bytes is too large a file"),
        ));
    };
    // SAFETY: fallocate on a descriptor we own, with a checked length.
    if unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len) } == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        // Filesystems without fallocate get a sparse file instead.
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => file.set_len(len as u64),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => {
            tracing::warn!("no room to reserve {len} bytes; downloading into a sparse file");
            file.set_len(len as u64)
        }
        _ => Err(err),
    }
    .map_err(|e| Failure::io("preallocate", &e))
}

impl Job {
    async fn run(
        mut self,
        shared: &Arc<Shared>,
        cancel: &CancellationToken,
        retarget: &Notify,
    ) -> JobEnd {
        let mut workers = JoinSet::new();
        // The probe's body (from offset 0) serves the range starting there,
        // if any. Claimed here, before any worker runs: spawned tasks start
        // in no set order (tokio runs the last spawned first), and another
        // worker would take that range, the probe's bytes thrown away.
        let mut first = self.first.take().map(|(body, permit)| {
            let meter = Arc::new(Meter::default());
            let claimed = self
                .transfer
                .table
                .claim_at(0, &meter)
                .map(|s| (s, Some(body)));
            (claimed, meter, permit)
        });
        // Connections spread over the sources in use, the reference first.
        let usable: Vec<usize> = (0..self.transfer.sources.len())
            .filter(|&i| self.routes[i].is_some())
            .collect();
        for n in 0..self.workers {
            let (transfer, shared, routes) =
                (self.transfer.clone(), shared.clone(), self.routes.clone());
            let first = first.take();
            let source = usable[n % usable.len()];
            let worker = self.transfer.park.worker();
            workers.spawn(async move {
                let _worker = worker;
                let (claimed, meter, permit) = match first {
                    Some(first) => first,
                    None => {
                        let host = &transfer.sources[source].host;
                        (None, Arc::default(), shared.hosts.acquire(host).await)
                    }
                };
                connection(&shared, transfer, routes, source, claimed, meter, permit).await
            });
        }
        drop(first);
        let started = Instant::now();
        let mut source_meters: Vec<SpeedMeter> = self
            .transfer
            .sources
            .iter()
            .map(|_| SpeedMeter::default())
            .collect();
        // Which sources are in use, from the start.
        self.report(
            shared,
            &mut SpeedMeter::default(),
            &mut source_meters,
            Duration::ZERO,
        );

        let config = &shared.config;
        let mut ticker = tokio::time::interval(config.progress_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut meter = SpeedMeter::default();
        let mut last_checkpoint = Instant::now();
        let stopped_by = loop {
            tokio::select! {
                _ = cancel.cancelled() => break Stopped::Cancelled,
                _ = retarget.notified() => break Stopped::Retarget,
                joined = workers.join_next() => match joined {
                    None => break Stopped::Finished,
                    // A losing racer may still wait for bytes nobody needs.
                    Some(Ok(Ok(()))) if self.transfer.table.is_done() => break Stopped::Finished,
                    Some(Ok(Ok(()))) => {}
                    Some(Ok(Err(ConnectionEnd::Failed(failure)))) => break Stopped::Failed(failure),
                    // `connection` moves to another source, or fails.
                    Some(Ok(Err(ConnectionEnd::SourceLost(_)))) => {}
                    Some(Ok(Err(ConnectionEnd::Changed(reason, why)))) => {
                        // Nothing to checkpoint: these bytes are thrown away.
                        workers.abort_all();
                        while workers.join_next().await.is_some() {}
                        return JobEnd::Changed(reason, why);
                    }
                    Some(Err(e)) => {
                        tracing::error!(gid = %self.gid, "a connection task failed: {e}");
                        let code = if e.is_panic() { FailureCode::Internal } else { FailureCode::Io };
                        break Stopped::Failed(Failure::new(code, "a connection failed unexpectedly (the daemon's log has the details)"));
                    }
                },
                _ = ticker.tick() => {
                    self.report(shared, &mut meter, &mut source_meters, started.elapsed());
                    if last_checkpoint.elapsed() >= config.checkpoint_interval {
                        if let Err(failure) = self.checkpoint(shared).await {
                            break Stopped::Failed(failure);
                        }
                        last_checkpoint = Instant::now();
                    }
                }
            }
        };
        // No write may land after the last checkpoint's snapshot is taken.
        workers.abort_all();
        while workers.join_next().await.is_some() {}
        let retarget = matches!(stopped_by, Stopped::Retarget);
        let failure = match stopped_by {
            Stopped::Finished => return JobEnd::Done(self.finalize(shared).await),
            Stopped::Failed(failure) => Some(failure),
            Stopped::Cancelled | Stopped::Retarget => None,
        };
        let checkpoint = self.checkpoint(shared).await;
        JobEnd::Done(match (failure, checkpoint) {
            (Some(failure), _) | (None, Err(failure)) => Outcome::Failed(failure),
            (None, Ok(())) if retarget => return JobEnd::Retarget,
            (None, Ok(())) => Outcome::Stopped,
        })
    }

    fn report(
        &self,
        shared: &Shared,
        meter: &mut SpeedMeter,
        source_meters: &mut [SpeedMeter],
        running_for: Duration,
    ) {
        let completed = self.transfer.table.completed();
        let now = Instant::now();
        let speed = meter.update(now, self.transfer.received());
        let connections = self.transfer.connections();
        let sources = &self.transfer.sources;
        let speeds: Vec<u64> = sources
            .iter()
            .zip(source_meters.iter_mut())
            .map(|(source, meter)| meter.update(now, source.received.load(Ordering::Relaxed)))
            .collect();
        if running_for >= JUDGED_AFTER {
            self.drop_slow_sources(&speeds);
        }
        let mut reports: Vec<(usize, SourceStatus)> = sources
            .iter()
            .zip(&speeds)
            .zip(&self.given)
            .map(|((source, &speed), &given)| {
                let reason = source.reason();
                let report = SourceStatus {
                    url: source.shown.clone(),
                    state: match reason {
                        Some(_) => SourceState::Dropped,
                        None => SourceState::Active,
                    },
                    download_speed: if reason.is_some() { 0 } else { speed },
                    connections: source.connections.load(Ordering::Relaxed),
                    reason,
                };
                (given, report)
            })
            .collect();
        reports.sort_by_key(|(given, _)| *given);
        let mut registry = shared.registry();
        let Some(entry) = registry.get_mut(self.gid) else {
            return;
        };
        entry.record.completed_length = completed;
        if let Some(running) = entry.running.as_mut() {
            running.speed = speed;
            running.connections = connections;
            running.sources = reports.into_iter().map(|(_, r)| r).collect();
        }
        shared.cluster_progress(self.gid, completed, self.total, speed, connections);
        // Under the lock, like every event of a download: in order with its
        // state changes.
        shared.events.publish(EngineEvent::Progress {
            gid: self.gid,
            completed_length: completed,
            total_length: self.total,
            download_speed: speed,
            eta: status::eta(self.total, completed, speed),
            connections,
        });
    }

    /// Drops the sources in use that lag far behind the fastest, per
    /// connection; never the last one.
    fn drop_slow_sources(&self, speeds: &[u64]) {
        let sources = &self.transfer.sources;
        let per_connection = |i: usize| {
            let connections = sources[i].connections.load(Ordering::Relaxed);
            (connections > 0 && !sources[i].is_dropped())
                .then(|| speeds[i] / u64::from(connections))
        };
        let Some(best) = (0..sources.len()).filter_map(per_connection).max() else {
            return;
        };
        for i in 0..sources.len() {
            if let Some(speed) = per_connection(i) {
                if speed.saturating_mul(SLOWER_BY) < best {
                    let why = format!(
                        "dropped as slow: {speed} B/s per connection, where another gives {best} B/s"
                    );
                    self.transfer.drop_source(i, why);
                }
            }
        }
    }

    /// Syncs the data, then records the progress it covers: the store never
    /// claims a byte that is not on disk.
    async fn checkpoint(&self, shared: &Shared) -> Result<(), Failure> {
        let segments = self.transfer.table.snapshot();
        let completed = self.transfer.table.completed();
        let file = self.transfer.file.clone();
        blocking(move || file.sync_data().map_err(|e| Failure::io("sync", &e))).await?;
        self.record_progress(shared, segments, completed);
        Ok(())
    }

    /// Records progress whose bytes are already synced.
    fn record_progress(&self, shared: &Shared, segments: Vec<SavedSegment>, completed: u64) {
        let server_cookies: Vec<_> = self
            .routes
            .iter()
            .flatten()
            .flat_map(Route::server_cookies)
            .collect();
        let saved = shared.update(self.gid, |r| {
            r.segments = segments;
            r.completed_length = completed;
            if !server_cookies.is_empty() {
                r.server_cookies = server_cookies;
            }
            None
        });
        if let Err(e) = saved {
            tracing::error!(gid = %self.gid, "cannot record a checkpoint: {e}");
        }
    }

    /// Every byte is in: sync, verify, and give the file its final name.
    async fn finalize(self, shared: &Arc<Shared>) -> Outcome {
        let table = &self.transfer.table;
        if !table.is_done() {
            return Outcome::Failed(Failure::new(
                FailureCode::InvalidResponse,
                "the transfer ended early",
            ));
        }
        let total = table.completed();
        let file = self.transfer.file.clone();
        let synced = blocking(move || {
            // A lone stream may have been preallocated to a length a server
            // lied about before a retry learned the true one.
            file.set_len(total)
                .map_err(|e| Failure::io("truncate", &e))?;
            file.sync_data().map_err(|e| Failure::io("sync", &e))
        })
        .await;
        if let Err(failure) = synced {
            return Outcome::Failed(failure);
        }
        self.record_progress(shared, Vec::new(), total);
        let record = shared.record(self.gid);
        if let Some(expected) = record.as_ref().and_then(|r| r.request.checksum.clone()) {
            let (file, text) = (self.transfer.file.clone(), expected.to_string());
            let matches = blocking(move || {
                expected
                    .matches(&file)
                    .map_err(|e| Failure::io("verify", &e))
            })
            .await;
            match matches {
                Ok(true) => {}
                Ok(false) => {
                    // The bytes stay in the .part for inspection, but are not
                    // trusted: a resume downloads them again.
                    let everything = SavedSegment {
                        start: 0,
                        pos: 0,
                        end: total,
                    };
                    self.record_progress(shared, vec![everything], total);
                    let message = format!("the downloaded file does not match {text}");
                    return Outcome::Failed(Failure::new(FailureCode::ChecksumMismatch, message));
                }
                Err(failure) => return Outcome::Failed(failure),
            }
        }
        let overwrite = record.map_or(Overwrite::Rename, |r| r.request.overwrite);
        match self.rename_into_place(shared, overwrite).await {
            Ok(path) => Outcome::Complete { path, total },
            Err(failure) => Outcome::Failed(failure),
        }
    }

    /// Renames the `.part` to the final name without ever replacing a file
    /// (unless the policy is `overwrite`): someone may have taken the name
    /// while we downloaded, or take it while we rename.
    async fn rename_into_place(
        &self,
        shared: &Arc<Shared>,
        overwrite: Overwrite,
    ) -> Result<PathBuf, Failure> {
        let (shared, gid, path) = (shared.clone(), self.gid, self.path.clone());
        blocking(move || {
            let part = naming::part_path(&path);
            let dir = path.parent().unwrap_or(&shared.root).to_owned();
            let name = file_name(&path).unwrap_or_default();
            let _naming = shared.naming.lock().unwrap_or_else(|e| e.into_inner());
            let mut target = path.clone();
            let mut tried = HashSet::new();
            loop {
                let placed = match overwrite {
                    Overwrite::Overwrite => std::fs::rename(&part, &target),
                    _ => naming::rename_noreplace(&part, &target),
                };
                match placed {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        if overwrite == Overwrite::Fail {
                            return Err(Failure::new(
                                FailureCode::DestinationExists,
                                format!("{} already exists", target.display()),
                            ));
                        }
                        tried.insert(target.clone());
                        let mut reserved = shared.registry().reserved_paths(gid);
                        reserved.extend(tried.iter().cloned());
                        target = naming::choose_path(&dir, &name, overwrite, &reserved)?;
                    }
                    Err(e) => {
                        return Err(Failure::io(&format!("rename to {}", target.display()), &e))
                    }
                }
            }
            // The rename itself must survive a crash too.
            File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Failure::io("sync directory", &e))?;
            Ok(target)
        })
        .await
    }
}

/// One connection of a download: ranges from `source` until none is left,
/// moving to another source (and its host's slot) when that one is
/// dropped, with the range it held.
async fn connection(
    shared: &Shared,
    transfer: Arc<Transfer>,
    routes: Arc<Vec<Option<Route>>>,
    mut source: usize,
    mut claimed: Option<(Arc<super::segments::Segment>, Option<Body>)>,
    meter: Arc<Meter>,
    mut permit: OwnedSemaphorePermit,
) -> Result<(), ConnectionEnd> {
    loop {
        let Some(route) = &routes[source] else {
            return Err(ConnectionEnd::Failed(Failure::new(
                FailureCode::Internal,
                "a connection was given a source without a route",
            )));
        };
        let client = route
            .client()
            .map_err(|e| ConnectionEnd::Failed(cannot_connect(e)))?;
        let run = transfer
            .clone()
            .run_connection(claimed.take(), meter.clone(), source, client);
        match run.await {
            Err(ConnectionEnd::SourceLost(segment)) => {
                let Some(next) = transfer.least_busy_source() else {
                    let why = transfer.sources[source].reason().unwrap_or_default();
                    return Err(ConnectionEnd::Failed(Failure::new(
                        FailureCode::Network,
                        why,
                    )));
                };
                claimed = segment.map(|segment| (segment, None));
                if transfer.sources[next].host != transfer.sources[source].host {
                    drop(permit);
                    permit = shared.hosts.acquire(&transfer.sources[next].host).await;
                }
                source = next;
            }
            end => return end,
        }
    }
}

/// Runs file work that may block (fsync, hashing) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(Failure::new(
            FailureCode::Io,
            format!("file task failed: {e}"),
        ))
    })
}

/// Speed over the last few seconds, so one slow tick does not swing it.
#[derive(Debug, Default)]
struct SpeedMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl SpeedMeter {
    const WINDOW: Duration = Duration::from_secs(3);

    fn update(&mut self, now: Instant, received: u64) -> u64 {
        if self.samples.is_empty() {
            self.samples.push_back((now, 0));
        }
        self.samples.push_back((now, received));
        while self.samples.len() > 2 && now.duration_since(self.samples[0].0) > Self::WINDOW {
            self.samples.pop_front();
        }
        let (then, before) = self.samples[0];
        let secs = now.duration_since(then).as_secs_f64();
        if secs > 0.0 {
            ((received - before) as f64 / secs) as u64
        } else {
            0
        }
    }
}
