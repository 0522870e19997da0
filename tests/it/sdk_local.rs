//! Finding the local daemon (`haul::client::local`, behind
//! `Client::connect_local`) against a real daemon: its URL and the token
//! file it wrote in its state directory, found by the XDG rules. The
//! environment is given to `Local::find_with`, since changing this test
//! process's own would race the other tests; the CLI tests
//! (`cli::the_cli_finds_the_token_*`) run the same code with a real one.

use crate::support;

use std::collections::HashMap;
use std::ffi::OsString;

use haul::client::local::Local;
use haul::{Client, ClientError};
use support::daemon::Daemon;

fn find(vars: &[(&str, &dyn AsRef<std::ffi::OsStr>)]) -> Result<Local, ClientError> {
    let vars: HashMap<&str, OsString> = vars
        .iter()
        .map(|(name, value)| (*name, value.as_ref().to_owned()))
        .collect();
    Local::find_with(|name| vars.get(name).cloned())
}

/// Calls the daemon found, to prove URL and token are the daemon's.
async fn version(local: &Local) -> String {
    let client = Client::connect(&local.url, &local.token).await.unwrap();
    client.system_get_version().await.unwrap().version
}

#[tokio::test]
async fn the_token_is_found_in_the_xdg_state_directory_then_under_home() {
    let dirs = tempfile::tempdir().unwrap();
    let xdg = dirs.path().join("xdg");
    let daemon = Daemon::start_at(&dirs.path().join("dl"), &xdg.join("haul"), &[]).await;
    let url = daemon.url();
    let local = find(&[("HAUL_URL", &url), ("XDG_STATE_HOME", &xdg)]).unwrap();
    assert_eq!(
        (local.url.as_str(), local.token.as_str()),
        (url.as_str(), daemon.token.as_str())
    );
    assert_eq!(version(&local).await, env!("CARGO_PKG_VERSION"));

    let home = dirs.path().join("home");
    let daemon = Daemon::start_at(
        &dirs.path().join("dl2"),
        &home.join(".local/state/haul"),
        &[],
    )
    .await;
    let url = daemon.url();
    let local = find(&[("HAUL_URL", &url), ("HOME", &home)]).unwrap();
    assert_eq!(local.token, daemon.token);
    assert_eq!(version(&local).await, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn haul_rpc_secret_wins_over_the_token_file() {
    let daemon = Daemon::start_with(&["--rpc-secret", "correct-horse-battery"]).await;
    let (url, state) = (daemon.url(), daemon.state.clone());
    let local = find(&[
        ("HAUL_URL", &url),
        ("HAUL_RPC_SECRET", &"correct-horse-battery"),
        ("HAUL_STATE_DIR", &state),
    ])
    .unwrap();
    assert_eq!(version(&local).await, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn without_a_token_the_error_names_where_it_looked() {
    let daemon = Daemon::start_with(&["--rpc-secret", "correct-horse-battery"]).await;
    let empty = tempfile::tempdir().unwrap();
    let error = find(&[
        ("HAUL_URL", &daemon.url()),
        ("XDG_STATE_HOME", &empty.path()),
    ])
    .unwrap_err();
    let file = empty.path().join("haul/rpc-secret");
    assert!(
        matches!(&error, ClientError::NoToken { file: Some(f) } if *f == file),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "no daemon token: HAUL_RPC_SECRET is not set and there is no {}\n\
             hint: start the daemon (`haul daemon`), which writes that file; or set \
             HAUL_RPC_SECRET to the daemon's --rpc-secret, or HAUL_STATE_DIR to its --state-dir",
            file.display()
        )
    );
}

#[tokio::test]
async fn a_token_file_others_can_read_is_refused_before_it_is_sent() {
    use std::os::unix::fs::PermissionsExt;
    let daemon = Daemon::start().await;
    let file = daemon.state.join("rpc-secret");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let error = find(&[
        ("HAUL_URL", &daemon.url()),
        ("HAUL_STATE_DIR", &daemon.state),
    ])
    .unwrap_err();
    assert!(matches!(error, ClientError::TokenFile(_)), "{error:?}");
    let shown = file.display();
    assert_eq!(
        error.to_string(),
        format!("the daemon token {shown} is readable by other users (mode 640)\nhint: chmod 600 {shown}")
    );
}
