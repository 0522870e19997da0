//! The API on a unix socket (`--listen unix:PATH`) and on sockets systemd
//! passes (socket activation): the same calls and notifications as on the
//! TCP port, for the SDK and the CLI, with the socket file's mode choosing
//! who may connect.
#![cfg(feature = "server")]

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use support::daemon::Daemon;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// `system.getVersion` over HTTP/1.1 on the socket at `path`, by hand:
/// the status line and the body.
async fn raw_call(path: &Path, token: &str) -> (String, String) {
    let mut stream = tokio::net::UnixStream::connect(path).await.unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"system.getVersion"}"#;
    let request = format!(
        "POST /jsonrpc HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[tokio::test]
async fn the_api_is_served_on_a_unix_socket_that_only_the_daemons_group_may_use() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("haul.sock");
    let listen = format!("unix:{}", socket.display());
    let daemon = Daemon::start_with(&["--listen", &listen]).await;
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);

    let (status, body) = raw_call(&socket, &daemon.token).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains(r#""result":{"version""#), "{body}");
    // A token is needed on the socket too.
    let (status, _) = raw_call(&socket, "wrong-token-0123456789").await;
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");

    let client = haul::Client::connect(&listen, &daemon.token).await.unwrap();
    support::sdk_calls_and_events(&client).await;

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["ls", "--json", "--url", &listen])
        .env("HAUL_STATE_DIR", &daemon.state)
        .env_remove("HAUL_RPC_SECRET")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The socket file goes with the daemon.
    daemon.stop().await;
    assert!(!socket.exists());
}

#[tokio::test]
async fn a_socket_file_left_by_a_dead_daemon_is_replaced_and_a_served_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("haul.sock");
    let listen = format!("unix:{}", socket.display());
    // Bound and closed without removing its file: what a SIGKILL leaves.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let daemon = Daemon::start_with(&["--listen", &listen]).await;
    assert_eq!(raw_call(&socket, &daemon.token).await.0, "HTTP/1.1 200 OK");

    let state = tempfile::tempdir().unwrap();
    let second = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["daemon", "--listen", &listen, "--state-dir"])
        .arg(state.path())
        .arg("--dir")
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success()
            && stderr.contains(&format!("cannot listen on {listen}"))
            && stderr.contains("another process serves"),
        "{stderr}"
    );
    // The first daemon still serves it.
    assert_eq!(raw_call(&socket, &daemon.token).await.0, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn the_sockets_systemd_passes_are_served_instead_of_the_listen_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("activated.sock");
    let state = dir.path().join("state");
    let token = "activation-secret-0123456789";
    // systemd's own tool when the machine has it; else what it does: the
    // socket as fd 3, LISTEN_FDS=1, LISTEN_PID the daemon's (the shell's,
    // which exec keeps).
    let haul = env!("CARGO_BIN_EXE_haul");
    // What a unit passes for a start without its socket unit: not used.
    let ignored = dir.path().join("ignored.sock");
    let daemon_args = [
        "daemon".to_owned(),
        "--listen".to_owned(),
        format!("unix:{}", ignored.display()),
        "--state-dir".to_owned(),
        state.display().to_string(),
        "--dir".to_owned(),
        dir.path().display().to_string(),
    ];
    let mut command;
    if which("systemd-socket-activate") {
        command = tokio::process::Command::new("systemd-socket-activate");
        // It hands the daemon only the environment it is told to.
        command
            .arg("--listen")
            .arg(&socket)
            .args([
                "-E",
                &format!("HAUL_RPC_SECRET={token}"),
                "-E",
                "HAUL_LOG=warn",
            ])
            .arg(haul)
            .args(daemon_args);
    } else {
        use std::os::fd::AsRawFd;
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        command = tokio::process::Command::new("sh");
        command
            .args(["-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"", haul])
            .args(daemon_args);
        let fd = listener.as_raw_fd();
        // SAFETY: dup2 is async-signal-safe; the listener outlives the spawn.
        unsafe {
            command.pre_exec(move || match libc::dup2(fd, 3) {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            });
        }
        std::mem::forget(listener);
    }
    let mut child = command
        .env("HAUL_RPC_SECRET", token)
        .env("HAUL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // systemd-socket-activate starts the daemon at the first connection.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(tokio::time::Instant::now() < deadline, "no socket");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = raw_call(&socket, token).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    assert_eq!(
        line,
        format!(
            "haul daemon listening on unix:{} (HTTP and WebSocket)",
            socket.display()
        )
    );
    // Nothing else: no default TCP port beside the passed socket.
    let next = tokio::time::timeout(Duration::from_millis(500), lines.next_line()).await;
    assert!(next.is_err(), "another listener: {next:?}");
    assert!(!ignored.exists());
    let client = haul::Client::connect(&format!("unix:{}", socket.display()), token)
        .await
        .unwrap();
    client.system_get_version().await.unwrap();
    child.kill().await.unwrap();
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
