//! The API page's snippets (`docs/site/index.html`, `docs/api.md`) against
//! a real daemon: every Rust snippet (`docs_snippets`, generated) and every
//! `curl` request is a call the daemon accepts — it answers with a result or
//! an application error (the examples' gid is not there), never with a
//! protocol error (parse error, invalid request or params, unknown method).
//! Downloads go through a proxy that is not there, so the examples' URLs
//! are never fetched.

use crate::docs_snippets;
use crate::support;

use haul::{Client, ClientError};
use serde_json::Value;
use support::daemon::Daemon;

/// Parse error, invalid request, unknown method, invalid params.
const PROTOCOL_ERRORS: [i64; 4] = [-32700, -32600, -32601, -32602];
const NOWHERE: &[&str] = &["--all-proxy", "http://127.0.0.1:9"];

#[tokio::test]
async fn every_rust_snippet_is_a_call_the_daemon_accepts() {
    let daemon = Daemon::start_with(NOWHERE).await;
    let client = Client::connect(&daemon.url(), &daemon.token).await.unwrap();
    let outcomes = docs_snippets::all(&client).await;
    assert_eq!(
        outcomes.len(),
        haul::api::method::ALL.len(),
        "a snippet per method"
    );
    for (method, outcome) in outcomes {
        match outcome {
            Ok(()) => {}
            Err(ClientError::Api { code, message, .. }) => assert!(
                !PROTOCOL_ERRORS.contains(&i64::from(code)),
                "{method}: {code} {message}"
            ),
            Err(e) => panic!("{method}: {e}"),
        }
    }
}

#[tokio::test]
async fn every_curl_snippet_is_a_call_the_daemon_accepts_with_the_token_it_wrote() {
    let dirs = tempfile::tempdir().unwrap();
    let xdg = dirs.path().join("xdg");
    let daemon = Daemon::start_at(&dirs.path().join("dl"), &xdg.join("haul"), NOWHERE).await;
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let snippets: Vec<&str> = md
        .split("```sh\n")
        .skip(1)
        .map(|s| &s[..s.find("```").expect("a closed code block")])
        .collect();
    assert_eq!(
        snippets.len(),
        haul::api::method::ALL.len(),
        "a snippet per method"
    );
    for snippet in snippets {
        // The snippets call the default address; this daemon has its own port.
        let command = snippet.replace("http://127.0.0.1:6801/jsonrpc", &daemon.url());
        let output = tokio::process::Command::new("sh")
            .args(["-c", &command])
            .env("XDG_STATE_HOME", &xdg)
            .output()
            .await
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{snippet}: {output:?}");
        let response: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{snippet}: not JSON ({e}): {stdout}"));
        let code = response.pointer("/error/code").and_then(Value::as_i64);
        assert!(
            response.get("result").is_some() || code.is_some_and(|c| !PROTOCOL_ERRORS.contains(&c)),
            "{snippet}: {response}"
        );
    }
}
