//! A storm of concurrent commands against a real daemon whose origin
//! misbehaves (resets, stalls, 503s, 404s, files that change), then the
//! invariants: every download settles in the state its last command asked
//! for, never more active downloads than allowed, no slot or permit leaks,
//! each download's events a valid path through its state machine, every
//! complete file one whole version of its remote file, and nothing left
//! behind a download removed with `deleteFiles`.
//!
//! Seeded and bounded: `HAUL_STRESS_SEED` (default fixed) and
//! `HAUL_STRESS_SECS` (default 6); `bench/stress.sh` runs it longer with
//! random seeds and prints the seed of any failure.

use crate::support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

const KIB: usize = 1024;

/// xorshift64*: the storm is a function of the seed (up to timing).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What the test asked of one download, and what it learnt.
#[derive(Debug, Clone)]
struct Tracked {
    name: String,
    /// The resource it downloads.
    path: &'static str,
    /// The last command that succeeded: add, add-paused, pause, resume,
    /// remove, remove-delete; or finished, for a pause that came too late.
    last: &'static str,
}

/// The remote files, with every version each has served.
struct Origin {
    server: TestServer,
    versions: Mutex<HashMap<&'static str, HashSet<String>>>,
    next_seed: AtomicU64,
}

const GOOD: [&str; 3] = ["/good-a", "/good-b", "/good-c"];
const FAULTY: [&str; 5] = ["/reset", "/stall", "/busy", "/gone", "/changing"];
const MUTABLE: &str = "/mutable";

impl Origin {
    async fn start() -> Origin {
        let body = |seed| random_bytes(512 * KIB, seed);
        let rate = 4 << 20;
        let server = TestServer::start([
            Resource::file(GOOD[0], body(1)).rate(rate),
            Resource::file(GOOD[1], body(2)).rate(rate),
            Resource::file(GOOD[2], random_bytes(2 << 20, 3)).rate(rate),
            Resource::file(FAULTY[0], body(4))
                .reset_after(100 * KIB, 40)
                .rate(rate),
            Resource::file(FAULTY[1], body(5))
                .stall_after(64 * KIB, 6)
                .rate(rate),
            Resource::file(FAULTY[2], body(6))
                .fail_first(503, 40)
                .rate(rate),
            Resource::file(FAULTY[4], body(7))
                .etag_per_request()
                .rate(rate),
            Resource::file(MUTABLE, body(8)).rate(1 << 20),
        ])
        .await;
        let mut versions: HashMap<&'static str, HashSet<String>> = HashMap::new();
        for (path, data) in [
            (GOOD[0], body(1)),
            (GOOD[1], body(2)),
            (GOOD[2], random_bytes(2 << 20, 3)),
            (FAULTY[0], body(4)),
            (FAULTY[1], body(5)),
            (FAULTY[2], body(6)),
            (FAULTY[4], body(7)),
            (MUTABLE, body(8)),
        ] {
            versions.entry(path).or_default().insert(sha256(&data));
        }
        Origin {
            server,
            versions: Mutex::new(versions),
            next_seed: AtomicU64::new(100),
        }
    }

    /// A new version of the mutable file (same length, new ETag).
    fn change(&self) {
        let seed = self.next_seed.fetch_add(1, Ordering::SeqCst);
        let data = random_bytes(512 * KIB, seed);
        self.versions
            .lock()
            .unwrap()
            .entry(MUTABLE)
            .or_default()
            .insert(sha256(&data));
        self.server.replace(MUTABLE, data);
    }
}

/// The storm's shared state.
struct Storm {
    daemon: Daemon,
    origin: Origin,
    /// gid → what the test did to it; one command per gid at a time (its
    /// lock), so "the last command" is well defined.
    tracked: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<Tracked>>>>,
    names: AtomicU64,
    /// The largest `maxConcurrent` ever set.
    max_concurrent: AtomicU64,
}

impl Storm {
    fn gids(&self) -> Vec<String> {
        self.tracked.lock().unwrap().keys().cloned().collect()
    }

    fn entry(&self, gid: &str) -> Option<Arc<tokio::sync::Mutex<Tracked>>> {
        self.tracked.lock().unwrap().get(gid).cloned()
    }

    /// One random command.
    async fn act(&self, rng: &mut Rng) {
        let gids = self.gids();
        let choice = if gids.is_empty() { 0 } else { rng.below(100) };
        match choice {
            0..=19 => self.add(rng).await,
            20..=39 => self.command(rng, &gids, "download.pause").await,
            40..=59 => self.command(rng, &gids, "download.resume").await,
            60..=71 => self.command(rng, &gids, "download.remove").await,
            72..=84 => {
                let gid = rng.pick(&gids).clone();
                let limit = *rng.pick(&[0u64, 0, 1 << 20, 8 << 20]);
                self.daemon
                    .call(
                        "download.setSpeedLimit",
                        json!({"gid": gid, "speedLimit": limit}),
                    )
                    .await;
            }
            85..=92 => {
                let max = 1 + rng.below(4);
                self.max_concurrent.fetch_max(max, Ordering::SeqCst);
                let speed = *rng.pick(&[0u64, 0, 16 << 20]);
                let answer = self
                    .daemon
                    .call(
                        "system.setOptions",
                        json!({"maxConcurrent": max, "speedLimit": speed}),
                    )
                    .await;
                assert!(answer.get("result").is_some(), "{answer}");
            }
            93..=96 => self.origin.change(),
            _ => {
                self.daemon
                    .call("download.list", json!({"limit": 1000}))
                    .await;
            }
        }
    }

    async fn add(&self, rng: &mut Rng) {
        let path = if rng.below(3) == 0 {
            *rng.pick(&FAULTY)
        } else if rng.below(4) == 0 {
            MUTABLE
        } else {
            *rng.pick(&GOOD)
        };
        let name = format!("f{}.bin", self.names.fetch_add(1, Ordering::SeqCst));
        let paused = rng.below(5) == 0;
        let connections = 1 + rng.below(4);
        let answer = self
            .daemon
            .call(
                "download.add",
                json!({"url": self.origin.server.url(path), "fileName": name,
                       "paused": paused, "connections": connections}),
            )
            .await;
        let gid = answer["result"]["gid"]
            .as_str()
            .unwrap_or_else(|| panic!("add failed: {answer}"))
            .to_owned();
        let tracked = Tracked {
            name,
            path,
            last: if paused { "add-paused" } else { "add" },
        };
        self.tracked
            .lock()
            .unwrap()
            .insert(gid, Arc::new(tokio::sync::Mutex::new(tracked)));
    }

    async fn command(&self, rng: &mut Rng, gids: &[String], method: &'static str) {
        let gid = rng.pick(gids).clone();
        let Some(entry) = self.entry(&gid) else {
            return;
        };
        let mut tracked = entry.lock().await;
        if tracked.last.starts_with("remove") {
            return;
        }
        let delete = rng.below(2) == 0;
        let params = match method {
            "download.remove" => json!({"gid": gid, "deleteFiles": delete}),
            _ => json!({"gid": gid}),
        };
        let answer = self.daemon.call(method, params).await;
        let Some(result) = answer.get("result") else {
            // Refusals must be the documented ones: pausing or resuming a
            // download in a state that does not allow it.
            assert_eq!(answer["error"]["code"], -32002, "{method} {gid}: {answer}");
            return;
        };
        tracked.last = match method {
            // A download may finish before a pause takes hold: the answer
            // says so, and that is where it stays.
            "download.pause" => match result["state"].as_str() {
                Some("paused") => "pause",
                Some("complete" | "error") => "finished",
                _ => panic!("a pause answers paused, or the end it came too late for: {answer}"),
            },
            "download.resume" => {
                let state = result["state"].as_str().unwrap();
                assert!(
                    ["queued", "active", "complete", "error"].contains(&state),
                    "a resume answers a running state: {answer}"
                );
                "resume"
            }
            _ if delete => "remove-delete",
            _ => "remove",
        };
    }
}

/// Checks one download's notifications against its state machine.
fn check_path(gid: &str, events: &[String]) {
    let mut state = "new";
    for kind in events {
        let next = match (state, kind.as_str()) {
            (_, "download.progress") if state == "active" => "active",
            ("new" | "paused" | "error" | "active", "download.started") => "active",
            // A resume only queues, which no notification announces: a pause
            // before the start shows as a second pause.
            ("new" | "active" | "paused" | "error", "download.paused") => "paused",
            ("active", "download.complete") => "complete",
            // A start whose first request fails never announced itself.
            ("active" | "new" | "paused" | "error", "download.error") => "error",
            (s, "download.removed") if s != "removed" => "removed",
            _ => panic!("{gid}: {kind} after {state}; all: {events:?}"),
        };
        state = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_concurrent_commands_leaves_every_download_where_its_last_command_put_it() {
    let seed: u64 = std::env::var("HAUL_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0f0a_11ed);
    let secs: u64 = std::env::var("HAUL_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    eprintln!("stress seed {seed}, {secs} s");
    let origin = Origin::start().await;
    let daemon = Daemon::start_with(&["--max-concurrent", "3"]).await;
    let storm = Arc::new(Storm {
        daemon,
        origin,
        tracked: Mutex::new(BTreeMap::new()),
        names: AtomicU64::new(0),
        max_concurrent: AtomicU64::new(3),
    });

    // Every notification, from before the first command.
    let mut ws = storm.daemon.ws().await;
    let notifications = Arc::new(Mutex::new(Vec::<Value>::new()));
    let recorder = {
        let notifications = notifications.clone();
        tokio::spawn(async move {
            while let Some(text) = ws.next_text(Duration::from_secs(3600)).await {
                let message: Value = serde_json::from_str(&text).expect("JSON");
                notifications.lock().unwrap().push(message);
            }
        })
    };
    // The active count, watched throughout.
    let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (storm, watching) = (storm.clone(), watching.clone());
        tokio::spawn(async move {
            while watching.load(Ordering::SeqCst) {
                let stats = storm.daemon.result("system.getStats", json!({})).await;
                let active = stats["active"].as_u64().unwrap();
                let allowed = storm.max_concurrent.load(Ordering::SeqCst);
                assert!(
                    active <= allowed,
                    "{active} active, at most {allowed} allowed"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let storm = storm.clone();
            tokio::spawn(async move {
                let mut rng = Rng(seed ^ (0x9e37_79b9_7f4a_7c15u64.wrapping_mul(w + 1)));
                let mut done = 0;
                // Bounded in count too, so a slow machine does not change the
                // shape of the storm.
                while tokio::time::Instant::now() < deadline && done < 70 * secs {
                    storm.act(&mut rng).await;
                    done += 1;
                    tokio::time::sleep(Duration::from_millis(rng.below(30))).await;
                }
                done
            })
        })
        .collect();
    let mut commands = 0;
    for worker in workers {
        commands += worker.await.expect("a worker panicked");
    }
    eprintln!("{commands} commands, {} downloads", storm.gids().len());

    // Settle: room for everything, then wait for nothing to be moving.
    storm.max_concurrent.fetch_max(4, Ordering::SeqCst);
    storm
        .daemon
        .result(
            "system.setOptions",
            json!({"maxConcurrent": 4, "speedLimit": 0}),
        )
        .await;
    let settle = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let stats = storm.daemon.result("system.getStats", json!({})).await;
        if stats["active"] == 0 && stats["queued"] == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < settle,
            "downloads did not settle: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    watching.store(false, Ordering::SeqCst);
    watcher
        .await
        .expect("the active count stayed within the limit");

    // Every download is where its last command put it.
    let root = storm.daemon.root().to_owned();
    let mut allowed_files = HashSet::new();
    let mut doomed_files = Vec::new();
    let versions = storm.origin.versions.lock().unwrap().clone();
    for gid in storm.gids() {
        let tracked = storm.entry(&gid).unwrap().lock().await.clone();
        let status = storm
            .daemon
            .call("download.status", json!({"gid": gid}))
            .await;
        let state = status["result"]["state"].as_str().unwrap_or("gone");
        match tracked.last {
            "remove" | "remove-delete" => {
                assert_eq!(status["error"]["code"], -32001, "{gid} removed: {status}");
            }
            "pause" | "add-paused" => assert_eq!(state, "paused", "{gid}: {status}"),
            _ => assert!(
                state == "complete" || state == "error",
                "{gid} after {}: {status}",
                tracked.last
            ),
        }
        let (file, part) = (
            root.join(&tracked.name),
            root.join(format!("{}.part", tracked.name)),
        );
        match tracked.last {
            "remove-delete" => doomed_files.extend([file.clone(), part]),
            _ => {
                allowed_files.insert(file.clone());
                allowed_files.insert(part);
            }
        }
        if state == "complete" {
            let sha = sha256_file(&file);
            assert!(
                versions[tracked.path].contains(&sha),
                "{gid}: {} is not one whole version of {}",
                file.display(),
                tracked.path
            );
        }
    }
    for file in doomed_files {
        assert!(!file.exists(), "{} outlived its removal", file.display());
    }
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            allowed_files.contains(&path),
            "a stray file: {}",
            path.display()
        );
    }

    // Each download's events are a path through its state machine, in seq order.
    tokio::time::sleep(Duration::from_millis(300)).await;
    recorder.abort();
    let notifications = notifications.lock().unwrap().clone();
    let mut last_seq = 0;
    let mut by_gid: HashMap<String, Vec<String>> = HashMap::new();
    for n in &notifications {
        let seq = n["params"]["seq"].as_u64().unwrap();
        assert!(seq > last_seq, "seq went from {last_seq} to {seq}");
        last_seq = seq;
        let gid = n["params"]["gid"].as_str().unwrap().to_owned();
        by_gid
            .entry(gid)
            .or_default()
            .push(n["method"].as_str().unwrap().to_owned());
    }
    for (gid, events) in &by_gid {
        check_path(gid, events);
    }

    // No slot or permit leaked: fresh downloads still run to the end.
    let mut fresh = Vec::new();
    for path in GOOD {
        fresh.push(
            storm
                .daemon
                .add(json!({"url": storm.origin.server.url(path)}))
                .await,
        );
    }
    for gid in fresh {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let status = storm
                .daemon
                .result("download.status", json!({"gid": gid}))
                .await;
            if status["state"] == "complete" {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "a fresh download after the storm did not finish: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
