//! How long a reconnecting client waits for the daemon to replay its event
//! window: `events.subscribe` with `since` set to the window's oldest seq,
//! timed from sending the call to receiving the last replayed notification.
//! `bench/events.sh` runs it: `cargo bench --bench event_replay -- WS_URL TOKEN`.

mod support;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const ROUNDS: usize = 5;

use support::Socket;

#[tokio::main]
async fn main() {
    let args = support::args();
    let [ws_url, token] = args.as_slice() else {
        eprintln!(
            "usage: event_replay WS_URL TOKEN (bench/events.sh starts a daemon and runs this)"
        );
        return;
    };
    let mut times = Vec::new();
    let mut replayed = 0;
    for _ in 0..ROUNDS {
        let mut socket = support::connect(ws_url, token).await;
        let stream = call(&mut socket, 1, json!({})).await;
        let since = stream["oldestSeq"].as_u64().expect("oldestSeq");
        let start = Instant::now();
        let params = json!({"since": since, "streamId": stream["streamId"]});
        let answer = call(&mut socket, 2, params).await;
        let last = answer["seq"].as_u64().expect("seq");
        let mut count = 0;
        loop {
            let message = next(&mut socket).await;
            if message.get("method").is_some() {
                count += 1;
                if message["params"]["seq"].as_u64() == Some(last) {
                    break;
                }
            }
        }
        times.push(start.elapsed());
        replayed = count;
    }
    times.sort();
    println!(
        "replayed {replayed} events: median {:.1} ms, max {:.1} ms ({ROUNDS} reconnects)",
        ms(times[ROUNDS / 2]),
        ms(times[ROUNDS - 1])
    );
}

async fn call(socket: &mut Socket, id: u64, params: Value) -> Value {
    let request =
        json!({"jsonrpc": "2.0", "id": id, "method": "events.subscribe", "params": params});
    socket
        .send(Message::text(request.to_string()))
        .await
        .expect("the call is sent");
    loop {
        let message = next(socket).await;
        if message["id"] == id {
            return message["result"].clone();
        }
    }
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s")
            .expect("the socket stays open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
