//! Crash safety, for real: a child process runs the engine, is killed with
//! SIGKILL mid-download, and the engine reopened on its state directory
//! must finish every file intact, having lost at most about one checkpoint.
#![cfg(feature = "server")]

use crate::support;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use haul::engine::{AddRequest, Engine, EngineConfig, EngineEvent, Gid, State};
use support::*;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
/// Per connection; two connections per download make 1 MiB/s each.
const RATE: u64 = 512 * KIB;
const CHECKPOINT: Duration = Duration::from_millis(500);
const CHILD: &str = "crash::crash_child_downloads_until_killed";
/// Starts the child's report lines (libtest may print on the same line).
const MARK: &str = "crash-report: ";

/// Kills the child however the test ends, so a failure leaves no orphan.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn config(root: PathBuf, state: PathBuf) -> EngineConfig {
    let mut config = test_config(root, Some(state));
    config.max_concurrent = 3;
    config.checkpoint_interval = CHECKPOINT;
    config
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the crash test"))
}

/// The child half: adds the downloads it is told to and prints every gid
/// and progress event until it is killed.
#[tokio::test]
#[ignore = "the child process of a_killed_engine_resumes_every_download_intact; started by it"]
async fn crash_child_downloads_until_killed() {
    let engine = Engine::open(config(
        env("HAUL_CRASH_ROOT").into(),
        env("HAUL_CRASH_STATE").into(),
    ))
    .await
    .expect("open the engine in the child");
    let mut events = engine.subscribe();
    for (i, url) in env("HAUL_CRASH_URLS").split(' ').enumerate() {
        let mut request = AddRequest::new(url);
        request.connections = Some(2);
        // The fourth is added paused; the fifth waits behind three active ones.
        request.paused = i == 3;
        println!(
            "{MARK}gid {i} {}",
            engine.add(request).await.expect("add in the child")
        );
    }
    while let Some(event) = events.recv().await {
        if let EngineEvent::Progress {
            gid,
            completed_length,
            ..
        } = event
        {
            println!("{MARK}progress {gid} {completed_length}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_engine_resumes_every_download_intact() {
    let bodies: Vec<Vec<u8>> = (0..5)
        .map(|i| random_bytes(if i < 3 { 4 * MIB } else { MIB } as usize, 100 + i))
        .collect();
    let server = TestServer::start(
        bodies
            .iter()
            .enumerate()
            .map(|(i, body)| Resource::file(&format!("/f{i}.bin"), body.clone()).rate(RATE)),
    )
    .await;
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let urls: Vec<String> = (0..bodies.len())
        .map(|i| server.url(&format!("/f{i}.bin")))
        .collect();

    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                CHILD,
                "--nocapture",
                "--test-threads=1",
            ])
            .env("HAUL_CRASH_ROOT", root.path())
            .env("HAUL_CRASH_STATE", state.path())
            .env("HAUL_CRASH_URLS", urls.join(" "))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the child"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let Some((_, report)) = line.split_once(MARK) else {
                continue;
            };
            if lines_tx.send(report.to_owned()).is_err() {
                break;
            }
        }
    });

    // Kill once every active download is well under way.
    let mut gids: Vec<Option<Gid>> = vec![None; bodies.len()];
    let mut reported: HashMap<Gid, u64> = HashMap::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.recv())
            .await
            .expect("the child reports progress")
            .expect("the child is alive");
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["gid", i, gid] => gids[i.parse::<usize>().unwrap()] = Some(gid.parse().unwrap()),
            ["progress", gid, done] => {
                reported.insert(gid.parse().unwrap(), done.parse().unwrap());
            }
            _ => continue,
        }
        let under_way = gids[..3]
            .iter()
            .filter(|gid| gid.is_some_and(|g| reported.get(&g).is_some_and(|&n| n > MIB)))
            .count();
        if under_way == 3 {
            break;
        }
    }
    child.0.kill().expect("SIGKILL the child");
    child.0.wait().unwrap();
    // Progress printed after our last read is lost to us, not to the child;
    // read what is left so `reported` is the child's last word.
    while let Ok(line) = lines.try_recv() {
        if let ["progress", gid, done] = line.split(' ').collect::<Vec<_>>().as_slice() {
            reported.insert(gid.parse().unwrap(), done.parse().unwrap());
        }
    }
    let gids: Vec<Gid> = gids
        .into_iter()
        .map(|g| g.expect("the child reported every gid"))
        .collect();

    let engine = Engine::open(config(root.path().to_owned(), state.path().to_owned()))
        .await
        .expect("reopen after the crash");
    // About one checkpoint interval at the download's speed: a second
    // interval of slack absorbs a slow fdatasync on a loaded machine.
    let budget = 2 * RATE * (2 * CHECKPOINT).as_millis() as u64 / 1000;
    for gid in &gids[..3] {
        let status = engine.status(*gid).unwrap();
        assert_eq!(status.state, State::Active, "active downloads resume");
        let lost = reported[gid].saturating_sub(status.completed_length);
        assert!(status.completed_length > 0, "{gid} restarted from zero");
        assert!(
            lost <= budget,
            "{gid} lost {lost} bytes, more than {budget}"
        );
    }
    assert_eq!(
        engine.status(gids[3]).unwrap().state,
        State::Paused,
        "paused stays paused"
    );
    assert_eq!(
        engine.status(gids[4]).unwrap().state,
        State::Queued,
        "queued stays queued"
    );
    engine.resume(gids[3]).await.unwrap();
    for (gid, body) in gids.iter().zip(&bodies) {
        let status = wait_finished(&engine, *gid).await;
        assert_eq!(
            sha256_file(&assert_complete(&status)),
            sha256(body),
            "{gid}"
        );
    }
}
