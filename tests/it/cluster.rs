//! Three real `haul daemon` processes as one cluster on a real PostgreSQL
//! (a private server the tests start, or `HAUL_TEST_PG`), sharing one
//! download root, against a throttled in-test origin: a killed node's
//! downloads resume elsewhere from their checkpoints, a frozen node stops
//! writing and rejoins, and a pause asked on one node of a download another
//! runs takes effect and is durable.
//!
//! The tests take turns (`TURN`): each runs three daemons, and two such
//! groups on two cores would time each other's leases out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::daemon::Daemon;
use crate::support::http_server::{Resource, TestServer};
use crate::support::postgres::{self, TestDb};
use crate::support::{random_bytes, sha256, sha256_file};

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SECRET: &str = "cluster-test-secret-0123456789";
/// Short, so a takeover is quick to see: renewals every 300 ms, a node
/// stops writing after 1.6 s without one, others take over after 2 s.
const LEASE: &str = "2s";
const RENEW: &str = "300ms";

async fn node(db: &TestDb, root: &Path, name: &str) -> Daemon {
    node_with_lease(db, root, name, LEASE).await
}

async fn node_with_lease(db: &TestDb, root: &Path, name: &str, lease: &str) -> Daemon {
    let state = root.parent().unwrap().join(format!("state-{name}"));
    Daemon::start_at(
        root,
        &state,
        &[
            "--cluster-db",
            &db.url,
            "--node-name",
            name,
            "--cluster-lease",
            lease,
            "--cluster-renew",
            RENEW,
            "--rpc-secret",
            SECRET,
            "--max-concurrent",
            "2",
        ],
    )
    .await
}

/// `gid`'s owner and epoch as the database has them.
async fn ownership(db: &TestDb, gid: &str) -> (Option<String>, i64) {
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT n.name, d.epoch FROM downloads d LEFT JOIN nodes n ON n.id = d.owner
             WHERE d.gid = $1",
            &[&gid],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Polls `daemon`'s list until `done` holds of it (60 s at most).
async fn list_until(daemon: &Daemon, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let page = daemon.result("download.list", json!({})).await;
        let downloads = page["downloads"].as_array().unwrap().clone();
        if done(&downloads) {
            return downloads;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {downloads:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn nodes_of(downloads: &[Value]) -> BTreeMap<String, String> {
    downloads
        .iter()
        .filter_map(|d| {
            Some((
                d["gid"].as_str()?.to_owned(),
                d["node"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn signal(daemon: &Daemon, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &daemon.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_downloads_resume_on_the_others_within_the_lease_and_complete_intact() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let _turn = TURN.lock().await;
    const SIZE: usize = 3 << 20;
    const RATE: u64 = 256 << 10; // per connection
    let files: Vec<Vec<u8>> = (0..6).map(|i| random_bytes(SIZE, 100 + i)).collect();
    let origin = TestServer::start(
        files
            .iter()
            .enumerate()
            .map(|(i, body)| Resource::file(&format!("/f{i}.bin"), body.clone()).rate(RATE)),
    )
    .await;
    let dirs = tempfile::tempdir().unwrap();
    let root = dirs.path().join("downloads");
    let a = node(&db, &root, "a").await;
    let b = node(&db, &root, "b").await;
    let c = node(&db, &root, "c").await;
    let mut on_c = c.ws().await;

    let mut gids = Vec::new();
    for i in 0..files.len() {
        let url = origin.url(&format!("/f{i}.bin"));
        gids.push(a.add(json!({"url": url, "connections": 2})).await);
    }
    // Every node runs two; B's have checkpointed some bytes.
    let running = list_until(&c, "every download to run", |d| nodes_of(d).len() == 6).await;
    let on_b: BTreeSet<String> = nodes_of(&running)
        .into_iter()
        .filter(|(_, node)| node == "b")
        .map(|(gid, _)| gid)
        .collect();
    assert_eq!(on_b.len(), 2, "{running:#?}");
    let client = db.client().await;
    loop {
        let checkpointed: i64 = client
            .query_one(
                "SELECT count(*) FROM downloads WHERE gid = ANY($1) AND completed_length > 0",
                &[&on_b.iter().collect::<Vec<_>>()],
            )
            .await
            .unwrap()
            .get(0);
        if checkpointed == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut epochs = BTreeMap::new();
    for gid in &on_b {
        epochs.insert(gid.clone(), ownership(&db, gid).await.1);
    }

    signal(&b, "-KILL");
    let killed = std::time::Instant::now();
    // Within the lease and a few renewals, A and C run them.
    let taken = list_until(&a, "B's downloads to run elsewhere", |d| {
        let nodes = nodes_of(d);
        on_b.iter().all(|gid| {
            let state = d
                .iter()
                .find(|s| s["gid"] == gid.as_str())
                .map(|s| &s["state"]);
            matches!(nodes.get(gid).map(String::as_str), Some("a" | "c"))
                || state == Some(&json!("complete"))
        })
    })
    .await;
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "taken over after {took:?}: {taken:#?}"
    );
    for gid in &on_b {
        let (owner, epoch) = ownership(&db, gid).await;
        assert!(
            epoch > epochs[gid],
            "{gid}: epoch {epoch} after the takeover, {} before (owner {owner:?})",
            epochs[gid]
        );
    }

    for (i, gid) in gids.iter().enumerate() {
        let status = c.finished(gid).await;
        assert_eq!(status["state"], "complete", "{status}");
        let path = Path::new(status["path"].as_str().unwrap());
        assert_eq!(sha256_file(path), sha256(&files[i]), "{gid}");
    }
    // Resumed, not restarted: the new owners asked for ranges past the
    // checkpoints, and the origin sent each taken-over file's bytes once
    // but for what B fetched after its last checkpoint (a checkpoint
    // interval, 1 s, per connection) and what was in flight.
    for gid in &on_b {
        let url = a.result("download.status", json!({"gid": gid})).await["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = &url[url.rfind('/').unwrap()..];
        let starts = origin.range_starts(path);
        assert!(
            starts.iter().filter(|s| s.is_some_and(|s| s > 0)).count() >= 2,
            "{path}: ranges {starts:?}"
        );
    }
    // A client of C heard every download complete, whichever node ran it,
    // every state change numbered in the cluster's order.
    let mut complete = BTreeSet::new();
    let heard = on_c
        .notifications_until(Duration::from_secs(30), |n| {
            if n["method"] == "download.complete" {
                complete.insert(n["params"]["gid"].as_str().unwrap().to_owned());
            }
            complete.len() == gids.len()
        })
        .await;
    let numbered: Vec<u64> = heard
        .iter()
        .filter(|n| n["method"] != "download.progress" && n["method"] != "download.started")
        .map(|n| {
            n["params"]["clusterSeq"]
                .as_u64()
                .unwrap_or_else(|| panic!("a state change without clusterSeq: {n}"))
        })
        .collect();
    assert!(
        numbered.windows(2).all(|w| w[0] < w[1]),
        "clusterSeq strictly increasing: {numbered:?}"
    );
    let sent: u64 = origin.bytes_sent_by_connection().values().sum();
    let total = (SIZE * files.len()) as u64;
    let twice = sent.saturating_sub(total);
    // Two downloads × two connections × (one checkpoint interval + one
    // more for what was in flight) at RATE.
    let allowed = 2 * 2 * 2 * RATE;
    assert!(
        twice <= allowed,
        "the origin sent {twice} bytes twice, more than {allowed}"
    );
    drop((a, c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_on_one_node_of_a_download_another_runs_takes_effect_and_is_durable() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let _turn = TURN.lock().await;
    let body = random_bytes(2 << 20, 7);
    let origin = TestServer::start([
        Resource::file("/p.bin", body.clone()).rate(128 << 10),
        Resource::file("/p2.bin", body.clone()).rate(128 << 10),
    ])
    .await;
    let dirs = tempfile::tempdir().unwrap();
    let root = dirs.path().join("downloads");
    let a = node(&db, &root, "a").await;
    let gid = a
        .add(json!({"url": origin.url("/p.bin"), "connections": 2}))
        .await;
    a.status_until(&gid, |s| {
        s["node"] == "a" && s["completedLength"].as_u64() > Some(0)
    })
    .await;
    let c = node(&db, &root, "c").await;
    let seen = c.result("download.status", json!({"gid": gid})).await;
    assert_eq!(
        (&seen["state"], &seen["node"]),
        (&json!("active"), &json!("a"))
    );
    // C learns its name and progress from A.
    let seen = c
        .status_until(&gid, |s| {
            s["path"].is_string() && s["downloadSpeed"].as_u64() > Some(0)
        })
        .await;
    assert_eq!(seen["fileName"], "p.bin", "{seen}");

    // What it was added with, too: C asks A, which makes the change (a
    // change of C's own would be undone by A's next write).
    let limited = c
        .result(
            "download.setSpeedLimit",
            json!({"gid": gid, "speedLimit": 200 << 10}),
        )
        .await;
    assert_eq!(limited["speedLimit"], 200 << 10, "{limited}");
    let moved = c
        .result(
            "download.setUrl",
            json!({"gid": gid, "url": origin.url("/p2.bin")}),
        )
        .await;
    assert_eq!(moved["url"], origin.url("/p2.bin"), "{moved}");
    let on_a = a.result("download.status", json!({"gid": gid})).await;
    assert_eq!(
        (&on_a["speedLimit"], &on_a["url"], &on_a["state"]),
        (
            &json!(200 << 10),
            &json!(origin.url("/p2.bin")),
            &json!("active")
        ),
        "{on_a}"
    );
    a.status_until(&gid, |s| {
        s["sources"][0]["downloadSpeed"].as_u64() > Some(0)
            && s["sources"][0]["url"] == origin.url("/p2.bin").as_str()
    })
    .await;
    // Another file there is refused, with the owner's reason.
    let refused = c
        .call(
            "download.setUrl",
            json!({"gid": gid, "url": origin.url("/missing.bin")}),
        )
        .await;
    assert_eq!(refused["error"]["code"], -32015, "{refused}");
    assert_eq!(
        refused["error"]["data"]["url"],
        origin.url("/missing.bin"),
        "{refused}"
    );

    let mut on_c = c.ws().await;
    let paused = c.result("download.pause", json!({"gid": gid})).await;
    assert_eq!(paused["state"], "paused", "{paused}");
    // C's clients hear of it, numbered in the cluster's log.
    let heard = on_c
        .notifications_until(Duration::from_secs(10), |n| {
            n["method"] == "download.paused" && n["params"]["gid"] == gid.as_str()
        })
        .await;
    let mut notification = heard.last().unwrap().clone();
    assert!(
        notification["params"]["clusterSeq"].as_u64() > Some(0),
        "{notification}"
    );
    for volatile in ["seq", "streamId", "gid", "clusterSeq", "completedLength"] {
        notification["params"][volatile] = json!(format!("[{volatile}]"));
    }
    insta::assert_json_snapshot!("cluster_paused_elsewhere", notification);
    assert_eq!(paused["node"], Value::Null, "{paused}");
    // A stopped it, and the database says so.
    let on_a = a.result("download.status", json!({"gid": gid})).await;
    assert_eq!(on_a["state"], "paused", "{on_a}");
    let row = db
        .client()
        .await
        .query_one(
            "SELECT state, owner, completed_length FROM downloads WHERE gid = $1",
            &[&gid],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "paused");
    assert_eq!(row.get::<_, Option<i64>>(1), None);
    let kept: i64 = row.get(2);
    assert!(kept > 0);
    // It stays paused: no node claims it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = a.result("download.status", json!({"gid": gid})).await;
    assert_eq!(still["state"], "paused", "{still}");

    // Resumed on C, it completes from its bytes on either node.
    let resumed = c.result("download.resume", json!({"gid": gid})).await;
    assert!(
        matches!(resumed["state"].as_str(), Some("queued" | "active")),
        "{resumed}"
    );
    let done = c.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(
        sha256_file(Path::new(done["path"].as_str().unwrap())),
        sha256(&body)
    );
    let starts = origin.range_starts("/p.bin");
    assert!(
        starts
            .iter()
            .any(|s| s.is_some_and(|s| s as i64 >= kept.min(1))),
        "resumed from its bytes: {starts:?}"
    );

    // A remove asked on one node of a download the other runs goes too,
    // files and all (either may claim it).
    let gid = a
        .add(json!({"url": origin.url("/p.bin"), "fileName": "r.bin", "connections": 1}))
        .await;
    let running = a
        .status_until(&gid, |s| {
            s["node"].is_string() && s["completedLength"].as_u64() > Some(0)
        })
        .await;
    let (runner, asker) = match running["node"].as_str() {
        Some("a") => (&a, &c),
        _ => (&c, &a),
    };
    asker
        .result("download.remove", json!({"gid": gid, "deleteFiles": true}))
        .await;
    let gone = runner.call("download.status", json!({"gid": gid})).await;
    assert_eq!(gone["error"]["code"], -32001, "{gone}");
    assert!(!root.join("r.bin.part").exists());
    assert!(!root.join("r.bin").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_node_writes_nothing_once_its_lease_ran_out_and_rejoins_under_a_new_id() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let _turn = TURN.lock().await;
    let body = random_bytes(3 << 20, 11);
    let origin = TestServer::start([Resource::file("/z.bin", body.clone()).rate(256 << 10)]).await;
    let dirs = tempfile::tempdir().unwrap();
    let root = dirs.path().join("downloads");
    let b = node(&db, &root, "b").await;
    let gid = b
        .add(json!({"url": origin.url("/z.bin"), "connections": 2}))
        .await;
    b.status_until(&gid, |s| {
        s["node"] == "b" && s["completedLength"].as_u64() > Some(0)
    })
    .await;
    let old_id: i64 = db
        .client()
        .await
        .query_one("SELECT id FROM nodes WHERE name = 'b'", &[])
        .await
        .unwrap()
        .get(0);
    let a = node(&db, &root, "a").await;

    signal(&b, "-STOP");
    // Past its lease: A takes the download over.
    let taken = a
        .status_until(&gid, |s| s["node"] == "a" || s["state"] == "complete")
        .await;
    assert_ne!(taken["node"], "b", "{taken}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    signal(&b, "-CONT");

    // B notices, rejoins under a new id, and sees A run the download.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let new_id = loop {
        let ids: Vec<i64> = db
            .client()
            .await
            .query("SELECT id FROM nodes WHERE name = 'b'", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        if let Some(id) = ids.into_iter().find(|&id| id != old_id) {
            break id;
        }
        assert!(tokio::time::Instant::now() < deadline, "B did not rejoin");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(new_id > old_id);
    let on_b = b.status_until(&gid, |s| s["node"] != "b").await;
    assert_ne!(on_b["node"], "b", "{on_b}");
    let done = a.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(
        sha256_file(Path::new(done["path"].as_str().unwrap())),
        sha256(&body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_shuts_down_hands_its_downloads_over_at_once() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let _turn = TURN.lock().await;
    let body = random_bytes(2 << 20, 13);
    let origin = TestServer::start([Resource::file("/s.bin", body.clone()).rate(256 << 10)]).await;
    let dirs = tempfile::tempdir().unwrap();
    let root = dirs.path().join("downloads");
    // A lease far longer than the test: only the hand-over can explain a
    // quick takeover.
    let b = node_with_lease(&db, &root, "b", "60s").await;
    let gid = b
        .add(json!({"url": origin.url("/s.bin"), "connections": 2}))
        .await;
    b.status_until(&gid, |s| {
        s["node"] == "b" && s["completedLength"].as_u64() > Some(0)
    })
    .await;
    let a = node_with_lease(&db, &root, "a", "60s").await;
    let stopped = std::time::Instant::now();
    let status = b.stop().await;
    assert!(status.success(), "{status:?}");
    let taken = a
        .status_until(&gid, |s| s["node"] == "a" || s["state"] == "complete")
        .await;
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "taken over after {:?}: {taken}",
        stopped.elapsed()
    );
    let done = a.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(
        sha256_file(Path::new(done["path"].as_str().unwrap())),
        sha256(&body)
    );
    let row = db
        .client()
        .await
        .query_one("SELECT count(*) FROM nodes WHERE name = 'b'", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 0, "B left the cluster");
}
