//! Scoped tokens, every way in: each method of the document × each scope
//! (read, control, admin) × both transports (HTTP, WebSocket) × no token, a
//! wrong one, a revoked one and the right one. A call either runs (whatever
//! it answers) or is refused with `Forbidden` naming the scope it needs; a
//! request without a valid token never gets past 401. Zero bypasses.
#![cfg(feature = "server")]

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::Daemon;

const SCOPES: [&str; 3] = ["read", "control", "admin"];

fn rank(scope: &str) -> usize {
    SCOPES.iter().position(|s| *s == scope).unwrap()
}

/// Each method's name, its first example's params, and the scope those
/// params need (its `x-scope`, raised by a param's).
fn methods() -> Vec<(String, Value, String)> {
    let doc: Value = serde_json::from_str(haul::api::OPENRPC_JSON).unwrap();
    let mut methods = Vec::new();
    for method in doc["methods"].as_array().unwrap() {
        if method.get("x-notification").is_some() {
            continue;
        }
        let name = method["name"].as_str().unwrap().to_owned();
        let example = &method["examples"][0]["params"];
        let params: serde_json::Map<String, Value> = example
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_owned(), p["value"].clone()))
            .collect();
        let mut needed = method["x-scope"].as_str().unwrap().to_owned();
        for param in method["params"].as_array().unwrap() {
            if let Some(raise) = param.get("x-scope") {
                let given = params.get(param["name"].as_str().unwrap());
                let raised = raise["scope"].as_str().unwrap();
                if given == Some(&raise["when"]) && rank(raised) > rank(&needed) {
                    needed = raised.to_owned();
                }
            }
        }
        methods.push((name, Value::Object(params), needed));
    }
    methods
}

/// A named token of each scope, and one of each made and revoked.
async fn tokens(daemon: &Daemon) -> (Vec<(String, String)>, Vec<String>) {
    let mut right = Vec::new();
    let mut revoked = Vec::new();
    for scope in SCOPES {
        let made = daemon
            .result(
                "token.add",
                json!({"name": format!("{scope}-1"), "scope": scope}),
            )
            .await;
        right.push((scope.to_owned(), made["token"].as_str().unwrap().to_owned()));
        let gone = daemon
            .result(
                "token.add",
                json!({"name": format!("{scope}-gone"), "scope": scope}),
            )
            .await;
        daemon
            .result("token.remove", json!({"name": format!("{scope}-gone")}))
            .await;
        revoked.push(gone["token"].as_str().unwrap().to_owned());
    }
    (right, revoked)
}

/// Whether the answer to a call with a `scope` token is right for a call
/// that needs `needed`: Forbidden with both scopes named when it is beyond
/// the token, anything else when it is not. Returns the bypass, if any.
fn judge(method: &str, scope: &str, needed: &str, answer: &Value) -> Option<String> {
    let forbidden = answer["error"]["code"] == json!(-32016);
    match rank(scope) >= rank(needed) {
        true if forbidden => Some(format!(
            "{method} with a {scope} token was refused: {answer}"
        )),
        false if !forbidden => Some(format!(
            "{method} (needs {needed}) ran with a {scope} token: {answer}"
        )),
        false
            if answer["error"]["data"] != json!({"requiredScope": needed, "tokenScope": scope}) =>
        {
            Some(format!("{method}: Forbidden without the scopes: {answer}"))
        }
        _ => None,
    }
}

#[tokio::test]
async fn every_method_is_refused_beyond_its_tokens_scope_on_both_transports_with_no_bypass() {
    let daemon = Daemon::start().await;
    let (right, revoked) = tokens(&daemon).await;
    let methods = methods();
    let mut bypasses = Vec::new();
    let mut checked = 0;

    // HTTP. Per method: the three refusals first, then the right tokens,
    // whose success forgives them (three failures in a row are free).
    for (method, params, needed) in &methods {
        let body =
            json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string();
        let revoked = format!("Bearer {}", revoked[rank(needed).min(2)]);
        for headers in [
            vec![],
            vec![("authorization", "Bearer wrong-token-0123456789")],
            vec![("authorization", revoked.as_str())],
        ] {
            let (status, text) = daemon.post_with(&headers, &body).await;
            checked += 1;
            if status != 401 || !text.contains("-32000") {
                bypasses.push(format!(
                    "{method} over HTTP with {headers:?}: {status} {text}"
                ));
            }
        }
        for (scope, token) in &right {
            let bearer = format!("Bearer {token}");
            let (status, text) = daemon.post_with(&[("authorization", &bearer)], &body).await;
            checked += 1;
            let answer: Value = serde_json::from_str(&text).unwrap_or(json!({ "status": status }));
            bypasses.extend(judge(method, scope, needed, &answer));
        }
    }

    // WebSocket: the upgrade itself is refused without a valid token...
    for bad in ["wrong-token-0123456789", revoked[0].as_str()] {
        let bearer = format!("Bearer {bad}");
        let refused = daemon.ws_with(&[("authorization", &bearer)]).await;
        checked += 1;
        if !matches!(refused, Err((401, _))) {
            bypasses.push(format!("a WebSocket opened with {bad}"));
        }
    }
    checked += 1;
    if !matches!(daemon.ws_with(&[]).await, Err((401, _))) {
        bypasses.push("a WebSocket opened without a token".into());
    }
    // ...and on an open one, each call is held to its token's scope.
    for (scope, token) in &right {
        let bearer = format!("Bearer {token}");
        let mut ws = daemon
            .ws_with(&[("authorization", &bearer)])
            .await
            .unwrap_or_else(|e| panic!("a {scope} token's WebSocket: {e:?}"));
        let mut seen = Vec::new();
        for (i, (method, params, needed)) in methods.iter().enumerate() {
            let request =
                json!({"jsonrpc": "2.0", "id": i + 1, "method": method, "params": params});
            let answer = ws.call(&request.to_string(), &mut seen).await;
            checked += 1;
            bypasses.extend(judge(method, scope, needed, &answer));
        }
    }

    let expected = methods.len() * 6 + 3 + methods.len() * 3;
    assert_eq!(checked, expected);
    assert!(
        bypasses.is_empty(),
        "{} of {checked} checks failed:\n{}",
        bypasses.len(),
        bypasses.join("\n")
    );
    eprintln!(
        "auth matrix: {checked} checks over {} methods, 0 bypasses",
        methods.len()
    );
}

#[tokio::test]
async fn batches_and_notifications_are_held_to_the_scope_too() {
    let daemon = Daemon::start().await;
    let (right, _) = tokens(&daemon).await;
    let bearer = format!("Bearer {}", right[0].1);
    let add = json!({"url": "http://127.0.0.1:9/f", "paused": true});
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "system.getVersion"},
        {"jsonrpc": "2.0", "id": 2, "method": "download.add", "params": add},
        // A notification: no answer either way, and it must not run.
        {"jsonrpc": "2.0", "method": "download.add", "params": add},
    ]);
    let (status, text) = daemon
        .post_with(&[("authorization", &bearer)], batch.to_string())
        .await;
    assert_eq!(status, 200);
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 2, "{text}");
    assert!(answers[0]["result"]["version"].is_string(), "{text}");
    insta::assert_json_snapshot!("forbidden_in_a_batch", answers[1]);
    let single = json!({"jsonrpc": "2.0", "method": "download.add", "params": add});
    let (status, _) = daemon
        .post_with(&[("authorization", &bearer)], single.to_string())
        .await;
    assert_eq!(status, 204);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let list = daemon.result("download.list", json!({})).await;
    assert_eq!(list["downloads"], json!([]), "nothing was added");
}

#[tokio::test]
async fn a_read_tokens_websocket_receives_notifications_and_a_revoked_tokens_is_closed() {
    let daemon = Daemon::start().await;
    let made = daemon
        .result("token.add", json!({"name": "watcher", "scope": "read"}))
        .await;
    let bearer = format!("Bearer {}", made["token"].as_str().unwrap());
    let mut ws = daemon.ws_with(&[("authorization", &bearer)]).await.unwrap();
    let gid = daemon
        .add(json!({"url": "http://127.0.0.1:9/f", "paused": true}))
        .await;
    daemon.result("download.remove", json!({"gid": gid})).await;
    ws.notifications_until(Duration::from_secs(10), |n| {
        n["method"] == "download.removed" && n["params"]["gid"] == json!(gid)
    })
    .await;

    daemon
        .result("token.remove", json!({"name": "watcher"}))
        .await;
    let (_, closed) = ws.drain_until_closed(Duration::from_secs(5)).await;
    assert!(closed, "the revoked token's WebSocket stays open");
    let (status, _) = daemon
        .post_with(
            &[("authorization", &bearer)],
            r#"{"jsonrpc":"2.0","id":1,"method":"system.getVersion"}"#,
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_token_removed_offline_is_refused_by_the_running_daemon_at_once() {
    let daemon = Daemon::start().await;
    let haul = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_haul"))
            .args(args)
            .args(["--offline", "--state-dir"])
            .arg(&daemon.state)
            .env_remove("HAUL_RPC_SECRET")
            .output()
            .unwrap()
    };
    let added = haul(&["token", "add", "ci", "--scope", "control"]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let token = String::from_utf8(added.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("haul_") && token.len() == 69, "{token}");
    let bearer = format!("Bearer {token}");
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"download.list","params":{}}"#;
    assert_eq!(
        daemon
            .post_with(&[("authorization", &bearer)], call)
            .await
            .0,
        200
    );

    let listed = haul(&["token", "ls", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["tokens"][0]["name"], "ci");
    assert_eq!(listed["tokens"][0]["scope"], "control");
    let stored = std::fs::read_to_string(daemon.state.join("tokens.json")).unwrap();
    assert!(!stored.contains(&token), "the secret is not stored");
    for file in ["tokens.json", "tokens.lock"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(daemon.state.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }

    assert!(haul(&["token", "rm", "ci"]).status.success());
    assert_eq!(
        daemon
            .post_with(&[("authorization", &bearer)], call)
            .await
            .0,
        401
    );
}
