//! Notification latency to 100 WebSocket clients of a running daemon.
//! `bench/rpc-vs-aria2.sh` runs it: `cargo bench --bench ws_fanout -- WS_URL HTTP_URL TOKEN`.
//!
//! Each round adds a paused download and removes it; every client waits for
//! the `download.removed` notification. The latency is measured from
//! sending the `download.remove` call, so it also counts that call's own
//! handling: an upper bound on publish-to-client latency.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 100;
const ROUNDS: usize = 200;

#[tokio::main]
async fn main() {
    let args = support::args();
    let [ws_url, http_url, token] = args.as_slice() else {
        eprintln!("usage: ws_fanout WS_URL HTTP_URL TOKEN (bench/rpc-vs-aria2.sh starts a daemon and runs this)");
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Instant)>();
    for _ in 0..CLIENTS {
        let mut socket = support::connect(ws_url, token).await;
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(frame) = socket.next().await {
                let received = Instant::now();
                let text = match frame {
                    Ok(Message::Text(text)) => text,
                    Ok(_) => continue,
                    Err(e) => {
                        eprintln!("a client's WebSocket failed: {e}");
                        return;
                    }
                };
                let message: Value = serde_json::from_str(&text).unwrap_or_default();
                if message["method"] == "download.removed" {
                    let _ = tx.send((
                        message["params"]["gid"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        received,
                    ));
                }
            }
        });
    }
    let http = reqwest::Client::new();
    let call = |method: &str, params: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        http.post(http_url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let mut latencies = Vec::with_capacity(CLIENTS * ROUNDS);
    for round in 0..ROUNDS {
        let added = call(
            "download.add",
            json!({"url": format!("http://127.0.0.1:9/{round}"), "paused": true}),
        )
        .await
        .expect("add")
        .text()
        .await
        .expect("a body");
        let added: Value = serde_json::from_str(&added).expect("JSON");
        let gid = added["result"]["gid"].as_str().expect("a gid").to_owned();
        let sent = Instant::now();
        call("download.remove", json!({"gid": gid}))
            .await
            .expect("remove");
        let mut received = 0;
        while received < CLIENTS {
            let Ok(Some((event_gid, at))) =
                tokio::time::timeout(Duration::from_secs(10), rx.recv()).await
            else {
                panic!("round {round}: only {received} of {CLIENTS} clients were notified");
            };
            if event_gid == gid {
                latencies.push(at.duration_since(sent));
                received += 1;
            }
        }
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| format!("{:.2}ms", d.as_secs_f64() * 1000.0);
    println!(
        "notify {CLIENTS} WebSocket clients {} {}",
        ms(at(0.50)),
        ms(at(0.99))
    );
}
