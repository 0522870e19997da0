//! The notifications a WebSocket client receives for a download's life, as
//! snapshots: volatile values are redacted after their invariants (`seq`
//! strictly increasing, one `streamId`) are checked, and a run of progress
//! notifications is shown once.

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::{Daemon, Ws};
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

fn is_final(n: &Value, gid: &str, methods: &[&str]) -> bool {
    n["params"]["gid"] == gid && methods.contains(&n["method"].as_str().unwrap_or_default())
}

/// Checks the invariants, then redacts what varies from run to run.
fn normalized(events: &[Value], daemon: &Daemon) -> Value {
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| {
            e["params"]["seq"]
                .as_u64()
                .expect("every notification has a seq")
        })
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq strictly increases: {seqs:?}"
    );
    let stream = &events[0]["params"]["streamId"];
    assert!(
        events.iter().all(|e| &e["params"]["streamId"] == stream),
        "one streamId"
    );
    let root = daemon.root().canonicalize().unwrap().display().to_string();
    let mut out: Vec<Value> = Vec::new();
    for event in events {
        assert_eq!(event["jsonrpc"], "2.0");
        assert!(
            event.get("id").is_none(),
            "a notification has no id: {event}"
        );
        let mut event = event.clone();
        let params = &mut event["params"];
        params["seq"] = json!("[seq]");
        params["streamId"] = json!("[streamId]");
        params["gid"] = json!("[gid]");
        if let Some(path) = params.get("path").and_then(Value::as_str) {
            params["path"] = json!(path.replace(&root, "[root]"));
        }
        if event["method"] == "download.paused" {
            event["params"]["completedLength"] = json!("[completedLength]");
        }
        if event["method"] == "download.progress" {
            for volatile in ["completedLength", "downloadSpeed", "eta", "connections"] {
                event["params"][volatile] = json!(format!("[{volatile}]"));
            }
            if out
                .last()
                .is_some_and(|last| last["method"] == "download.progress")
            {
                continue;
            }
        }
        out.push(event);
    }
    Value::Array(out)
}

/// The gid's notifications from `ws` until one of `until` arrives for it.
async fn life_of(ws: &mut Ws, gid: &str, until: &[&str]) -> Vec<Value> {
    let all = ws
        .notifications_until(Duration::from_secs(30), |n| is_final(n, gid, until))
        .await;
    all.into_iter()
        .filter(|n| n["params"]["gid"] == gid)
        .collect()
}

#[tokio::test]
async fn a_download_announces_start_progress_and_completion() {
    let data = random_bytes(1 << 20, 3);
    let server = TestServer::start([Resource::file("/f.bin", data.clone()).rate(768 << 10)]).await;
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let gid = daemon
        .add(json!({"url": server.url("/f.bin"), "connections": 1}))
        .await;
    let events = life_of(&mut ws, &gid, &["download.complete", "download.error"]).await;
    assert!(
        events.iter().any(|e| e["method"] == "download.progress"),
        "{events:#?}"
    );
    insta::assert_json_snapshot!("fresh_download", normalized(&events, &daemon));
    assert_eq!(sha256_file(&daemon.root().join("f.bin")), sha256(&data));
}

#[tokio::test]
async fn a_failed_download_announces_the_error_with_its_code() {
    let server =
        TestServer::start([Resource::file("/gone", vec![1; 10]).fail_first(404, 100)]).await;
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let gid = daemon.add(json!({"url": server.url("/gone")})).await;
    let mut events = life_of(&mut ws, &gid, &["download.error"]).await;
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for event in &mut events {
        if let Some(message) = event["params"]["message"].as_str() {
            event["params"]["message"] = json!(message.replace(&port, "[port]"));
        }
    }
    insta::assert_json_snapshot!("failed_download", normalized(&events, &daemon));
    let status = daemon.result("download.status", json!({"gid": gid})).await;
    assert_eq!(status["error"]["code"], "http-status");
}

#[tokio::test]
async fn pausing_and_resuming_announces_a_resumed_start_like_a_fresh_one() {
    let data = random_bytes(2 << 20, 4);
    let server = TestServer::start([Resource::file("/p.bin", data.clone()).rate(512 << 10)]).await;
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let gid = daemon
        .add(json!({"url": server.url("/p.bin"), "connections": 2}))
        .await;
    // Pause once some bytes are in.
    let mut events: Vec<Value> = ws
        .notifications_until(Duration::from_secs(30), |n| {
            n["method"] == "download.progress"
                && n["params"]["gid"] == gid
                && n["params"]["completedLength"].as_u64() > Some(0)
        })
        .await
        .into_iter()
        .filter(|n| n["params"]["gid"] == gid)
        .collect();
    daemon.result("download.pause", json!({"gid": gid})).await;
    events.extend(life_of(&mut ws, &gid, &["download.paused"]).await);
    daemon.result("download.resume", json!({"gid": gid})).await;
    events.extend(life_of(&mut ws, &gid, &["download.complete", "download.error"]).await);

    let resumed = events
        .iter()
        .filter(|e| e["method"] == "download.started")
        .map(|e| &e["params"]["resumed"]);
    assert_eq!(resumed.collect::<Vec<_>>(), [&json!(false), &json!(true)]);
    let paused = events
        .iter()
        .find(|e| e["method"] == "download.paused")
        .unwrap();
    assert!(
        paused["params"]["completedLength"].as_u64().unwrap() > 0,
        "bytes were kept: {paused}"
    );
    insta::assert_json_snapshot!("pause_and_resume", normalized(&events, &daemon));
    assert_eq!(sha256_file(&daemon.root().join("p.bin")), sha256(&data));
}

#[tokio::test]
async fn removing_a_download_announces_it() {
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let gid = daemon
        .add(json!({"url": "http://127.0.0.1:9/x", "paused": true}))
        .await;
    daemon.result("download.remove", json!({"gid": gid})).await;
    let events = life_of(&mut ws, &gid, &["download.removed"]).await;
    insta::assert_json_snapshot!("removed_download", normalized(&events, &daemon));
}

#[tokio::test]
async fn every_connected_client_receives_every_notification() {
    let daemon = Daemon::start().await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(daemon.ws().await);
    }
    let gid = daemon
        .add(json!({"url": "http://127.0.0.1:9/x", "paused": true}))
        .await;
    daemon.result("download.remove", json!({"gid": gid})).await;
    let mut seqs = Vec::new();
    for ws in &mut clients {
        let events = life_of(ws, &gid, &["download.removed"]).await;
        seqs.push(events.last().unwrap()["params"]["seq"].clone());
    }
    assert!(
        seqs.windows(2).all(|w| w[0] == w[1]),
        "the same event, the same seq: {seqs:?}"
    );
}

#[tokio::test]
async fn one_serving_thread_answers_calls_and_notifies_every_client_while_a_download_runs() {
    let data = random_bytes(1 << 20, 5);
    let server = TestServer::start([Resource::file("/one.bin", data.clone()).rate(1 << 20)]).await;
    let daemon = Daemon::start_with(&["--rpc-threads", "1"]).await;
    let (mut first, mut second) = (daemon.ws().await, daemon.ws().await);
    let gid = daemon.add(json!({"url": server.url("/one.bin")})).await;
    let status = daemon.result("download.status", json!({"gid": gid})).await;
    assert_eq!(status["gid"], gid);
    for ws in [&mut first, &mut second] {
        let events = life_of(ws, &gid, &["download.complete", "download.error"]).await;
        let methods: Vec<&str> = events.iter().filter_map(|e| e["method"].as_str()).collect();
        assert_eq!(methods.first(), Some(&"download.started"), "{methods:?}");
        assert_eq!(methods.last(), Some(&"download.complete"), "{methods:?}");
    }
    assert_eq!(sha256_file(&daemon.root().join("one.bin")), sha256(&data));
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_others_are_not_held_up() {
    let daemon = Daemon::start_with(&[
        "--connection-buffer",
        "4",
        "--slow-client-timeout",
        "1s",
        "--event-window",
        "100",
        "--max-batch",
        "1000",
    ])
    .await;
    let mut stalled = daemon.ws_small_window().await;
    let mut reader = daemon.ws().await;
    let url = "http://127.0.0.1:9/x";
    let adds: Vec<Value> = (0..1000)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "download.add", "params": {"url": url, "paused": true}}))
        .collect();
    let adds = Value::Array(adds).to_string();
    // Far more notifications than the stalled client's buffers hold (its
    // pending limit is the ring plus a window of 100), while the reader
    // keeps up.
    for _ in 0..40 {
        let (_, text) = daemon.post(&adds).await;
        let added: Vec<Value> = serde_json::from_str(&text).unwrap();
        let removals: Vec<Value> = added
            .iter()
            .map(|a| json!({"jsonrpc": "2.0", "id": 1, "method": "download.remove", "params": {"gid": a["result"]["gid"]}}))
            .collect();
        daemon.post(&Value::Array(removals).to_string()).await;
        while reader.next_text(Duration::from_millis(1)).await.is_some() {}
    }
    let gid = daemon.add(json!({"url": url, "paused": true})).await;
    daemon.result("download.remove", json!({"gid": gid})).await;
    life_of(&mut reader, &gid, &["download.removed"]).await;

    // What the stalled client's socket held arrives, then the end.
    let (drained, closed) = stalled.drain_until_closed(Duration::from_secs(5)).await;
    assert!(
        closed,
        "the stalled client was disconnected, not left open ({drained} read)"
    );
    assert!(
        drained < 40_000,
        "only what the buffers held, not all 40,000 removals: {drained}"
    );
}
