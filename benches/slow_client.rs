//! The daemon's CPU with one stalled WebSocket reader among 100, while
//! downloads run and state changes keep coming: it must stay flat, not grow
//! with the stalled connection's backlog. `bench/events.sh` runs it:
//! `cargo bench --bench slow_client -- WS_URL HTTP_URL TOKEN PID`.
//!
//! Two phases of the same load (100 downloads from the caller's daemon plus
//! 1,000 state changes a second made here: paused adds and their removals):
//! 99 readers, then 99 readers and one connection that never reads (a small
//! receive buffer, so the daemon's writes stop at once). Each prints the
//! daemon's CPU per second.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};

const READERS: usize = 99;
const SECONDS: u64 = 8;

#[tokio::main]
async fn main() {
    let args = support::args();
    let [ws_url, http_url, token, pid] = args.as_slice() else {
        eprintln!("usage: slow_client WS_URL HTTP_URL TOKEN PID (bench/events.sh runs this)");
        return;
    };
    for _ in 0..READERS {
        let mut socket = support::connect(ws_url, token).await;
        tokio::spawn(async move { while socket.next().await.is_some() {} });
    }
    let churn = tokio::spawn(churn(http_url.clone(), token.clone()));
    let readers = measure(pid).await;
    let _stalled = stalled(ws_url, token).await;
    let with_stalled = measure(pid).await;
    churn.abort();
    let show = |cpu: &[f64]| {
        cpu.iter()
            .map(|c| format!("{c:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mean = |cpu: &[f64]| cpu.iter().sum::<f64>() / cpu.len() as f64;
    println!(
        "{:<58} {:>10}",
        format!("daemon CPU %/s, {READERS} readers ({})", show(&readers)),
        format!("{:.0}%", mean(&readers))
    );
    println!(
        "{:<58} {:>10}",
        format!("  + 1 stalled reader ({})", show(&with_stalled)),
        format!("{:.0}%", mean(&with_stalled))
    );
}

/// A connection that never reads, behind a 4 KiB receive buffer.
async fn stalled(ws_url: &str, token: &str) -> support::Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = url::Url::parse(ws_url).expect("a WebSocket url");
    let addr = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(80)
    );
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a receive buffer");
    let tcp = socket
        .connect(addr.parse().expect("a socket address"))
        .await
        .expect("the daemon accepts");
    let mut request = ws_url.into_client_request().expect("a request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("a header"),
    );
    let (socket, _) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .expect("the upgrade");
    socket
}

/// The daemon's CPU (user + system) in percent of one core, per second.
async fn measure(pid: &str) -> Vec<f64> {
    let ticks = |pid: &str| -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name, which is in parentheses.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        field(11) + field(12) // utime, stime (clock ticks)
    };
    let hz = 100.0; // USER_HZ on Linux
    let mut samples = Vec::new();
    let mut last = (Instant::now(), ticks(pid));
    for _ in 0..SECONDS {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = (Instant::now(), ticks(pid));
        let secs = now.0.duration_since(last.0).as_secs_f64();
        samples.push((now.1 - last.1) / hz / secs * 100.0);
        last = now;
    }
    samples
}

/// 500 paused adds and their removals every second: 1,000 state changes
/// that a stalled reader's queue must keep (8,000 by the end, below the
/// daemon's limit for a connection that is behind).
async fn churn(http_url: String, token: String) {
    let client = reqwest::Client::new();
    let call = |body: Value| {
        client
            .post(&http_url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    loop {
        let started = Instant::now();
        let adds: Vec<Value> = (0..500)
            .map(|i| {
                json!({"jsonrpc": "2.0", "id": i, "method": "download.add",
                            "params": {"url": "http://127.0.0.1:9/x", "paused": true}})
            })
            .collect();
        let Ok(answer) = call(Value::Array(adds)).await else {
            return;
        };
        let Ok(text) = answer.text().await else {
            return;
        };
        let Ok(added) = serde_json::from_str::<Vec<Value>>(&text) else {
            return;
        };
        let removes: Vec<Value> = added
            .iter()
            .filter_map(|a| a["result"]["gid"].as_str())
            .enumerate()
            .map(|(i, gid)| {
                json!({"jsonrpc": "2.0", "id": i, "method": "download.remove",
                                   "params": {"gid": gid}})
            })
            .collect();
        let _ = call(Value::Array(removes)).await;
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(started.elapsed())).await;
    }
}
