//! A slow disk stalls only the calls that wait for it: file-system work
//! runs off the threads that serve connections and off the registry lock.
//! The download root is a FUSE file system (tests/it/support/slowfs.py, with
//! Debian's python3-fusepy) on which making or deleting a directory or file
//! named "slow…" takes seconds; the daemon serves all connections on one
//! thread, so a blocking call there would stall every other connection.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::json;
use support::daemon::Daemon;
use support::{random_bytes, Resource, TestServer};

const DELAY_SECS: f64 = 3.0;

/// The slow file system, unmounted when dropped.
struct SlowFs {
    mount: PathBuf,
    child: Child,
    _dirs: tempfile::TempDir,
}

impl SlowFs {
    /// `None` (after saying why) where FUSE is not available.
    fn mount() -> Option<SlowFs> {
        if !Path::new("/dev/fuse").exists() {
            eprintln!("skipped: no /dev/fuse on this machine");
            return None;
        }
        let dirs = tempfile::tempdir().expect("a temporary directory");
        let (backing, mount) = (dirs.path().join("backing"), dirs.path().join("mount"));
        std::fs::create_dir_all(&backing).unwrap();
        std::fs::create_dir_all(&mount).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/slowfs.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(&backing)
            .arg(&mount)
            .arg(DELAY_SECS.to_string())
            .spawn()
            .expect("python3 runs");
        let fs = SlowFs {
            mount,
            child,
            _dirs: dirs,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !is_mount(&fs.mount) {
            assert!(
                Instant::now() < deadline,
                "the FUSE file system did not mount (needs Debian's python3-fusepy and fuse3)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(fs)
    }
}

fn is_mount(path: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let path = path.to_string_lossy();
    mounts.lines().any(|l| l.split(' ').nth(1) == Some(&path))
}

impl Drop for SlowFs {
    fn drop(&mut self) {
        let _ = Command::new("fusermount")
            .arg("-uz")
            .arg(&self.mount)
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long `system.getVersion` takes on another connection while `busy`
/// is in flight.
async fn version_while(daemon: &Daemon, busy: impl std::future::Future<Output = ()>) -> Duration {
    let probe = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        daemon.result("system.getVersion", json!({})).await;
        started.elapsed()
    };
    let ((), took) = tokio::join!(busy, probe);
    took
}

#[tokio::test]
async fn a_slow_disk_does_not_stall_the_other_connections() {
    let Some(fs) = SlowFs::mount() else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_at(&fs.mount, state.path(), &["--rpc-threads", "1"]).await;

    // Making the directory takes seconds, on the engine's blocking pool.
    let add = async {
        let started = Instant::now();
        daemon
            .add(json!({"url": "http://127.0.0.1:9/x", "dir": "slow-dir", "paused": true}))
            .await;
        assert!(
            started.elapsed().as_secs_f64() >= DELAY_SECS * 0.9,
            "the disk was slow"
        );
    };
    let took = version_while(&daemon, add).await;
    assert!(
        took < Duration::from_secs(1),
        "getVersion waited {took:?} for the disk"
    );

    // So does deleting a download's file.
    let server =
        TestServer::start([Resource::file("/slow.bin", random_bytes(1 << 20, 3)).rate(64 << 10)])
            .await;
    let gid = daemon.add(json!({"url": server.url("/slow.bin")})).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon.result("download.status", json!({"gid": gid})).await["completedLength"] == 0 {
        assert!(Instant::now() < deadline, "the download never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    daemon.result("download.pause", json!({"gid": gid})).await;
    assert!(fs.mount.join("slow.bin.part").exists());
    let remove = async {
        let started = Instant::now();
        daemon
            .result("download.remove", json!({"gid": gid, "deleteFiles": true}))
            .await;
        assert!(
            started.elapsed().as_secs_f64() >= DELAY_SECS * 0.9,
            "the disk was slow"
        );
    };
    let took = version_while(&daemon, remove).await;
    assert!(
        took < Duration::from_secs(1),
        "getVersion waited {took:?} for the disk"
    );
    assert!(!fs.mount.join("slow.bin.part").exists());
}
