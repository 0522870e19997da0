//! Stopping and starting the daemon: SIGTERM checkpoints and exits 0, and
//! the next start resumes what was unfinished.

use crate::support;

use std::time::Duration;

use serde_json::json;
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

#[tokio::test]
async fn sigterm_exits_zero_and_the_next_start_resumes_the_download_from_its_bytes() {
    let data = random_bytes(4 << 20, 8);
    let server = TestServer::start([Resource::file("/big.bin", data.clone()).rate(1 << 20)]).await;
    let daemon = Daemon::start().await;
    let gid = daemon
        .add(json!({"url": server.url("/big.bin"), "connections": 2}))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = daemon.result("download.status", json!({"gid": gid})).await;
        if status["completedLength"].as_u64().unwrap_or(0) >= 1 << 20 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no progress: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests_before = server.requests("/big.bin");

    let (daemon, exit) = daemon.restart(&[]).await;
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}");
    let status = daemon.result("download.status", json!({"gid": gid})).await;
    assert!(
        status["completedLength"].as_u64().unwrap() >= 1 << 20,
        "the checkpoint kept the bytes: {status}"
    );
    assert!(
        status["state"] == "active" || status["state"] == "queued",
        "it resumes by itself: {status}"
    );

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while daemon.result("download.status", json!({"gid": gid})).await["state"] != "complete" {
        assert!(tokio::time::Instant::now() < deadline, "never completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sha256_file(&daemon.root().join("big.bin")), sha256(&data));
    assert!(
        server.requests("/big.bin") > requests_before,
        "the second daemon fetched the rest"
    );
}
