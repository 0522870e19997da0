//! The auth matrix: each transport × {no token, wrong token, right token by
//! header, right token by subprotocol} × {no Origin, foreign Origin}, plus
//! the Host check and the token file.

use crate::support;

use std::time::Duration;

use support::daemon::Daemon;

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"system.getStats"}"#;
const UNAUTHORIZED: &str =
    r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Unauthorized"}}"#;
const FOREIGN: &str = "http://evil.example";

/// How a request presents its token.
#[derive(Debug, Clone, Copy)]
enum Credential {
    Nothing,
    WrongBearer,
    Bearer,
    Subprotocol,
}

fn headers(daemon: &Daemon, credential: Credential, origin: Option<&str>) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    match credential {
        Credential::Nothing => {}
        Credential::WrongBearer => {
            headers.push(("authorization".into(), format!("Bearer {}x", daemon.token)))
        }
        Credential::Bearer => {
            headers.push(("authorization".into(), format!("Bearer {}", daemon.token)))
        }
        Credential::Subprotocol => headers.push((
            "sec-websocket-protocol".into(),
            format!("haul.jsonrpc, haul.bearer.{}", daemon.token),
        )),
    }
    if let Some(origin) = origin {
        headers.push(("origin".into(), origin.into()));
    }
    headers
}

fn borrowed(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

#[tokio::test]
async fn http_answers_only_the_bearer_token_from_an_allowed_origin() {
    let daemon = Daemon::start().await;
    use Credential::*;
    for (credential, origin, expected) in [
        (Nothing, None, 401),
        (WrongBearer, None, 401),
        (Bearer, None, 200),
        (Subprotocol, None, 401), // plain HTTP has no subprotocols
        (Nothing, Some(FOREIGN), 403),
        (WrongBearer, Some(FOREIGN), 403),
        (Bearer, Some(FOREIGN), 403),
        (Subprotocol, Some(FOREIGN), 403),
    ] {
        let headers = headers(&daemon, credential, origin);
        let (status, body) = daemon.post_with(&borrowed(&headers), CALL).await;
        assert_eq!(status, expected, "{credential:?} from {origin:?}: {body}");
        match status {
            401 => assert_eq!(body, UNAUTHORIZED),
            403 => assert!(
                body.starts_with("origin `http://evil.example` is not allowed"),
                "{body}"
            ),
            _ => assert!(body.contains(r#""result":{"active":0"#), "{body}"),
        }
    }
}

#[tokio::test]
async fn websocket_upgrades_only_with_the_token_by_header_or_subprotocol_from_an_allowed_origin() {
    let daemon = Daemon::start().await;
    use Credential::*;
    for (credential, origin, expected) in [
        (Nothing, None, Err(401)),
        (WrongBearer, None, Err(401)),
        (Bearer, None, Ok(None)),
        (Subprotocol, None, Ok(Some("haul.jsonrpc"))),
        (Nothing, Some(FOREIGN), Err(403)),
        (WrongBearer, Some(FOREIGN), Err(403)),
        (Bearer, Some(FOREIGN), Err(403)),
        (Subprotocol, Some(FOREIGN), Err(403)),
    ] {
        let headers = headers(&daemon, credential, origin);
        match (daemon.ws_with(&borrowed(&headers)).await, expected) {
            (Ok(mut ws), Ok(protocol)) => {
                assert_eq!(
                    ws.protocol.as_deref(),
                    protocol,
                    "{credential:?}: the accepted protocol is echoed"
                );
                let response = ws.call(CALL, &mut Vec::new()).await;
                assert_eq!(response["result"]["active"], 0, "{credential:?}");
            }
            (Err((status, body)), Err(expected_status)) => {
                assert_eq!(status, expected_status, "{credential:?} from {origin:?}");
                if status == 401 {
                    assert_eq!(
                        body, UNAUTHORIZED,
                        "refused before the upgrade, with a JSON-RPC body"
                    );
                }
            }
            (Ok(_), Err(s)) => panic!("{credential:?} from {origin:?}: upgraded, expected {s}"),
            (Err((s, body)), Ok(_)) => {
                panic!("{credential:?} from {origin:?}: refused with {s}: {body}")
            }
        }
    }
}

#[tokio::test]
async fn allowed_and_same_origin_pages_may_call() {
    let daemon = Daemon::start_with(&["--allow-origin", "http://localhost:3000"]).await;
    let bearer = format!("Bearer {}", daemon.token);
    let own = format!("http://{}", daemon.addr);
    for origin in ["http://localhost:3000", own.as_str()] {
        let (status, body) = daemon
            .post_with(&[("authorization", &bearer), ("origin", origin)], CALL)
            .await;
        assert_eq!(status, 200, "{origin}: {body}");
    }
    let (status, _) = daemon
        .post_with(
            &[
                ("authorization", &bearer),
                ("origin", "http://localhost:3001"),
            ],
            CALL,
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_loopback_daemon_refuses_foreign_host_names() {
    let daemon = Daemon::start().await;
    let bearer = format!("Bearer {}", daemon.token);
    let (status, body) = daemon
        .post_with(
            &[("authorization", &bearer), ("host", "rebound.example")],
            CALL,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body,
        "host `rebound.example` is not a loopback name: this daemon only answers to localhost\n"
    );
    let port = daemon.addr.rsplit(':').next().unwrap();
    let (status, _) = daemon
        .post_with(
            &[
                ("authorization", &bearer),
                ("host", &format!("localhost:{port}")),
            ],
            CALL,
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_unauthenticated_socket_never_receives_a_notification() {
    // It is refused before the upgrade, so there is no socket to push to;
    // an authenticated one on the same daemon does receive them.
    let daemon = Daemon::start().await;
    assert_eq!(daemon.ws_with(&[]).await.err().map(|e| e.0), Some(401));
    let mut ws = daemon.ws().await;
    daemon
        .result(
            "download.add",
            serde_json::json!({"url": "http://127.0.0.1:9/x", "paused": true}),
        )
        .await;
    let gid =
        daemon.result("download.list", serde_json::json!({})).await["downloads"][0]["gid"].clone();
    daemon
        .result("download.remove", serde_json::json!({"gid": gid}))
        .await;
    let seen = ws
        .notifications_until(Duration::from_secs(5), |n| {
            n["method"] == "download.removed"
        })
        .await;
    assert_eq!(seen.last().unwrap()["params"]["gid"], gid);
}

#[tokio::test]
async fn parallel_guesses_are_locked_out_while_a_right_token_from_elsewhere_is_served_promptly() {
    let daemon = Daemon::start().await;
    // 200 wrong tokens at once from 127.0.0.1: past three free tries, each
    // failure locks the address out, and the tries meanwhile are refused
    // unchecked, at once, with Retry-After.
    let http = reqwest::Client::new();
    let guesses = (0..200).map(|i| {
        let request = http
            .post(daemon.url())
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer guess-{i}"))
            .body(CALL);
        async move { request.send().await.expect("an answer") }
    });
    let started = std::time::Instant::now();
    let answers = futures::future::join_all(guesses).await;
    let guessing_took = started.elapsed();
    assert!(answers.iter().all(|a| a.status() == 401));
    let locked = answers
        .iter()
        .filter(|a| a.headers().contains_key("retry-after"))
        .count();
    assert!(locked >= 190, "only {locked} of 200 were locked out");
    assert!(
        guessing_took < Duration::from_secs(5),
        "no connection waits: {guessing_took:?}"
    );
    // Guessing on until the lockout is long (over a second left; a loaded
    // machine may have let the burst's short one pass), the right token
    // from that address waits its turn too.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "never locked out for long"
        );
        let answer = http
            .post(daemon.url())
            .header("content-type", "application/json")
            .header("authorization", "Bearer guess-again")
            .body(CALL)
            .send()
            .await
            .unwrap();
        let left = answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        match left {
            Some(seconds) if seconds >= 2 => break,
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => {}
        }
    }
    let (status, _) = daemon
        .post_with(
            &[("authorization", &format!("Bearer {}", daemon.token))],
            CALL,
        )
        .await;
    assert_eq!(status, 401);
    // Another address is not: 127.0.0.2 is this machine too.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let answer = elsewhere
        .post(daemon.url())
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", daemon.token))
        .body(CALL)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_mistyped_token_costs_nothing_but_repeated_ones_lock_the_address_out() {
    let daemon = Daemon::start().await;
    let wrong = [("authorization", "Bearer wrong")];
    for _ in 0..3 {
        let response = daemon.post_with(&wrong, CALL).await;
        assert_eq!(response.0, 401);
    }
    // Free tries: the right token is served at once.
    assert_eq!(daemon.post(CALL).await.0, 200);
    for _ in 0..4 {
        daemon.post_with(&wrong, CALL).await;
    }
    assert_eq!(
        daemon.post(CALL).await.0,
        401,
        "locked out, token unchecked"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(daemon.post(CALL).await.0, 200, "the lockout passed");
}

#[tokio::test]
async fn the_generated_token_is_stored_for_the_owner_only_and_a_given_one_replaces_it() {
    use std::os::unix::fs::PermissionsExt;
    let daemon = Daemon::start().await;
    let path = daemon.state.join("rpc-secret");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(daemon.token.len(), 64);
    let given = Daemon::start_with(&["--rpc-secret", "correct-horse-battery"]).await;
    let (status, _) = given
        .post_with(&[("authorization", "Bearer correct-horse-battery")], CALL)
        .await;
    assert_eq!(status, 200);
}

/// Runs `haul daemon` with `flags` until it exits (it must refuse to start).
async fn refused(flags: &[&str]) -> String {
    let dirs = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["daemon", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dirs.path().join("dl"))
        .arg("--state-dir")
        .arg(dirs.path().join("state"))
        .args(flags)
        .env_remove("HAUL_RPC_SECRET")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_secret_file_gives_the_token_and_a_short_or_exposed_secret_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "a-secret-from-a-file-0123\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let daemon = Daemon::start_with(&["--rpc-secret-file", file.to_str().unwrap()]).await;
    let (status, _) = daemon
        .post_with(
            &[("authorization", "Bearer a-secret-from-a-file-0123")],
            CALL,
        )
        .await;
    assert_eq!(status, 200);

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = refused(&["--rpc-secret-file", file.to_str().unwrap()]).await;
    assert!(
        error.contains("readable by other users (mode 644)") && error.contains("chmod 600"),
        "{error}"
    );
    let error = refused(&["--rpc-secret", "hunter2"]).await;
    assert!(
        error.contains("a secret of 7 bytes is too short") && error.contains("at least 16"),
        "{error}"
    );
    let error = refused(&["--aria2-listen", "127.0.0.1:0", "--aria2-secret", "short"]).await;
    assert!(
        error.contains("invalid --aria2-secret") && error.contains("too short"),
        "{error}"
    );
}

#[tokio::test]
async fn a_secret_on_the_command_line_is_warned_of_but_not_one_in_the_environment() {
    let flag = Daemon::start_watched(&["--rpc-secret", "correct-horse-battery"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        flag.stderr()
            .contains("--rpc-secret on the command line can be read by other users"),
        "{}",
        flag.stderr()
    );
    assert!(!flag.stderr().contains("correct-horse-battery"));
}

#[tokio::test]
async fn the_state_directory_is_made_private_even_when_it_was_there_before() {
    use std::os::unix::fs::PermissionsExt;
    let dirs = tempfile::tempdir().unwrap();
    let state = dirs.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let daemon = Daemon::start_at(&dirs.path().join("dl"), &state, &[]).await;
    // Something is written: the database gets its WAL.
    daemon
        .add(serde_json::json!({"url": "http://127.0.0.1:9/x", "paused": true}))
        .await;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    files.sort();
    assert!(files.iter().any(|f| f.ends_with("-wal")), "{files:?}");
    assert!(files.contains(&"rpc-secret".to_owned()), "{files:?}");
}

#[tokio::test]
async fn the_daemon_logs_where_the_token_is_but_never_the_token() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let dirs = tempfile::tempdir().unwrap();
    let state = dirs.path().join("state");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["daemon", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dirs.path().join("dl"))
        .arg("--state-dir")
        .arg(&state)
        .env("HAUL_LOG", "trace")
        .env_remove("HAUL_RPC_SECRET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = stdout.next_line().await.unwrap().unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let token = std::fs::read_to_string(state.join("rpc-secret"))
        .unwrap()
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    for bearer in [format!("Bearer {token}"), "Bearer wrong".to_owned()] {
        let url = format!("http://{addr}/jsonrpc");
        http.post(url)
            .header("authorization", bearer)
            .header("content-type", "application/json")
            .body(CALL)
            .send()
            .await
            .unwrap();
    }
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(child.wait().await.unwrap().success());
    assert!(
        logs.contains("rpc secret: generated (mode 0600)") && logs.contains("rpc-secret"),
        "{logs}"
    );
    assert!(!logs.contains(&token), "the token appears in the logs");
}

#[tokio::test]
async fn pages_from_allowed_origins_get_cors_answers_and_preflights_need_no_token() {
    let daemon = Daemon::start_with(&["--allow-origin", "http://localhost:3000"]).await;
    let http = reqwest::Client::new();
    let preflight = http
        .request(reqwest::Method::OPTIONS, daemon.url())
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "authorization, content-type"
    );
    let call = http
        .post(daemon.url())
        .header("origin", "http://localhost:3000")
        .header("authorization", format!("Bearer {}", daemon.token))
        .header("content-type", "application/json")
        .body(CALL)
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    assert_eq!(
        call.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let foreign = http
        .request(reqwest::Method::OPTIONS, daemon.url())
        .header("origin", FOREIGN)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn the_subprotocol_is_echoed_when_offered_and_required_with_a_subprotocol_token() {
    let daemon = Daemon::start().await;
    let bearer = format!("Bearer {}", daemon.token);
    let ws = daemon
        .ws_with(&[
            ("authorization", &bearer),
            ("sec-websocket-protocol", "haul.jsonrpc"),
        ])
        .await;
    assert_eq!(
        ws.ok().and_then(|ws| ws.protocol).as_deref(),
        Some("haul.jsonrpc")
    );
    let token_only = format!("haul.bearer.{}", daemon.token);
    let refused = daemon
        .ws_with(&[("sec-websocket-protocol", &token_only)])
        .await
        .err()
        .unwrap();
    assert_eq!(
        refused,
        (
            400,
            "offer the `haul.jsonrpc` subprotocol next to the token's\n".to_owned()
        )
    );
}

#[tokio::test]
async fn a_refused_request_with_a_body_leaves_its_connection_to_the_next_request() {
    use tokio::io::AsyncWriteExt;
    let daemon = Daemon::start().await;
    let mut tcp = tokio::net::TcpStream::connect(&daemon.addr).await.unwrap();
    let request = |token: &str, body: &str| {
        format!(
            "POST /jsonrpc HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            daemon.addr,
            body.len()
        )
    };
    // More than hyper reads in along with the headers.
    let large = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"system.getStats","x":"{}"}}"#,
        "a".repeat(100_000)
    );
    tcp.write_all(request("wrong", &large).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut tcp).await, (401, UNAUTHORIZED.to_owned()));
    // As a keep-alive client does: the next request on the same connection,
    // once the answer is in.
    tcp.write_all(request(&daemon.token, CALL).as_bytes())
        .await
        .unwrap();
    let (status, body) = read_answer(&mut tcp).await;
    assert_eq!(status, 200, "{body}");
}

/// Reads one HTTP/1.1 answer that has a Content-Length: its status and body.
async fn read_answer(tcp: &mut tokio::net::TcpStream) -> (u16, String) {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .and_then(|length| length.parse::<usize>().ok())
                .expect("a content-length");
            if body.len() >= length {
                let status = head[9..12].parse().expect("a status");
                return (status, body[..length].to_owned());
            }
        }
        let mut chunk = [0; 8192];
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk)).await;
        match read {
            Ok(Ok(n)) if n > 0 => data.extend_from_slice(&chunk[..n]),
            other => panic!("the connection ended ({other:?}) after: {text}"),
        }
    }
}

#[tokio::test]
async fn peers_outside_rpc_allow_ip_are_disconnected_on_both_ports_before_a_byte_is_read() {
    let daemon = Daemon::start_with(&[
        "--rpc-allow-ip",
        "127.0.0.2/32",
        "--aria2-listen",
        "127.0.0.1:0",
    ])
    .await;
    let aria2 = daemon.aria2.clone().expect("the aria2 port");
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let call = |client: reqwest::Client, url: String| {
        let token = daemon.token.clone();
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(r#"{"jsonrpc":"2.0","id":1,"method":"system.getVersion"}"#)
                .send()
                .await
                .map(|response| response.status().as_u16())
        }
    };
    let aria2_url = format!("http://{aria2}/jsonrpc");
    assert_eq!(call(from([127, 0, 0, 2]), daemon.url()).await.unwrap(), 200);
    // The aria2 port answers (its calls are aria2's, so this one is not).
    assert_eq!(
        call(from([127, 0, 0, 2]), aria2_url.clone()).await.unwrap(),
        400
    );
    for url in [daemon.url(), aria2_url] {
        let refused = call(from([127, 0, 0, 1]), url.clone()).await.unwrap_err();
        assert!(
            refused.is_connect() || refused.is_request(),
            "{url}: {refused:?}"
        );
    }
}
