//! Mirrors: `download.add` with `urls`. Connections spread over every
//! source; one that fails, serves another file or lags far behind is
//! dropped and the others finish the file; `sources` in the status says
//! which and why.
#![cfg(feature = "server")]

use crate::support;

use serde_json::{json, Value};
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

/// Polls the status until `done` says so.
async fn status_until(daemon: &Daemon, gid: &str, done: impl Fn(&Value) -> bool) -> Value {
    daemon.status_until(gid, done).await
}

fn ranged_requests(server: &TestServer, path: &str) -> usize {
    server
        .range_starts(path)
        .iter()
        .filter(|s| s.is_some())
        .count()
}

#[tokio::test]
async fn connections_spread_over_every_mirror_and_the_file_is_whole() {
    let data = random_bytes(6 << 20, 31);
    let server = TestServer::start(
        ["/a.bin", "/b.bin", "/c.bin"].map(|p| Resource::file(p, data.clone()).rate(1 << 20)),
    )
    .await;
    let daemon = Daemon::start().await;
    let urls = [server.url("/b.bin"), server.url("/c.bin")];
    let gid = daemon
        .add(json!({"url": server.url("/a.bin"), "urls": urls, "connections": 6, "fileName": "m.bin"}))
        .await;
    let running = status_until(&daemon, &gid, |s| {
        s["sources"].as_array().is_some_and(|sources| {
            sources.len() == 3
                && sources
                    .iter()
                    .all(|s| s["state"] == "active" && s["connections"].as_u64() > Some(0))
        })
    })
    .await;
    let shown: Vec<&str> = running["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown,
        [server.url("/a.bin"), urls[0].clone(), urls[1].clone()],
        "in the order given"
    );
    let done = daemon.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(sha256_file(&daemon.root.join("m.bin")), sha256(&data));
    for path in ["/a.bin", "/b.bin", "/c.bin"] {
        assert!(ranged_requests(&server, path) > 0, "{path} served ranges");
    }
}

#[tokio::test]
async fn a_mirror_that_fails_or_serves_another_file_is_dropped_and_the_others_finish() {
    let data = random_bytes(3 << 20, 32);
    let server = TestServer::start([
        Resource::file("/good.bin", data.clone()).rate(512 << 10),
        Resource::file("/gone.bin", data.clone()).fail_first(404, usize::MAX),
        Resource::file("/other.bin", random_bytes(1000, 33)),
        // Another version of the file at every answer: its ranges cannot
        // be mixed with the others' bytes.
        Resource::file("/changing.bin", data.clone()).etag_per_request(),
    ])
    .await;
    let daemon = Daemon::start().await;
    let mirrors = [
        server.url("/gone.bin"),
        server.url("/other.bin"),
        server.url("/changing.bin"),
    ];
    let gid = daemon
        .add(json!({"url": server.url("/good.bin"), "urls": mirrors, "connections": 8, "fileName": "f.bin"}))
        .await;
    let status = status_until(&daemon, &gid, |s| {
        s["sources"]
            .as_array()
            .is_some_and(|sources| sources.iter().skip(1).all(|s| s["state"] == "dropped"))
    })
    .await;
    let reasons: Vec<&str> = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(reasons[0], "", "the URL itself stays in use: {status}");
    assert!(
        reasons[1].starts_with("failed: the server answered 404"),
        "{reasons:?}"
    );
    assert_eq!(
        reasons[2],
        "serves another file: 1000 bytes, not 3145728 bytes"
    );
    assert!(
        reasons[3].starts_with("serves another file: "),
        "{reasons:?}"
    );
    assert_eq!(status["sources"][3]["downloadSpeed"], 0);
    let done = daemon.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(sha256_file(&daemon.root.join("f.bin")), sha256(&data));
}

#[tokio::test]
async fn a_much_slower_mirror_is_dropped_for_the_rest_of_the_download() {
    let data = random_bytes(10 << 20, 34);
    let server = TestServer::start([
        Resource::file("/fast.bin", data.clone()).rate(1 << 20),
        Resource::file("/slow.bin", data.clone()).rate(16 << 10),
    ])
    .await;
    let daemon = Daemon::start().await;
    let gid = daemon
        .add(json!({"url": server.url("/fast.bin"), "urls": [server.url("/slow.bin")], "connections": 4, "fileName": "s.bin"}))
        .await;
    let status = status_until(&daemon, &gid, |s| s["sources"][1]["state"] == "dropped").await;
    let reason = status["sources"][1]["reason"].as_str().unwrap();
    assert!(reason.starts_with("dropped as slow: "), "{reason}");
    assert_eq!(status["sources"][0]["state"], "active");
    let done = daemon.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(sha256_file(&daemon.root.join("s.bin")), sha256(&data));
}

#[tokio::test]
async fn when_the_url_is_down_a_mirror_serves_the_whole_download() {
    let data = random_bytes(1 << 20, 35);
    let server = TestServer::start([Resource::file("/m.bin", data.clone())]).await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let daemon = Daemon::start().await;
    let gid = daemon
        .add(json!({"url": format!("http://{closed}/m.bin"), "urls": [server.url("/m.bin")], "fileName": "d.bin"}))
        .await;
    let done = daemon.finished(&gid).await;
    assert_eq!(done["state"], "complete", "{done}");
    assert_eq!(sha256_file(&daemon.root.join("d.bin")), sha256(&data));
}

#[tokio::test]
async fn mirrors_are_checked_when_added() {
    let daemon = Daemon::start().await;
    let (status, body) = daemon
        .post(json!({"jsonrpc": "2.0", "id": 1, "method": "download.add", "params": {"url": "http://h/x", "urls": ["ftp://h/x"]}}).to_string())
        .await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&body).unwrap();
    insta::assert_json_snapshot!(answer);
}
