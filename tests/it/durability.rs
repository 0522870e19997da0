//! Acknowledged means durable: what the daemon answered for survives a
//! kill -9, a full state disk fails calls instead of acknowledging them, and
//! a full download disk fails a download without losing its bytes.
//!
//! The disk tests mount small tmpfs file systems, which needs root on Linux
//! (the tests run as root in CI); elsewhere they say so and pass.

use crate::support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

/// A tmpfs of a given size on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (after saying why) where this process may not mount.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        if !mounted.is_ok_and(|s| s.success()) {
            eprintln!("skipped: cannot mount a tmpfs here (needs root on Linux)");
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "cannot resize the tmpfs");
    }

    /// Fills the file system with one file until no byte is left.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("the filler file");
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.write_all(&[0]);
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

#[tokio::test]
async fn an_acknowledged_batch_of_adds_survives_kill_9_right_after_the_answer() {
    let daemon = Daemon::start().await;
    // Five batches of 100 (the default --max-batch) at once, with records
    // large enough that committing them takes a while: answering before the
    // commit would lose some.
    let header = "x".repeat(6 * 1024);
    let batches = (0..5).map(|b| {
        let header = &header;
        let batch: Vec<Value> = (0..100)
            .map(|i| {
                json!({"jsonrpc": "2.0", "id": i, "method": "download.add",
                       "params": {"url": format!("http://127.0.0.1:9/{b}/{i}"), "paused": true,
                                  "headers": {"X-Padding": header}}})
            })
            .collect();
        let daemon = &daemon;
        async move { daemon.post(&Value::Array(batch).to_string()).await }
    });
    let answers = futures::future::join_all(batches).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    // No SIGTERM, no checkpoint: only what was committed before the answer.
    let daemon = daemon.kill_and_restart(&[]).await;
    let list = daemon.result("download.list", json!({"limit": 1000})).await;
    assert_eq!(list["total"], 500, "every acknowledged add is kept");
    for (status, body) in answers {
        assert_eq!(status, 200);
        let answers: Vec<Value> = serde_json::from_str(&body).unwrap();
        for answer in answers {
            let gid = &answer["result"]["gid"];
            let status = daemon.result("download.status", json!({"gid": gid})).await;
            assert_eq!(status["state"], "paused");
        }
    }
}

#[tokio::test]
async fn a_full_state_disk_fails_mutating_calls_and_stats_say_so_until_space_is_back() {
    let Some(disk) = Tmpfs::mount("2m") else {
        return;
    };
    let (root, state) = (tempfile::tempdir().unwrap(), disk.path().join("state"));
    let daemon = Daemon::start_at(root.path(), &state, &[]).await;
    let filler = disk.fill();
    // Each record carries a large header, so the database must grow soon.
    let header = "x".repeat(32 * 1024);
    let (mut kept, mut refused) = (Vec::new(), None);
    for i in 0..200 {
        let params = json!({"url": format!("http://127.0.0.1:9/{i}"), "paused": true,
                            "headers": {"X-Padding": header}});
        let answer = daemon.call("download.add", params).await;
        match answer.get("result") {
            Some(result) => kept.push(result["gid"].clone()),
            None => {
                refused = Some(answer);
                break;
            }
        }
    }
    let refused = refused.expect("a full state disk refuses an add within 200");
    assert_eq!(refused["error"]["code"], -32014, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "The state store cannot record changes"
    );
    let stats = daemon.result("system.getStats", json!({})).await;
    assert_eq!(stats["store"]["healthy"], false, "{stats}");
    assert!(stats["store"]["error"].is_string(), "{stats}");
    let list = daemon.result("download.list", json!({"limit": 1000})).await;
    assert_eq!(
        list["total"],
        kept.len(),
        "the refused add is not kept in memory either"
    );

    std::fs::remove_file(filler).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats = daemon.result("system.getStats", json!({})).await;
        let answer = daemon
            .call(
                "download.add",
                json!({"url": "http://127.0.0.1:9/after", "paused": true}),
            )
            .await;
        if let Some(result) = answer.get("result") {
            kept.push(result["gid"].clone());
            let stats = daemon.result("system.getStats", json!({})).await;
            assert_eq!(stats["store"], json!({"healthy": true, "error": null}));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the store did not recover: {stats} {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let daemon = daemon.kill_and_restart(&[]).await;
    let list = daemon.result("download.list", json!({"limit": 1000})).await;
    assert_eq!(list["total"], kept.len(), "every acknowledged add survived");
}

#[tokio::test]
async fn a_full_download_disk_fails_with_disk_full_keeps_the_bytes_and_resumes_once_space_is_freed()
{
    let Some(disk) = Tmpfs::mount("4m") else {
        return;
    };
    let data = random_bytes(6 << 20, 17);
    let server = TestServer::start([Resource::file("/big.bin", data.clone()).rate(4 << 20)]).await;
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_at(disk.path(), state.path(), &[]).await;
    let mut ws = daemon.ws().await;
    let gid = daemon
        .add(json!({"url": server.url("/big.bin"), "connections": 4}))
        .await;
    let seen = ws
        .notifications_until(Duration::from_secs(30), |n| {
            n["method"] == "download.error" || n["method"] == "download.complete"
        })
        .await;
    let failed = seen.last().unwrap();
    assert_eq!(failed["method"], "download.error", "{seen:#?}");
    assert_eq!(failed["params"]["code"], "disk-full", "{failed}");
    let kept = failed["params"]["completedLength"].as_u64().unwrap();
    assert!(
        kept >= 1 << 20,
        "the bytes written before are kept: {failed}"
    );
    assert!(disk.path().join("big.bin.part").exists());

    disk.resize("16m");
    daemon.result("download.resume", json!({"gid": gid})).await;
    let seen = ws
        .notifications_until(Duration::from_secs(30), |n| {
            n["method"] == "download.error" || n["method"] == "download.complete"
        })
        .await;
    let started = seen
        .iter()
        .find(|n| n["method"] == "download.started")
        .expect("a start");
    assert_eq!(started["params"]["resumed"], true, "{started}");
    assert_eq!(
        seen.last().unwrap()["method"],
        "download.complete",
        "{seen:#?}"
    );
    assert_eq!(sha256_file(&disk.path().join("big.bin")), sha256(&data));
}
