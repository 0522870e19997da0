//! The `haul` client commands against a real daemon, as a user runs them.

use crate::support;

use std::process::Output;

use serde_json::Value;
use support::daemon::Daemon;
use support::{random_bytes, sha256, sha256_file, Resource, TestServer};

/// Runs `haul ARGS` against `daemon` (found through the environment, as a
/// user's shell would) and returns its output.
async fn haul(daemon: &Daemon, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(args)
        .env("HAUL_URL", daemon.url())
        .env("HAUL_STATE_DIR", &daemon.state)
        .env_remove("HAUL_RPC_SECRET")
        .output()
        .await
        .expect("haul runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn add_wait_downloads_and_exits_zero_after_the_last_completes() {
    let (a, b) = (random_bytes(700_000, 6), random_bytes(300_000, 7));
    let server = TestServer::start([
        Resource::file("/a.bin", a.clone()),
        Resource::file("/b.bin", b.clone()),
    ])
    .await;
    let daemon = Daemon::start().await;
    let output = haul(
        &daemon,
        &[
            "add",
            "--wait",
            "-x",
            "2",
            &server.url("/a.bin"),
            &server.url("/b.bin"),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("complete ")).count(),
        2,
        "{text}"
    );
    assert_eq!(sha256_file(&daemon.root().join("a.bin")), sha256(&a));
    assert_eq!(sha256_file(&daemon.root().join("b.bin")), sha256(&b));
}

#[tokio::test]
async fn add_wait_fails_naming_the_download_that_failed() {
    let server = TestServer::start([Resource::file("/missing", vec![]).fail_first(404, 100)]).await;
    let daemon = Daemon::start().await;
    let output = haul(&daemon, &["add", "--wait", &server.url("/missing")]).await;
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(
        error.starts_with("error: 1 of 1 downloads failed:"),
        "{error}"
    );
    assert!(
        error.contains("404") && error.contains("(http-status)"),
        "{error}"
    );
}

#[tokio::test]
async fn ls_status_pause_resume_and_rm_manage_downloads() {
    // Slow, so that the resumed download is still running when it is
    // paused (one to a closed port failed first on a loaded machine).
    let server =
        TestServer::start([Resource::file("/one.iso", random_bytes(1 << 20, 1)).rate(64 << 10)])
            .await;
    let daemon = Daemon::start().await;
    let url = server.url("/one.iso");
    let added = haul(&daemon, &["add", "--paused", "--json", &url]).await;
    assert!(added.status.success(), "{}", stderr(&added));
    let added: Value = serde_json::from_slice(&added.stdout).unwrap();
    let gid = added[0]["gid"].as_str().unwrap().to_owned();

    let table = stdout(&haul(&daemon, &["ls"]).await);
    let mut lines = table.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["GID", "STATE", "PROGRESS", "SPEED", "ETA", "NAME"]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!((row[0], row[1]), (gid.as_str(), "paused"));

    let listed: Value = serde_json::from_slice(
        &haul(&daemon, &["ls", "--json", "--state", "paused"])
            .await
            .stdout,
    )
    .unwrap();
    assert_eq!(listed["total"], 1);
    let status = stdout(&haul(&daemon, &["status", &gid]).await);
    assert!(
        status.contains(&format!("gid         {gid}")) && status.contains("state       paused"),
        "{status}"
    );

    let resumed = haul(&daemon, &["resume", &gid]).await;
    assert_eq!(stdout(&resumed), format!("resumed {gid}\n"));
    let paused = haul(&daemon, &["pause", &gid, "0123456789abcdef"]).await;
    assert!(!paused.status.success(), "one of the two does not exist");
    assert_eq!(stdout(&paused), format!("paused {gid}\n"));
    assert!(
        stderr(&paused).contains("0123456789abcdef: Download not found"),
        "{}",
        stderr(&paused)
    );

    let removed = haul(&daemon, &["rm", "--delete-files", &gid]).await;
    assert!(removed.status.success());
    let listed = stdout(&haul(&daemon, &["ls", "--json"]).await);
    assert!(!listed.contains(&gid), "{listed}");
}

#[tokio::test]
async fn a_missing_daemon_is_named_with_what_to_do() {
    let daemon = Daemon::start().await;
    let url = daemon.url();
    let state = daemon.state.clone();
    let addr = daemon.addr.clone();
    assert!(daemon.stop().await.success());
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["ls"])
        .env("HAUL_URL", &url)
        .env("HAUL_STATE_DIR", &state)
        .env_remove("HAUL_RPC_SECRET")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!("error: daemon not running at {addr}: start it with `haul daemon`\n")
    );
}

/// Runs `haul ls --json` with exactly these variables of the locating kind
/// (`HAUL_*`, `XDG_STATE_HOME`, `HOME`), as a user's fresh shell would.
async fn ls_with(vars: &[(&str, &std::path::Path)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"));
    command.args(["ls", "--json"]);
    for name in [
        "HAUL_URL",
        "HAUL_RPC_SECRET",
        "HAUL_STATE_DIR",
        "XDG_STATE_HOME",
        "HOME",
    ] {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied());
    command.output().await.expect("haul runs")
}

#[tokio::test]
async fn the_cli_finds_the_token_in_the_xdg_state_directory() {
    let dirs = tempfile::tempdir().unwrap();
    let xdg = dirs.path().join("xdg");
    let daemon = Daemon::start_at(&dirs.path().join("dl"), &xdg.join("haul"), &[]).await;
    let gid = daemon
        .add(serde_json::json!({"url": "http://127.0.0.1:9/f", "paused": true}))
        .await;
    let url = daemon.url();
    let output = ls_with(&[("HAUL_URL", url.as_ref()), ("XDG_STATE_HOME", &xdg)]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(&gid), "{}", stdout(&output));
}

#[tokio::test]
async fn the_cli_without_a_token_file_says_where_it_looked() {
    let daemon = Daemon::start_with(&["--rpc-secret", "correct-horse-battery"]).await;
    let home = tempfile::tempdir().unwrap();
    let url = daemon.url();
    let output = ls_with(&[("HAUL_URL", url.as_ref()), ("HOME", home.path())]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: no daemon token at {}\nhint: pass --rpc-secret, or the --state-dir of the daemon at {}\n",
            home.path().join(".local/state/haul/rpc-secret").display(),
            daemon.addr
        )
    );
}

#[tokio::test]
async fn version_reports_both_sides_and_completions_are_generated() {
    let daemon = Daemon::start().await;
    let version = stdout(&haul(&daemon, &["version"]).await);
    assert!(
        version.starts_with(&format!(
            "haul {}\ndaemon {}",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_PKG_VERSION")
        )),
        "{version}"
    );
    let completions = haul(&daemon, &["completions", "bash"]).await;
    assert!(completions.status.success() && stdout(&completions).contains("_haul()"));
}
