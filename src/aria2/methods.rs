//! The aria2 methods over the engine (aria2's manual, RPC INTERFACE): each
//! one engine call or a few, its params positional after the `token:`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use serde_json::{json, Map, Value};

use crate::engine::{EngineError, Gid, QueueMove, SourceState, State, Status};

use super::notify::NOTIFICATIONS;
use super::options::{self, GlobalChange, ProxyKind};
use super::results::Stopped;
use super::shapes;
use super::wire::{self, Call, Fault, Request};
use super::Aria2;
use crate::rpc::auth::Gate;

/// Every method, in the order `system.listMethods` gives them.
const METHODS: [&str; 36] = [
    "aria2.addUri",
    "aria2.addTorrent",
    "aria2.getPeers",
    "aria2.addMetalink",
    "aria2.remove",
    "aria2.pause",
    "aria2.forcePause",
    "aria2.pauseAll",
    "aria2.forcePauseAll",
    "aria2.unpause",
    "aria2.unpauseAll",
    "aria2.forceRemove",
    "aria2.changePosition",
    "aria2.tellStatus",
    "aria2.getUris",
    "aria2.getFiles",
    "aria2.getServers",
    "aria2.tellActive",
    "aria2.tellWaiting",
    "aria2.tellStopped",
    "aria2.getOption",
    "aria2.changeUri",
    "aria2.changeOption",
    "aria2.getGlobalOption",
    "aria2.changeGlobalOption",
    "aria2.purgeDownloadResult",
    "aria2.removeDownloadResult",
    "aria2.getVersion",
    "aria2.getSessionInfo",
    "aria2.shutdown",
    "aria2.forceShutdown",
    "aria2.getGlobalStat",
    "aria2.saveSession",
    "system.multicall",
    "system.listMethods",
    "system.listNotifications",
];

/// The aria2 release whose API this door speaks: what `getVersion` says,
/// since clients decide what to offer by it.
const ARIA2_VERSION: &str = "1.37.0";

/// A call's positional params, after the token.
struct Params(Vec<Value>);

impl Params {
    fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i)
    }

    fn required(&self, i: usize) -> Result<&Value, Fault> {
        self.get(i)
            .ok_or_else(|| Fault::new(format!("The parameter at {i} is required but missing.")))
    }

    fn string(&self, i: usize) -> Result<&str, Fault> {
        self.required(i)?.as_str().ok_or_else(|| wrong_type(i))
    }

    fn int(&self, i: usize) -> Result<i64, Fault> {
        self.required(i)?.as_i64().ok_or_else(|| wrong_type(i))
    }

    fn array(&self, i: usize) -> Result<&Vec<Value>, Fault> {
        self.required(i)?.as_array().ok_or_else(|| wrong_type(i))
    }

    fn object_or_empty(&self, i: usize) -> Result<Map<String, Value>, Fault> {
        match self.get(i) {
            None => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(_) => Err(wrong_type(i)),
        }
    }

    fn keys(&self, i: usize) -> Result<Option<Vec<String>>, Fault> {
        let Some(value) = self.get(i) else {
            return Ok(None);
        };
        let keys = value.as_array().ok_or_else(|| wrong_type(i))?;
        let keys = keys
            .iter()
            .map(|k| k.as_str().map(str::to_owned).ok_or_else(|| wrong_type(i)))
            .collect::<Result<Vec<_>, _>>()?;
        // aria2 answers every key for an empty list.
        Ok(Some(keys).filter(|k| !k.is_empty()))
    }
}

fn wrong_type(i: usize) -> Fault {
    Fault::new(format!("The parameter at {i} has wrong type."))
}

fn ok() -> Result<Value, Fault> {
    Ok("OK".into())
}

/// What a gid names: a download of the engine's, or a removed one's result.
enum Found {
    Live(Status),
    Removed(Status),
}

impl Found {
    fn status(&self) -> &Status {
        match self {
            Found::Live(s) | Found::Removed(s) => s,
        }
    }
}

/// A refusal by the engine, in aria2's words where aria2 has them and
/// haul's message otherwise.
fn engine_fault(e: EngineError) -> Fault {
    match e {
        EngineError::NotFound { gid } => not_found(&gid.to_string()),
        e => Fault::new(e.to_string()),
    }
}

fn not_found(gid: &str) -> Fault {
    Fault::new(format!("GID {gid} is not found"))
}

impl Aria2 {
    /// The answer to an HTTP body or a WebSocket message, with the HTTP
    /// status aria2 would send it with.
    pub(crate) async fn answer(
        self: &Arc<Self>,
        body: &[u8],
        remote: IpAddr,
    ) -> (StatusCode, Value) {
        match wire::parse(body) {
            Err(fault) => (fault.status(), wire::answer(Value::Null, Err(fault))),
            Ok(Request::One(call)) => self.one(call, remote).await,
            Ok(Request::Batch(calls)) => {
                let mut answers = Vec::with_capacity(calls.len());
                for call in calls {
                    answers.push(self.one(call, remote).await.1);
                }
                (StatusCode::OK, Value::Array(answers))
            }
        }
    }

    async fn one(
        self: &Arc<Self>,
        call: Result<Call, (Value, Fault)>,
        remote: IpAddr,
    ) -> (StatusCode, Value) {
        let (id, outcome) = match call {
            Err((id, fault)) => (id, Err(fault)),
            Ok(Call { id, method, params }) => {
                (id, self.call(&method, params, remote, false).await)
            }
        };
        let status = match &outcome {
            Ok(_) => StatusCode::OK,
            Err(fault) => fault.status(),
        };
        (status, wire::answer(id, outcome))
    }

    /// One method call; `nested` inside a `system.multicall`.
    async fn call(
        self: &Arc<Self>,
        method: &str,
        mut params: Vec<Value>,
        remote: IpAddr,
        nested: bool,
    ) -> Result<Value, Fault> {
        if method.starts_with("aria2.") {
            let token = params
                .first()
                .and_then(Value::as_str)
                .and_then(|p| p.strip_prefix("token:"));
            // As on the main port: a failure locks its address out, and a
            // call meanwhile is refused without its token being looked at.
            if let Gate::Locked(_) = self.backoff.gate(remote) {
                return Err(Fault::unauthorized());
            }
            match token {
                Some(token) if self.secret.matches(token.as_bytes()) => {
                    self.backoff.succeeded(remote);
                    params.remove(0);
                }
                _ => {
                    let locked = self.backoff.failed(remote);
                    tracing::info!(%remote, ?locked, method, "refused an aria2 call without the right token");
                    return Err(Fault::unauthorized());
                }
            }
        }
        let p = Params(params);
        match method {
            "aria2.addUri" => self.add_uri(&p).await,
            "aria2.addTorrent" | "aria2.getPeers" => Err(Fault::new(
                "BitTorrent is not supported by haul: add the download's HTTP(S) URI with aria2.addUri",
            )),
            "aria2.addMetalink" => Err(Fault::new(
                "Metalink is not supported by haul: add the download's HTTP(S) URI with aria2.addUri",
            )),
            "aria2.remove" | "aria2.forceRemove" => self.remove(&p).await,
            "aria2.pause" | "aria2.forcePause" => self.pause(&p).await,
            "aria2.pauseAll" | "aria2.forcePauseAll" => self.pause_all().await,
            "aria2.unpause" => self.unpause(&p).await,
            "aria2.unpauseAll" => self.unpause_all().await,
            "aria2.changePosition" => self.change_position(&p).await,
            "aria2.tellStatus" => {
                let found = self.find(p.string(0)?)?;
                let removed = matches!(found, Found::Removed(_));
                Ok(self.shape(found.status(), removed, p.keys(1)?.as_deref()))
            }
            "aria2.getUris" => Ok(shapes::uris(self.find(p.string(0)?)?.status())),
            "aria2.getFiles" => Ok(shapes::files(
                self.find(p.string(0)?)?.status(),
                self.engine.download_root(),
            )),
            "aria2.getServers" => self.servers(&p),
            "aria2.tellActive" => {
                let keys = p.keys(0)?;
                let page = self.engine.list(&[State::Active], 0, usize::MAX, None);
                Ok(self.shapes(page.downloads.iter(), false, keys.as_deref()))
            }
            "aria2.tellWaiting" => self.tell_waiting(&p),
            "aria2.tellStopped" => self.tell_stopped(&p),
            "aria2.getOption" => {
                let (status, request) = match self.find(p.string(0)?)? {
                    Found::Live(status) => {
                        let request = self.engine.request(status.gid).map_err(engine_fault)?;
                        (status, request)
                    }
                    // What it was added with, as aria2 answers for a result.
                    Found::Removed(status) => {
                        let results = self.results();
                        let removed = results.get_removed(status.gid);
                        let request = removed.map(|r| r.request.clone());
                        (status.clone(), request.ok_or_else(|| not_found(p.string(0).unwrap_or_default()))?)
                    }
                };
                Ok(options::download_options(&request, &status, self.engine.download_root()))
            }
            "aria2.changeUri" => self.change_uri(&p).await,
            "aria2.changeOption" => self.change_option(&p).await,
            "aria2.getGlobalOption" => Ok(options::global_options(
                &self.engine.options(),
                self.engine.download_root(),
                self.default_dir().as_deref(),
            )),
            "aria2.changeGlobalOption" => self.change_global_option(&p),
            "aria2.purgeDownloadResult" => self.purge().await,
            "aria2.removeDownloadResult" => self.remove_result(&p).await,
            "aria2.getVersion" => Ok(json!({
                "enabledFeatures": ["Async DNS", "HTTPS", "Message Digest"],
                "version": ARIA2_VERSION,
            })),
            "aria2.getSessionInfo" => Ok(json!({ "sessionId": self.session_id })),
            "aria2.shutdown" | "aria2.forceShutdown" => {
                // After the answer has had time to leave.
                let shutdown = self.shutdown.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    tracing::info!("aria2.shutdown called: stopping");
                    shutdown.cancel();
                });
                ok()
            }
            "aria2.getGlobalStat" => Ok(self.global_stat()),
            // Every change is committed before it is answered: a session
            // is always saved.
            "aria2.saveSession" => ok(),
            "system.multicall" if nested => Err(Fault::new("Recursive system.multicall forbidden.")),
            "system.multicall" => self.multicall(&p, remote).await,
            "system.listMethods" => Ok(json!(&METHODS[..])),
            "system.listNotifications" => Ok(json!(&NOTIFICATIONS[..])),
            other => Err(Fault::new(format!("No such method: {other}"))),
        }
    }

    /// The download a gid, or a unique prefix of one, names.
    fn find(&self, text: &str) -> Result<Found, Fault> {
        let well_formed = !text.is_empty()
            && text.len() <= 16
            && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !well_formed {
            return Err(Fault::new(format!("Bad GID {text}")));
        }
        let mut live = self.engine.gids_starting_with(text, 2);
        let results = self.results();
        let mut removed: Vec<Gid> = results.removed_starting_with(text).take(2).collect();
        match (live.len(), removed.len()) {
            (1, 0) => {
                drop(results);
                let gid = live.remove(0);
                self.engine
                    .status(gid)
                    .map(Found::Live)
                    .map_err(engine_fault)
            }
            (0, 1) => {
                let gid = removed.remove(0);
                Ok(Found::Removed(
                    results
                        .get_removed(gid)
                        .map(|r| r.status.clone())
                        .ok_or_else(|| not_found(text))?,
                ))
            }
            (0, 0) => Err(not_found(text)),
            _ => Err(Fault::new(format!("GID {text} is not unique"))),
        }
    }

    fn live(&self, text: &str) -> Result<Status, Fault> {
        match self.find(text)? {
            Found::Live(status) => Ok(status),
            Found::Removed(status) => Err(not_found(&status.gid.to_string())),
        }
    }

    fn shape(&self, status: &Status, removed: bool, keys: Option<&[String]>) -> Value {
        shapes::download(status, removed, self.engine.download_root(), keys)
    }

    fn shapes<'a>(
        &self,
        statuses: impl Iterator<Item = &'a Status>,
        removed: bool,
        keys: Option<&[String]>,
    ) -> Value {
        Value::Array(statuses.map(|s| self.shape(s, removed, keys)).collect())
    }

    async fn add_uri(&self, p: &Params) -> Result<Value, Fault> {
        let uris = p.array(0)?;
        let uris: Vec<&str> = uris
            .iter()
            .map(|u| u.as_str().ok_or_else(|| wrong_type(0)))
            .collect::<Result<_, _>>()?;
        let Some(uri) = uris.first() else {
            return Err(Fault::new("URI is not provided."));
        };
        let options = p.object_or_empty(1)?;
        let position = match p.get(2) {
            None => None,
            Some(v) => Some(
                v.as_i64()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| wrong_type(2))?,
            ),
        };
        let mut request = options::add_request(
            uri,
            &options,
            self.engine.download_root(),
            self.default_dir(),
        )?;
        // The others are mirrors of the same file, as in aria2.
        request.mirrors = uris[1..].iter().map(|u| (*u).to_owned()).collect();
        let gid = self.engine.add(request).await.map_err(engine_fault)?;
        if let Some(position) = position {
            let position = usize::try_from(position).unwrap_or(usize::MAX);
            self.engine
                .move_in_queue(gid, QueueMove::To(position))
                .await
                .map_err(engine_fault)?;
        }
        Ok(gid.to_string().into())
    }

    async fn remove(&self, p: &Params) -> Result<Value, Fault> {
        let status = self.live(p.string(0)?)?;
        let gid = status.gid;
        if status.state.is_finished() {
            return Err(Fault::new(format!(
                "Active Download not found for GID#{gid}"
            )));
        }
        let request = self.engine.request(gid).map_err(engine_fault)?;
        self.engine.remove(gid, false).await.map_err(engine_fault)?;
        let mut last = status;
        last.download_speed = 0;
        last.connections = 0;
        self.results().removed(last, request);
        Ok(gid.to_string().into())
    }

    async fn pause(&self, p: &Params) -> Result<Value, Fault> {
        let status = self.live(p.string(0)?)?;
        let gid = status.gid;
        let refused = || Fault::new(format!("GID#{gid} cannot be paused now"));
        if !matches!(status.state, State::Queued | State::Active) {
            return Err(refused());
        }
        match self.engine.pause(gid).await {
            Ok(_) => Ok(gid.to_string().into()),
            Err(EngineError::InvalidState { .. }) => Err(refused()),
            Err(e) => Err(engine_fault(e)),
        }
    }

    async fn unpause(&self, p: &Params) -> Result<Value, Fault> {
        let status = self.live(p.string(0)?)?;
        let gid = status.gid;
        let refused = || Fault::new(format!("GID#{gid} cannot be unpaused now"));
        if status.state != State::Paused {
            return Err(refused());
        }
        match self.engine.resume(gid).await {
            Ok(_) => Ok(gid.to_string().into()),
            Err(EngineError::InvalidState { .. }) => Err(refused()),
            Err(e) => Err(engine_fault(e)),
        }
    }

    /// Every download in `states`, by gid.
    fn gids_in(&self, states: &[State]) -> Vec<Gid> {
        let page = self.engine.list(states, 0, usize::MAX, None);
        page.downloads.into_iter().map(|s| s.gid).collect()
    }

    async fn pause_all(&self) -> Result<Value, Fault> {
        let pauses = self
            .gids_in(&[State::Active, State::Queued])
            .into_iter()
            .map(|gid| self.engine.pause(gid));
        // A download that finished or went meanwhile is not an error here.
        for result in futures::future::join_all(pauses).await {
            if let Err(e @ EngineError::StoreUnavailable { .. }) = result {
                return Err(engine_fault(e));
            }
        }
        ok()
    }

    async fn unpause_all(&self) -> Result<Value, Fault> {
        let resumes = self
            .gids_in(&[State::Paused])
            .into_iter()
            .map(|gid| self.engine.resume(gid));
        for result in futures::future::join_all(resumes).await {
            if let Err(e @ EngineError::StoreUnavailable { .. }) = result {
                return Err(engine_fault(e));
            }
        }
        ok()
    }

    async fn change_position(&self, p: &Params) -> Result<Value, Fault> {
        let status = self.live(p.string(0)?)?;
        let (pos, how) = (p.int(1)?, p.string(2)?);
        let movement = match how {
            "POS_SET" => QueueMove::To(usize::try_from(pos).unwrap_or(0)),
            "POS_CUR" => QueueMove::By(pos),
            "POS_END" => QueueMove::FromEnd(usize::try_from(pos.saturating_neg()).unwrap_or(0)),
            _ => return Err(Fault::new("Illegal argument.")),
        };
        let gid = status.gid;
        match self.engine.move_in_queue(gid, movement).await {
            Ok(position) => Ok(json!(position)),
            Err(EngineError::InvalidState { .. }) => Err(Fault::new(format!(
                "GID#{gid} not found in the waiting queue."
            ))),
            Err(e) => Err(engine_fault(e)),
        }
    }

    fn servers(&self, p: &Params) -> Result<Value, Fault> {
        let status = self.live(p.string(0)?)?;
        if status.state != State::Active {
            return Err(Fault::new(format!(
                "No active download for GID#{}",
                status.gid
            )));
        }
        let servers: Vec<Value> = status
            .sources
            .iter()
            // Before the transfer begins, every source is still to be asked.
            .filter(|s| s.state != SourceState::Dropped)
            .map(|s| {
                json!({
                    "uri": s.url,
                    "currentUri": s.url,
                    "downloadSpeed": s.download_speed.to_string(),
                })
            })
            .collect();
        Ok(json!([{ "index": "1", "servers": servers }]))
    }

    fn tell_waiting(&self, p: &Params) -> Result<Value, Fault> {
        let (offset, num, keys) = (p.int(0)?, p.int(1)?, p.keys(2)?);
        let total = self.engine.waiting(0, 0).total;
        let Some((start, len, reversed)) = window(total, offset, num) else {
            return Ok(json!([]));
        };
        let mut page = self.engine.waiting(start, len).downloads;
        if reversed {
            page.reverse();
        }
        Ok(self.shapes(page.iter(), false, keys.as_deref()))
    }

    /// Complete, failed and removed downloads, in the order they stopped.
    fn tell_stopped(&self, p: &Params) -> Result<Value, Fault> {
        let (offset, num, keys) = (p.int(0)?, p.int(1)?, p.keys(2)?);
        let mut results = self.results();
        results.sync(&self.engine);
        let Some((start, len, reversed)) = window(results.len(), offset, num) else {
            return Ok(json!([]));
        };
        let mut shaped: Vec<Value> = results
            .slice(start, len)
            .filter_map(|entry| match entry {
                Stopped::Live(gid) => {
                    let status = self.engine.status(*gid).ok()?;
                    Some(self.shape(&status, false, keys.as_deref()))
                }
                Stopped::Removed(removed) => {
                    Some(self.shape(&removed.status, true, keys.as_deref()))
                }
            })
            .collect();
        if reversed {
            shaped.reverse();
        }
        Ok(Value::Array(shaped))
    }

    async fn change_uri(&self, p: &Params) -> Result<Value, Fault> {
        let status = self.live(p.string(0)?)?;
        if p.int(1)? != 1 {
            return Err(Fault::new("fileIndex is out of range"));
        }
        let strings = |i| -> Result<Vec<String>, Fault> {
            p.array(i)?
                .iter()
                .map(|u| u.as_str().map(str::to_owned).ok_or_else(|| wrong_type(i)))
                .collect()
        };
        let (deleted, added) = (strings(2)?, strings(3)?);
        let deleted = deleted.iter().filter(|u| **u == status.url).count().min(1);
        let Some(new) = added.first() else {
            if deleted > 0 {
                return Err(Fault::new(
                    "haul keeps one URI per download: give its replacement in addUris",
                ));
            }
            return Ok(json!([0, 0]));
        };
        self.engine
            .set_url(status.gid, new.clone(), false)
            .await
            .map_err(engine_fault)?;
        Ok(json!([deleted, 1]))
    }

    async fn change_option(&self, p: &Params) -> Result<Value, Fault> {
        let status = self.live(p.string(0)?)?;
        let changes = p.object_or_empty(1)?;
        if let Some(limit) = changes.get("max-download-limit") {
            let limit = options::size("max-download-limit", limit)?;
            self.engine
                .set_speed_limit(status.gid, limit)
                .await
                .map_err(engine_fault)?;
        }
        for name in changes.keys().filter(|n| *n != "max-download-limit") {
            tracing::debug!(option = %name, "aria2.changeOption: option ignored");
        }
        ok()
    }

    fn change_global_option(&self, p: &Params) -> Result<Value, Fault> {
        let changes = options::global_changes(&p.object_or_empty(0)?, self.engine.download_root())?;
        for change in changes {
            match change {
                GlobalChange::MaxConcurrent(n) => self.engine.set_max_concurrent(n),
                GlobalChange::SpeedLimit(limit) => self.engine.set_global_speed_limit(limit),
                GlobalChange::Dir(dir) => {
                    *self.default_dir.lock().unwrap_or_else(|e| e.into_inner()) = dir
                }
                GlobalChange::Proxy(kind, url) => {
                    self.engine.update_proxies(|proxies| match kind {
                        ProxyKind::All => proxies.all = url,
                        ProxyKind::Http => proxies.http = url,
                        ProxyKind::Https => proxies.https = url,
                    });
                }
                GlobalChange::NoProxy(list) => {
                    self.engine
                        .update_proxies(|proxies| proxies.no_proxy = list);
                }
            }
        }
        ok()
    }

    fn global_stat(&self) -> Value {
        let stats = self.engine.stats();
        let mut results = self.results();
        results.sync(&self.engine);
        let stopped = results.len() as u64;
        json!({
            "downloadSpeed": stats.download_speed.to_string(),
            "numActive": stats.active.to_string(),
            "numStopped": stopped.to_string(),
            "numStoppedTotal": (stopped + results.forgotten()).to_string(),
            "numWaiting": (stats.queued + stats.paused).to_string(),
            "uploadSpeed": "0",
        })
    }

    async fn purge(&self) -> Result<Value, Fault> {
        let gids = self.gids_in(&[State::Complete, State::Error]);
        let mut forgotten = 0;
        for gid in gids {
            match self.engine.remove(gid, false).await {
                Ok(()) => forgotten += 1,
                Err(EngineError::NotFound { .. }) => {}
                Err(e) => return Err(engine_fault(e)),
            }
        }
        let mut results = self.results();
        results.count_forgotten(forgotten);
        results.clear_removed();
        ok()
    }

    async fn remove_result(&self, p: &Params) -> Result<Value, Fault> {
        let found = self.find(p.string(0)?)?;
        let gid = found.status().gid;
        let refused = || Fault::new(format!("Could not remove download result of GID#{gid}"));
        match found {
            Found::Removed(_) => {
                self.results().forget(gid);
            }
            Found::Live(status) if status.state.is_finished() => {
                self.engine.remove(gid, false).await.map_err(engine_fault)?;
                let mut results = self.results();
                results.left(gid);
                results.count_forgotten(1);
            }
            Found::Live(_) => return Err(refused()),
        }
        ok()
    }

    async fn multicall(self: &Arc<Self>, p: &Params, remote: IpAddr) -> Result<Value, Fault> {
        let calls = p.array(0)?;
        let mut answers = Vec::with_capacity(calls.len());
        for call in calls {
            let Some(call) = call.as_object() else {
                answers.push(Fault::new("system.multicall expected struct.").to_value());
                continue;
            };
            let method = call.get("methodName").and_then(Value::as_str);
            let params = match call.get("params") {
                None => Some(Vec::new()),
                Some(Value::Array(params)) => Some(params.clone()),
                Some(_) => None,
            };
            let (Some(method), Some(params)) = (method, params) else {
                answers.push(Fault::new("Missing methodName or params.").to_value());
                continue;
            };
            let outcome = Box::pin(self.call(method, params, remote, true)).await;
            answers.push(match outcome {
                Ok(result) => json!([result]),
                Err(fault) => fault.to_value(),
            });
        }
        Ok(Value::Array(answers))
    }
}

/// The slice `tellWaiting` and `tellStopped` answer, of a list of `total`:
/// `(start, len, reversed)`. A negative offset counts from the end, and
/// then the slice runs backwards from it, as in aria2.
fn window(total: usize, offset: i64, num: i64) -> Option<(usize, usize, bool)> {
    let num = usize::try_from(num).ok().filter(|n| *n > 0)?;
    let total_i = i64::try_from(total).ok()?;
    if offset >= 0 {
        let start = usize::try_from(offset).ok().filter(|s| *s < total)?;
        Some((start, num.min(total - start), false))
    } else {
        let last = total_i + offset; // the slice's first element, from the end
        let last = usize::try_from(last).ok()?;
        let start = (last + 1).saturating_sub(num);
        Some((start, last + 1 - start, true))
    }
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn negative_offsets_count_from_the_end_and_reverse() {
        assert_eq!(window(5, 0, 2), Some((0, 2, false)));
        assert_eq!(window(5, 3, 10), Some((3, 2, false)));
        assert_eq!(window(5, 5, 1), None);
        assert_eq!(window(5, -1, 1), Some((4, 1, true)));
        assert_eq!(window(5, -1, 3), Some((2, 3, true)));
        assert_eq!(window(5, -2, 10), Some((0, 4, true)));
        assert_eq!(window(5, -6, 1), None);
        assert_eq!(window(5, 0, 0), None);
        assert_eq!(window(0, -1, 1), None);
    }
}
