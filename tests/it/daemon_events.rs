//! Event streams that survive disconnects: `events.subscribe` replays what a
//! client missed (after its answer, before live notifications, with no gap
//! and no duplicate), refuses a `since` the window no longer covers, filters
//! by download and kind, paces progress; the server pings and answers pings.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::daemon::{Daemon, Ws};
use support::{random_bytes, Resource, TestServer};
use tokio_tungstenite::tungstenite::Message;

/// Adds a paused download and removes it: exactly one notification,
/// `download.removed`, whatever the timing.
async fn removed_download(daemon: &Daemon) -> String {
    let gid = daemon
        .add(json!({"url": "http://127.0.0.1:9/f", "paused": true}))
        .await;
    daemon.result("download.remove", json!({"gid": gid})).await;
    gid
}

async fn subscribe(ws: &mut Ws, params: Value) -> Value {
    let request =
        json!({"jsonrpc": "2.0", "id": 7, "method": "events.subscribe", "params": params});
    ws.call(&request.to_string(), &mut Vec::new()).await
}

/// The next `n` notifications, within a few seconds.
async fn next_notifications(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let text = ws
            .next_text(Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("only {} of {n} notifications arrived: {out:#?}", out.len()));
        out.push(serde_json::from_str(&text).expect("JSON"));
    }
    out
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e["params"]["seq"].as_u64().expect("a seq"))
        .collect()
}

#[tokio::test]
async fn subscribing_since_a_seq_replays_the_missed_events_after_the_answer_then_live_ones() {
    let daemon = Daemon::start().await;
    let mut watcher = daemon.ws().await;
    let mut gids = Vec::new();
    for _ in 0..5 {
        gids.push(removed_download(&daemon).await);
    }
    let seen = next_notifications(&mut watcher, 5).await;
    let stream_id = seen[0]["params"]["streamId"].clone();
    let since = seen[1]["params"]["seq"].as_u64().unwrap();

    // A client that saw up to the second event reconnects.
    let mut ws = daemon.ws().await;
    let answer = subscribe(&mut ws, json!({"since": since, "streamId": stream_id})).await;
    let last = seen[4]["params"]["seq"].as_u64().unwrap();
    assert_eq!(
        answer,
        json!({"jsonrpc": "2.0", "id": 7, "result": {"streamId": stream_id, "seq": last, "oldestSeq": 0}})
    );
    let replayed = next_notifications(&mut ws, 3).await;
    assert_eq!(
        replayed,
        seen[2..],
        "the missed events, in order, as first sent"
    );

    let live = removed_download(&daemon).await;
    let next = next_notifications(&mut ws, 1).await;
    assert_eq!(next[0]["params"]["gid"], live);
    assert_eq!(
        next[0]["params"]["seq"],
        last + 1,
        "no gap and no duplicate"
    );
}

#[tokio::test]
async fn a_since_older_than_the_window_fails_with_events_unavailable_and_the_oldest_seq() {
    let daemon = Daemon::start_with(&["--event-window", "3"]).await;
    let mut watcher = daemon.ws().await;
    for _ in 0..5 {
        removed_download(&daemon).await;
    }
    let seen = next_notifications(&mut watcher, 5).await;
    let stream_id = seen[0]["params"]["streamId"].as_str().unwrap().to_owned();

    let mut ws = daemon.ws().await;
    let mut answer = subscribe(&mut ws, json!({"since": 1, "streamId": stream_id})).await;
    assert_eq!(answer["error"]["data"]["streamId"], stream_id);
    answer["error"]["data"]["streamId"] = json!("[streamId]");
    insta::assert_json_snapshot!("events_unavailable", answer);

    // The oldest seq it names does replay, without a gap.
    let answer = subscribe(&mut ws, json!({"since": 2, "streamId": stream_id})).await;
    assert_eq!(answer["result"]["seq"], 5);
    assert_eq!(seqs(&next_notifications(&mut ws, 3).await), [3, 4, 5]);
}

#[tokio::test]
async fn a_since_from_another_stream_fails_with_events_unavailable() {
    let daemon = Daemon::start().await;
    removed_download(&daemon).await;
    let mut ws = daemon.ws().await;
    let answer = subscribe(&mut ws, json!({"since": 1, "streamId": "0000000000000000"})).await;
    assert_eq!(answer["error"]["code"], -32012, "{answer}");
    assert_eq!(answer["error"]["data"]["seq"], 1);
}

#[tokio::test]
async fn filters_by_gid_and_kind_apply_to_live_events() {
    let server = TestServer::start([Resource::file("/f.bin", random_bytes(64 << 10, 1))]).await;
    let daemon = Daemon::start().await;
    let mine = daemon
        .add(json!({"url": server.url("/f.bin"), "paused": true, "fileName": "mine.bin"}))
        .await;
    let other = daemon
        .add(json!({"url": server.url("/f.bin"), "paused": true, "fileName": "other.bin"}))
        .await;
    let mut ws = daemon.ws().await;
    let answer = subscribe(
        &mut ws,
        json!({"gids": [mine], "kinds": ["download.complete", "download.removed"]}),
    )
    .await;
    assert!(answer["result"]["seq"].is_u64(), "{answer}");

    for gid in [&other, &mine] {
        daemon.result("download.resume", json!({"gid": gid})).await;
    }
    let done = next_notifications(&mut ws, 1).await;
    assert_eq!(
        (&done[0]["method"], &done[0]["params"]["gid"]),
        (&json!("download.complete"), &json!(mine)),
        "neither the other download nor started/progress: {done:#?}"
    );
    daemon
        .result("download.remove", json!({"gid": other}))
        .await;
    daemon.result("download.remove", json!({"gid": mine})).await;
    let removed = next_notifications(&mut ws, 1).await;
    assert_eq!(removed[0]["method"], "download.removed");
    assert_eq!(removed[0]["params"]["gid"], mine);

    // Unsubscribing brings back every notification.
    let request = r#"{"jsonrpc":"2.0","id":8,"method":"events.unsubscribe"}"#;
    let answer = ws.call(request, &mut Vec::new()).await;
    assert!(answer["result"]["streamId"].is_string(), "{answer}");
    let gid = removed_download(&daemon).await;
    assert_eq!(
        next_notifications(&mut ws, 1).await[0]["params"]["gid"],
        gid
    );
}

/// How many progress notifications of `gid` arrived before it completed,
/// and how long that took.
async fn progress_until_complete(ws: &mut Ws, gid: &str) -> (usize, Duration) {
    let mut count = 0;
    let start = Instant::now();
    loop {
        let text = ws
            .next_text(Duration::from_secs(20))
            .await
            .expect("the download goes on");
        let n: Value = serde_json::from_str(&text).unwrap();
        if n["params"]["gid"] != gid {
            continue;
        }
        match n["method"].as_str() {
            Some("download.progress") => count += 1,
            Some("download.complete") => return (count, start.elapsed()),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_progress_interval_spaces_one_downloads_progress_on_that_connection_only() {
    let server =
        TestServer::start([Resource::file("/f.bin", random_bytes(3 << 20, 2)).rate(1 << 20)]).await;
    let daemon = Daemon::start().await;
    let mut paced = daemon.ws().await;
    let mut plain = daemon.ws().await;
    subscribe(&mut paced, json!({"progressInterval": 1000})).await;
    let gid = daemon
        .add(json!({"url": server.url("/f.bin"), "connections": 1}))
        .await;

    let ((paced, took), (plain, _)) = tokio::join!(
        progress_until_complete(&mut paced, &gid),
        progress_until_complete(&mut plain, &gid)
    );
    // At most one per started second, whatever the socket's jitter.
    assert!(
        paced as f64 <= took.as_secs_f64().ceil() + 1.0,
        "{paced} progress notifications in {took:?} at one per second"
    );
    assert!(
        plain > paced,
        "the other connection keeps the daemon's pace: {plain} vs {paced}"
    );
}

#[tokio::test]
async fn events_subscribe_over_http_or_in_a_batch_fails_with_websocket_required() {
    let daemon = Daemon::start().await;
    let (status, body) = daemon
        .post(r#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"since":0}}"#)
        .await;
    assert_eq!(status, 200);
    insta::assert_snapshot!("websocket_required", body);

    let mut ws = daemon.ws().await;
    ws.send(r#"[{"jsonrpc":"2.0","id":1,"method":"events.unsubscribe"}]"#)
        .await;
    let answer = ws.next_text(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        answer,
        r#"[{"jsonrpc":"2.0","id":1,"error":{"code":-32013,"message":"Needs a WebSocket connection"}}]"#
    );
}

#[tokio::test]
async fn events_calls_sent_as_notifications_take_effect_and_get_no_answer() {
    let daemon = Daemon::start().await;
    let gid = removed_download(&daemon).await;
    let mut ws = daemon.ws().await;
    // The replay is the only thing that can come: no answer before it.
    ws.send(r#"{"jsonrpc":"2.0","method":"events.subscribe","params":{"since":0}}"#)
        .await;
    let replayed: Value =
        serde_json::from_str(&ws.next_text(Duration::from_secs(5)).await.unwrap()).unwrap();
    assert_eq!(
        (&replayed["method"], &replayed["params"]["gid"]),
        (&json!("download.removed"), &json!(gid)),
        "{replayed}"
    );
    // Nor on their own or in a batch: the first answer is the call's.
    ws.send(r#"{"jsonrpc":"2.0","method":"events.unsubscribe"}"#)
        .await;
    ws.send(r#"[{"jsonrpc":"2.0","method":"events.unsubscribe"}]"#)
        .await;
    ws.send(r#"{"jsonrpc":"2.0","id":3,"method":"events.unsubscribe"}"#)
        .await;
    let answer: Value =
        serde_json::from_str(&ws.next_text(Duration::from_secs(5)).await.unwrap()).unwrap();
    assert_eq!(answer["id"], 3, "{answer}");
}

#[tokio::test]
async fn a_progress_interval_below_100_ms_is_invalid_params() {
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let answer = subscribe(&mut ws, json!({"progressInterval": 99})).await;
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
}

#[tokio::test]
async fn a_clients_ping_is_answered_with_a_pong_carrying_its_payload() {
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    ws.ping(b"are you there").await;
    loop {
        match ws.next_frame(Duration::from_secs(5)).await {
            Some(Message::Pong(payload)) => break assert_eq!(&payload[..], b"are you there"),
            Some(Message::Ping(_)) => continue,
            other => panic!("expected a pong, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_server_pings_idle_connections_and_drops_one_that_never_answers() {
    let daemon = Daemon::start_with(&["--ws-ping-interval", "200ms"]).await;
    let mut ws = daemon.ws().await;
    match ws.next_frame(Duration::from_secs(2)).await {
        Some(Message::Ping(_)) => {}
        other => panic!("expected a ping, got {other:?}"),
    }
    // Reading answers pings (tungstenite queues the pong); a client that
    // stops reading answers none, and is dropped.
    let mut silent = daemon.ws().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut ended = false;
    for _ in 0..50 {
        match silent.next_frame(Duration::from_secs(1)).await {
            None | Some(Message::Close(_)) => {
                ended = true;
                break;
            }
            Some(_) => continue,
        }
    }
    assert!(ended, "the silent connection is closed");
}

#[tokio::test]
async fn polling_over_http_returns_the_notifications_a_websocket_gets_with_their_real_seq() {
    let daemon = Daemon::start().await;
    let mut watcher = daemon.ws().await;
    let start = daemon.result("events.poll", json!({})).await;
    assert_eq!(start["notifications"], json!([]), "without since: none");
    let stream_id = start["streamId"].clone();
    let mut gids = Vec::new();
    for _ in 0..5 {
        gids.push(removed_download(&daemon).await);
    }
    let mut pushed = next_notifications(&mut watcher, 5).await;
    for notification in &mut pushed {
        notification.as_object_mut().unwrap().remove("jsonrpc");
    }

    // In pages of two, each from the last page's `next`: every notification
    // once, what the WebSocket got (but for its `jsonrpc` member).
    let mut since = start["next"].clone();
    let mut polled = Vec::new();
    loop {
        let page = daemon
            .result(
                "events.poll",
                json!({"since": since, "streamId": stream_id, "limit": 2}),
            )
            .await;
        let got = page["notifications"].as_array().unwrap().clone();
        assert!(got.len() <= 2, "{page}");
        since = page["next"].clone();
        if got.is_empty() {
            assert_eq!(page["next"], page["seq"], "{page}");
            break;
        }
        polled.extend(got);
    }
    assert_eq!(polled, pushed);

    // The filters of events.subscribe, the same way.
    let only = daemon
        .result(
            "events.poll",
            json!({"since": 0, "streamId": stream_id, "gids": [gids[3]], "kinds": ["download.removed"]}),
        )
        .await;
    assert_eq!(only["notifications"], json!([pushed[3]]));
}

#[tokio::test]
async fn polling_a_stream_that_is_gone_fails_as_subscribing_does() {
    let daemon = Daemon::start().await;
    let mut ws = daemon.ws().await;
    let params = json!({"since": 1, "streamId": "0000000000000001"});
    let subscribed = subscribe(&mut ws, params.clone()).await;
    let polled = daemon.call("events.poll", params).await;
    assert_eq!(polled["error"], subscribed["error"]);
    assert_eq!(polled["error"]["code"], -32012);
}

#[tokio::test]
async fn paging_by_cursor_neither_skips_nor_repeats_a_download_when_the_list_changes_between_pages()
{
    let daemon = Daemon::start().await;
    let mut gids = Vec::new();
    for i in 0..6 {
        gids.push(
            daemon
                .add(json!({"url": format!("http://127.0.0.1:9/{i}"), "paused": true}))
                .await,
        );
    }
    let first = daemon.result("download.list", json!({"limit": 2})).await;
    let page_gids = |page: &Value| -> Vec<String> {
        page["downloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["gid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(page_gids(&first), gids[..2]);
    // Between two pages, one already listed goes: an offset would now skip
    // gids[2]; the cursor does not.
    daemon
        .result("download.remove", json!({"gid": gids[0]}))
        .await;
    let second = daemon
        .result(
            "download.list",
            json!({"limit": 2, "cursor": first["cursor"]}),
        )
        .await;
    assert_eq!(page_gids(&second), gids[2..4]);
    let third = daemon
        .result(
            "download.list",
            json!({"limit": 2, "cursor": second["cursor"]}),
        )
        .await;
    assert_eq!(page_gids(&third), gids[4..6]);
    assert_eq!(third["cursor"], Value::Null, "the last page says so");
    let bad = daemon
        .call("download.list", json!({"cursor": "not-a-cursor"}))
        .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert_eq!(bad["error"]["data"]["param"], "cursor");
}
