//! JSON-RPC's edge cases, over HTTP and WebSocket: malformed input gets the
//! spec's error object and changes nothing.

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::Daemon;

/// POSTs a raw body and returns the status and the parsed response.
async fn post(daemon: &Daemon, body: &str) -> (u16, Value) {
    let (status, text) = daemon.post(body).await;
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (status, value)
}

#[tokio::test]
async fn malformed_requests_get_the_specs_error_objects() {
    let daemon = Daemon::start().await;
    let cases = [
        ("parse_error", r#"{"jsonrpc":"2.0","id":1,"method":"#),
        ("not_a_request_object", r#"{"jsonrpc":"2.0","id":1}"#),
        (
            "wrong_jsonrpc_version",
            r#"{"jsonrpc":"1.0","id":1,"method":"system.getStats"}"#,
        ),
        ("empty_batch", "[]"),
        (
            "unknown_method",
            r#"{"jsonrpc":"2.0","id":"a","method":"aria2.addUri","params":{}}"#,
        ),
        (
            "wrong_param_type",
            r#"{"jsonrpc":"2.0","id":1,"method":"download.status","params":{"gid":7}}"#,
        ),
        (
            "positional_params",
            r#"{"jsonrpc":"2.0","id":1,"method":"download.status","params":["0123456789abcdef"]}"#,
        ),
        (
            "params_not_a_container",
            r#"{"jsonrpc":"2.0","id":1,"method":"download.status","params":"0123456789abcdef"}"#,
        ),
    ];
    for (name, body) in cases {
        let (status, response) = post(&daemon, body).await;
        insta::assert_json_snapshot!(name, json!({"status": status, "response": response}));
    }
}

#[tokio::test]
async fn a_request_whose_method_is_not_a_string_is_an_invalid_request_with_a_null_id() {
    let daemon = Daemon::start().await;
    // The specification's own example: JSON, but no request object, and no
    // `id` to answer with.
    let body = r#"{"jsonrpc":"2.0","method":1,"params":"bar"}"#;
    let (status, text) = daemon.post(body).await;
    insta::assert_snapshot!("method_not_a_string", format!("{status} {text}"));
    // jsonrpsee reads WebSocket messages itself, out of our reach: there the
    // same request is still called a parse error.
    let mut ws = daemon.ws().await;
    ws.send(body).await;
    assert_eq!(
        ws.next_text(Duration::from_secs(5)).await.as_deref(),
        Some(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
    );
}

#[tokio::test]
async fn json_that_is_no_request_is_an_invalid_request_and_broken_json_a_parse_error() {
    let daemon = Daemon::start().await;
    let too_deep = "[".repeat(10_000);
    let cases: [(&str, &[u8]); 12] = [
        ("a number", b"1"),
        ("a string", br#""x""#),
        ("null", b"null"),
        ("true", b"true"),
        ("an id that is no id", br#"{"id":[1]}"#),
        (
            "an old version without id",
            br#"{"jsonrpc":"1.0","method":"system.getStats"}"#,
        ),
        ("not JSON", b"hello"),
        ("nothing", b""),
        ("truncated", br#"{"jsonrpc":"2.0","method":"#),
        ("two objects", br#"{"jsonrpc":"2.0","method":"x"} {}"#),
        ("not UTF-8", b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}"),
        ("nested deeper than serde_json reads", too_deep.as_bytes()),
    ];
    let mut answers = String::new();
    for (name, body) in cases {
        let (status, text) = daemon.post(body).await;
        answers.push_str(&format!("{name}: {status} {text}\n"));
    }
    insta::assert_snapshot!("json_but_no_request", answers);

    // Whitespace in front is no reason to refuse a request: jsonrpsee would
    // look for its `{` in the first 128 bytes only.
    let padded = format!(
        "{}{}",
        " \n".repeat(100),
        r#"{"jsonrpc":"2.0","id":7,"method":"system.getStats"}"#
    );
    let (status, response) = post(&daemon, &padded).await;
    assert_eq!((status, &response["id"]), (200, &json!(7)), "{response}");
    assert!(response["result"].is_object(), "{response}");
}

#[tokio::test]
async fn a_chunked_body_is_bounded_like_one_with_a_length() {
    let daemon = Daemon::start_with(&["--max-request-size", "262144"]).await;
    let call = |padding: usize| {
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"system.getStats","x":"{}"}}"#,
            "a".repeat(padding)
        )
        .into_bytes()
    };
    let (status, text) = post_chunked(&daemon, call(10)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""result":"#), "{text}");
    let (status, text) = post_chunked(&daemon, call(300_000)).await;
    assert_eq!(
        (status, text.as_str()),
        (
            413,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32007,"message":"Request is too big","data":"Exceeded max limit of 262144"}}"#
        )
    );
}

/// POSTs `body` in 16 KiB chunks, without a Content-Length: the daemon
/// learns its size only as it arrives.
async fn post_chunked(daemon: &Daemon, body: Vec<u8>) -> (u16, String) {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = reqwest::Client::new()
        .post(daemon.url())
        .header("authorization", format!("Bearer {}", daemon.token))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("the daemon answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

#[tokio::test]
async fn a_mixed_batch_answers_each_call_and_no_notification() {
    let daemon = Daemon::start().await;
    let batch = r#"[
        {"jsonrpc":"2.0","id":1,"method":"system.getStats"},
        {"jsonrpc":"2.0","id":2,"method":"download.status","params":{"gid":"0123456789abcdef"}},
        {"jsonrpc":"2.0","id":3,"method":"download.add","params":{"url":"https://e.com/x","bogus":1}},
        {"jsonrpc":"2.0","method":"download.add","params":{"url":"http://127.0.0.1:9/from-a-notification","paused":true}},
        {"jsonrpc":"2.0","id":4,"method":"no.such"},
        42
    ]"#;
    let (status, response) = post(&daemon, batch).await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("mixed_batch", response);
    // The notification ran, though nobody got an answer for it.
    let list = daemon.result("download.list", json!({})).await;
    assert_eq!(
        list["downloads"][0]["url"],
        "http://127.0.0.1:9/from-a-notification"
    );
}

#[tokio::test]
async fn a_client_notification_runs_and_gets_no_response() {
    let daemon = Daemon::start().await;
    let (status, text) = daemon
        .post(r#"{"jsonrpc":"2.0","method":"download.add","params":{"url":"http://127.0.0.1:9/n","paused":true}}"#)
        .await;
    assert_eq!(
        (status, text.as_str()),
        (204, ""),
        "no body for a notification"
    );
    assert_eq!(daemon.result("download.list", json!({})).await["total"], 1);
    let (_, text) = daemon
        .post(r#"{"jsonrpc":"2.0","method":"download.add","params":{"url":7}}"#)
        .await;
    assert_eq!(
        text, "",
        "an invalid notification is dropped silently, as the spec says"
    );
    assert_eq!(daemon.result("download.list", json!({})).await["total"], 1);
}

#[tokio::test]
async fn batches_and_bodies_are_bounded() {
    let daemon = Daemon::start_with(&["--max-batch", "3", "--max-request-size", "262144"]).await;
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"system.getStats"}"#;
    let (status, response) = post(&daemon, &format!("[{call},{call},{call},{call}]")).await;
    insta::assert_json_snapshot!(
        "batch_too_large",
        json!({"status": status, "response": response})
    );
    let (status, response) = post(&daemon, &format!("[{call},{call},{call}]")).await;
    assert_eq!((status, response.as_array().map(Vec::len)), (200, Some(3)));

    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"download.add","params":{{"url":"https://e.com/{}"}}}}"#,
        "a".repeat(300_000)
    );
    let (status, response) = post(&daemon, &huge).await;
    insta::assert_json_snapshot!(
        "oversized_body",
        json!({"status": status, "response": response})
    );
    assert_eq!(
        daemon.result("download.list", json!({})).await["total"],
        0,
        "nothing was added"
    );
}

#[tokio::test]
async fn the_websocket_transport_serves_the_same_edge_cases() {
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    ws.send(r#"{"jsonrpc":"2.0","id":1,"method":"#).await;
    let parse_error: Value =
        serde_json::from_str(&ws.next_text(Duration::from_secs(5)).await.unwrap()).unwrap();
    assert_eq!(
        parse_error,
        json!({"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null})
    );
    let unknown = ws
        .call(
            r#"{"jsonrpc":"2.0","id":2,"method":"haul.internal.attach"}"#,
            &mut Vec::new(),
        )
        .await;
    assert_eq!(
        unknown,
        json!({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":2})
    );
    let invalid = ws
        .call(
            r#"{"jsonrpc":"2.0","id":3,"method":"download.list","params":{"limit":0}}"#,
            &mut Vec::new(),
        )
        .await;
    assert_eq!(
        invalid["error"]["data"],
        json!({"param": "limit", "reason": "0 is less than the minimum of 1"})
    );
    ws.send(r#"[{"jsonrpc":"2.0","id":4,"method":"system.getStats"},{"jsonrpc":"2.0","id":5,"method":"nope"}]"#).await;
    let batch: Value =
        serde_json::from_str(&ws.next_text(Duration::from_secs(5)).await.unwrap()).unwrap();
    assert_eq!(batch.as_array().map(Vec::len), Some(2), "{batch}");
}

#[tokio::test]
async fn other_paths_and_methods_are_not_found_or_not_allowed() {
    let daemon = Daemon::start().await;
    assert_eq!(daemon.get("/", &[]).await, (404, "not found\n".to_owned()));
    assert_eq!(
        daemon.get("/jsonrpc", &[]).await,
        (405, "use POST for JSON-RPC over HTTP\n".to_owned())
    );
    assert_eq!(daemon.get("/jsonrpc/ws", &[]).await.0, 426);
    assert_eq!(daemon.get("/healthz", &[]).await, (200, "ok\n".to_owned()));
}

#[tokio::test]
async fn connections_over_the_limit_are_answered_server_busy_at_once() {
    use tokio::io::AsyncReadExt;
    let daemon = Daemon::start_with(&["--max-connections", "2"]).await;
    let first = tokio::net::TcpStream::connect(&daemon.addr).await.unwrap();
    let _second = tokio::net::TcpStream::connect(&daemon.addr).await.unwrap();
    let mut third = tokio::net::TcpStream::connect(&daemon.addr).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), third.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        body,
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32009,"message":"Server is busy, try again later","data":"too many connections"}}"#
    );
    // A freed place serves again.
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        daemon.result("system.getStats", json!({})).await["active"],
        0
    );
}
