//! `download.setUrl`: a download moves to another URL of the same file
//! (an expired signed link, a mirror) and keeps its bytes, while paused or
//! while running; another file there is refused, unless `restart`.
#![cfg(feature = "server")]

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

const KIB: usize = 1024;
const LEN: usize = 4 * 1024 * KIB + 11;

async fn status(daemon: &Daemon, gid: &str) -> Value {
    daemon.result("download.status", json!({"gid": gid})).await
}

/// A download of `url` that has some bytes, then paused.
async fn paused_with_bytes(daemon: &Daemon, url: &str) -> String {
    let gid = daemon.add(json!({"url": url, "connections": 2})).await;
    daemon
        .status_until(&gid, |s| {
            s["completedLength"].as_u64() > Some(256 * KIB as u64)
        })
        .await;
    daemon.result("download.pause", json!({"gid": gid})).await;
    gid
}

/// The new URL's server sent ranges from the middle: besides the probes
/// (a one-byte one of `setUrl`, the start's from zero), every request it got
/// asked for bytes the download did not have yet.
fn assert_resumed_from_bytes(server: &TestServer) {
    let starts = server.range_starts("/f.bin");
    let from_zero = starts.iter().filter(|s| **s == Some(0)).count();
    assert!(from_zero <= 2, "{starts:?}");
    assert!(
        starts.iter().any(|s| s.is_some_and(|s| s > 0)),
        "{starts:?}"
    );
}

#[tokio::test]
async fn a_paused_download_moves_to_a_mirror_and_resumes_from_its_bytes() {
    let data = random_bytes(LEN, 31);
    let expiring =
        TestServer::start([Resource::file("/f.bin", data.clone()).rate(512 * KIB as u64)]).await;
    // A mirror without ETags: the length is what it can be compared by.
    let mirror = TestServer::start([Resource::file("/f.bin", data.clone()).no_etag()]).await;
    let daemon = Daemon::start().await;
    let gid = paused_with_bytes(&daemon, &expiring.url("/f.bin")).await;
    let kept = status(&daemon, &gid).await["completedLength"]
        .as_u64()
        .unwrap();
    let mut ws = daemon.ws().await;
    let mut seen = Vec::new();
    ws.call(
        r#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"kinds":["download.started"]}}"#,
        &mut seen,
    )
    .await;

    let moved = daemon
        .result(
            "download.setUrl",
            json!({"gid": gid, "url": mirror.url("/f.bin")}),
        )
        .await;
    assert_eq!(moved["url"], mirror.url("/f.bin"));
    assert_eq!(moved["state"], "paused");
    assert_eq!(moved["completedLength"], kept, "{moved}");

    daemon.result("download.resume", json!({"gid": gid})).await;
    let done = daemon
        .status_until(&gid, |s| s["state"] == "complete" || s["state"] == "error")
        .await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(
        sha256_file(std::path::Path::new(done["path"].as_str().unwrap())),
        sha256(&data)
    );
    assert_resumed_from_bytes(&mirror);
    let started = ws
        .notifications_until(Duration::from_secs(10), |n| {
            n["method"] == "download.started"
        })
        .await;
    let started = &started.last().unwrap()["params"];
    assert_eq!(started["resumed"], true, "{started}");
    assert_eq!(started["restarted"], Value::Null, "{started}");
}

#[tokio::test]
async fn another_file_at_the_new_url_is_refused_unless_restart() {
    let data = random_bytes(LEN, 32);
    let other = random_bytes(LEN + 100, 33);
    let first = TestServer::start([Resource::file("/f.bin", data).rate(512 * KIB as u64)]).await;
    let elsewhere = TestServer::start([Resource::file("/f.bin", other.clone())]).await;
    let daemon = Daemon::start().await;
    let gid = paused_with_bytes(&daemon, &first.url("/f.bin")).await;
    let before = status(&daemon, &gid).await;

    let refused = daemon
        .call(
            "download.setUrl",
            json!({"gid": gid, "url": elsewhere.url("/f.bin")}),
        )
        .await;
    insta::assert_json_snapshot!("set_url_another_file", refused, {
        ".error.data.url" => "[url]",
    });
    assert_eq!(
        status(&daemon, &gid).await,
        before,
        "a refusal changes nothing"
    );

    let moved = daemon
        .result(
            "download.setUrl",
            json!({"gid": gid, "url": elsewhere.url("/f.bin"), "restart": true}),
        )
        .await;
    assert_eq!(moved["url"], elsewhere.url("/f.bin"));
    daemon.result("download.resume", json!({"gid": gid})).await;
    let done = daemon
        .status_until(&gid, |s| s["state"] == "complete" || s["state"] == "error")
        .await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(
        sha256_file(std::path::Path::new(done["path"].as_str().unwrap())),
        sha256(&other)
    );
}

#[tokio::test]
async fn a_running_download_goes_on_from_its_bytes_at_the_new_url_without_pausing() {
    let data = random_bytes(LEN, 34);
    let slow =
        TestServer::start([Resource::file("/f.bin", data.clone()).rate(256 * KIB as u64)]).await;
    let fast = TestServer::start([Resource::file("/f.bin", data.clone())]).await;
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let mut seen = Vec::new();
    ws.call(
        r#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"kinds":["download.started","download.paused","download.complete"]}}"#,
        &mut seen,
    )
    .await;
    let gid = daemon
        .add(json!({"url": slow.url("/f.bin"), "connections": 2}))
        .await;
    daemon
        .status_until(&gid, |s| {
            s["completedLength"].as_u64() > Some(256 * KIB as u64)
        })
        .await;

    let moved = daemon
        .result(
            "download.setUrl",
            json!({"gid": gid, "url": fast.url("/f.bin")}),
        )
        .await;
    assert_eq!(moved["state"], "active");
    let done = daemon
        .status_until(&gid, |s| s["state"] == "complete" || s["state"] == "error")
        .await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(
        sha256_file(std::path::Path::new(done["path"].as_str().unwrap())),
        sha256(&data)
    );
    assert_resumed_from_bytes(&fast);

    let notifications = ws
        .notifications_until(Duration::from_secs(10), |n| {
            n["method"] == "download.complete"
        })
        .await;
    let null = Value::Null;
    let seen: Vec<(&str, Option<bool>, &Value)> = notifications
        .iter()
        .map(|n| {
            let p = &n["params"];
            let restarted = p.get("restarted").unwrap_or(&null);
            (
                n["method"].as_str().unwrap(),
                p["resumed"].as_bool(),
                restarted,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("download.started", Some(false), &null),
            ("download.started", Some(true), &null),
            ("download.complete", None, &null),
        ],
        "never paused, never restarted"
    );
}

#[tokio::test]
async fn a_complete_download_keeps_its_url() {
    let data = random_bytes(64 * KIB, 35);
    let server = TestServer::start([Resource::file("/f.bin", data)]).await;
    let daemon = Daemon::start().await;
    let gid = daemon.add(json!({"url": server.url("/f.bin")})).await;
    daemon
        .status_until(&gid, |s| s["state"] == "complete")
        .await;
    let refused = daemon
        .call(
            "download.setUrl",
            json!({"gid": gid, "url": server.url("/g.bin")}),
        )
        .await;
    assert_eq!(refused["error"]["code"], -32002, "{refused}");
    assert_eq!(refused["error"]["data"]["state"], "complete");
}
