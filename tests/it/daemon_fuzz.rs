//! The RPC front door under fuzzing. A few thousand requests derived from
//! the documented examples of every method in `openrpc.json`, then broken
//! (truncated, retyped, oversized, nested, duplicated, not UTF-8, batched
//! oddly), go to one daemon over HTTP and over WebSocket. Each answer is
//! checked against what JSON-RPC 2.0 says, or against what jsonrpsee does
//! where it departs from that (each such place says so), and the daemon
//! must never exit, panic, hang or keep growing, and must serve normally
//! afterwards. Seeded: a failure names its case, and the same seed sends the
//! same requests again (but for the gids of the downloads made at the start).

mod fuzz;
use crate::support;

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use fuzz::expect::{answers_nothing, check, check_status, classify, notification, response};
use fuzz::expect::{same, Expect, UNAUTHORIZED};
use fuzz::requests::{Cases, Rng};
use serde_json::{json, Value};
use support::daemon::Daemon;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

const SEED: u64 = 0x6861_756c_6675_7a7a; // "haulfuzz"
const HTTP_CASES: usize = 2_000;
const WS_CASES: usize = 2_000;
/// No request may take longer than this to be answered.
// A hang detector, not a speed test: generous, for a loaded machine.
const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_RSS_GROWTH_KIB: u64 = 64 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_requests_get_well_formed_answers_and_leave_the_daemon_serving() {
    let started = Instant::now();
    let mut daemon = Daemon::start_watched(&[
        "--max-request-size",
        "262144",
        "--max-response-size",
        "524288",
        "--max-batch",
        "8",
    ])
    .await;
    let mut gids = Vec::new();
    for i in 0..3 {
        let url = format!("http://127.0.0.1:9/seed-{i}");
        gids.push(daemon.add(json!({"url": url, "paused": true})).await);
    }
    let (status, document) = daemon.get("/openrpc.json", &[]).await;
    assert_eq!(status, 200);
    let cases = Cases::from_document(&document, &gids);
    let rss_before = rss_kib(daemon.pid());

    // One stream of cases each, so that changing one phase leaves the
    // other's cases as they were.
    let http = fuzz_http(&mut daemon, &cases, &mut Rng::new(SEED)).await;
    let ws = fuzz_ws(&mut daemon, &cases, &mut Rng::new(SEED ^ 0x5753)).await;

    let rss_after = rss_kib(daemon.pid());
    assert!(daemon.is_running(), "{}", daemon.stderr());
    assert!(
        rss_after.saturating_sub(rss_before) < MAX_RSS_GROWTH_KIB,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    // Still serving, as if nothing had happened.
    let version = daemon.result("system.getVersion", json!({})).await;
    assert!(version["version"].is_string(), "{version}");
    let url = "http://127.0.0.1:9/after-the-fuzz";
    let gid = daemon.add(json!({"url": url, "paused": true})).await;
    let status = daemon.result("download.status", json!({"gid": gid})).await;
    assert_eq!((&status["gid"], &status["url"]), (&json!(gid), &json!(url)));
    let stderr = daemon.stderr();
    assert!(
        !stderr.contains("panicked"),
        "the daemon panicked:\n{stderr}"
    );
    eprintln!(
        "HTTP requests:\n{http}WebSocket frames:\n{ws}RSS {rss_before} -> {rss_after} KiB; \
         {:.1?} in all",
        started.elapsed()
    );
}

async fn fuzz_http(daemon: &mut Daemon, cases: &Cases, rng: &mut Rng) -> Tally {
    let mut tally = Tally::default();
    let http = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .expect("an HTTP client");
    let bearer = format!("Bearer {}", daemon.token);
    for n in 0..HTTP_CASES {
        let case = cases.next(rng, false);
        let expect = classify(&case.body, false);
        let sent = Instant::now();
        let mut request = http
            .post(daemon.url())
            .header("content-type", "application/json");
        // A few without the right token, to show they are refused before
        // anything is parsed (each costs the failure backoff, so only a few).
        let authorized = !rng.chance(1);
        if authorized {
            request = request.header("authorization", &bearer);
        } else if rng.chance(50) {
            request = request.header("authorization", "Bearer not-the-token");
        }
        // Some without a Content-Length: the size is learnt as it arrives.
        request = if rng.chance(5) {
            let size = (case.body.len() / (1 + rng.below(16))).max(1);
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                case.body.chunks(size).map(|c| Ok(c.to_vec())).collect();
            request.body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        } else {
            request.body(case.body.clone())
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => fail(daemon, "HTTP", n, &case.body, &format!("no answer: {e}")),
        };
        let status = response.status().as_u16();
        let answer = match response.bytes().await {
            Ok(answer) => answer,
            Err(e) => fail(
                daemon,
                "HTTP",
                n,
                &case.body,
                &format!("no whole answer: {e}"),
            ),
        };
        let kind = if authorized {
            expect.kind()
        } else {
            "no token"
        };
        tally.add(kind, sent);
        let checked = if authorized {
            check_status(&expect, &case.body, status).and_then(|()| {
                let answer = std::str::from_utf8(&answer).map_err(|e| e.to_string())?;
                let answer = Some(answer).filter(|a| !a.is_empty() || status != 204);
                check(&expect, case.code, answer, false)
            })
        } else {
            same(&status, &401).and_then(|()| same(&*answer, UNAUTHORIZED.as_bytes()))
        };
        if let Err(why) = checked {
            let answer = String::from_utf8_lossy(&answer);
            fail(
                daemon,
                "HTTP",
                n,
                &case.body,
                &format!("{why}\nanswer: {status} {answer:.2000}"),
            );
        }
        if n % 100 == 0 && !daemon.is_running() {
            fail(daemon, "HTTP", n, &case.body, "the daemon exited");
        }
    }
    tally
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn fuzz_ws(daemon: &mut Daemon, cases: &Cases, rng: &mut Rng) -> Tally {
    let mut tally = Tally::default();
    let mut request = daemon.ws_url().into_client_request().expect("a request");
    let bearer = format!("Bearer {}", daemon.token);
    request
        .headers_mut()
        .insert("authorization", bearer.parse().expect("a header"));
    // Without Nagle: a frame that gets no answer would hold the next one
    // back until the daemon's delayed acknowledgement (40 ms).
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .expect("the upgrade is accepted");
    // jsonrpsee reads a binary message exactly as it reads a text one, and
    // answers in a text frame: so the fuzzing below checks binary frames
    // against the same expectations as text frames.
    let call = r#"{"jsonrpc":"2.0","id":"binary","method":"system.getStats"}"#;
    ws.send(Message::binary(call.as_bytes().to_vec()))
        .await
        .expect("sent");
    let answer = answer_to(&mut ws, &json!("binary")).await;
    assert!(answer["result"].is_object(), "{answer}");

    // An answer to a body that is not UTF-8 may come after the sentinel that
    // follows it (see below): how many of those can still come.
    let mut late = 0;
    for n in 0..WS_CASES {
        let case = cases.next(rng, true);
        let expect = classify(&case.body, true);
        let sent = Instant::now();
        let frame = if rng.chance(30) {
            Message::binary(case.body.clone())
        } else {
            match String::from_utf8(case.body.clone()) {
                Ok(text) => Message::text(text),
                // tungstenite sends only UTF-8 as text; the daemon must cope
                // with a peer that does not.
                Err(e) => Message::Frame(Frame::message(
                    e.into_bytes(),
                    OpCode::Data(Data::Text),
                    true,
                )),
            }
        };
        // Every case is followed by a call of its own: once that is answered
        // (and the case's answer, if it gets one), the case is done, even
        // when what it sent gets no answer at all.
        let sentinel = json!(format!("sentinel-{n}"));
        let call = json!({"jsonrpc": "2.0", "id": sentinel, "method": "system.getVersion"});
        if let Err(e) = ws.send(frame).await {
            fail(
                daemon,
                "WebSocket",
                n,
                &case.body,
                &format!("cannot send: {e}"),
            );
        }
        if let Err(e) = ws.send(Message::text(call.to_string())).await {
            fail(
                daemon,
                "WebSocket",
                n,
                &case.body,
                &format!("cannot send: {e}"),
            );
        }
        let lenient = matches!(expect, Expect::AnyAnswer);
        let wanted = lenient || !answers_nothing(&expect);
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let (mut answer, mut sentinel_seen) = (None, false);
        while !sentinel_seen || (wanted && !lenient && answer.is_none()) {
            let text = match tokio::time::timeout_at(deadline, ws.next()).await {
                Err(_) => fail(
                    daemon,
                    "WebSocket",
                    n,
                    &case.body,
                    "no answer within the timeout",
                ),
                Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => fail(
                    daemon,
                    "WebSocket",
                    n,
                    &case.body,
                    &format!("not a text frame: {other:?}"),
                ),
            };
            let message: Value = match serde_json::from_str(&text) {
                Ok(message) => message,
                Err(e) => fail(
                    daemon,
                    "WebSocket",
                    n,
                    &case.body,
                    &format!("{e}: {text:.2000}"),
                ),
            };
            if message.get("method").is_some() {
                if let Err(why) = notification(&message) {
                    fail(
                        daemon,
                        "WebSocket",
                        n,
                        &case.body,
                        &format!("{why}: {text:.2000}"),
                    );
                }
            } else if message.get("id") == Some(&sentinel) {
                sentinel_seen = true;
            } else if answer.is_none()
                && wanted
                && (late == 0 || check(&expect, case.code, Some(&text), true).is_ok())
            {
                answer = Some(text);
            } else if late > 0 && response(&message).is_ok() {
                late -= 1;
            } else {
                fail(
                    daemon,
                    "WebSocket",
                    n,
                    &case.body,
                    &format!("an answer too many: {text:.2000}"),
                );
            }
        }
        if lenient && answer.is_none() {
            late += 1;
        }
        tally.add(expect.kind(), sent);
        if let Err(why) = check(&expect, case.code, answer.as_deref(), true) {
            let answer = answer.unwrap_or_default();
            fail(
                daemon,
                "WebSocket",
                n,
                &case.body,
                &format!("{why}\nanswer: {answer:.2000}"),
            );
        }
        if n % 100 == 0 && !daemon.is_running() {
            fail(daemon, "WebSocket", n, &case.body, "the daemon exited");
        }
    }
    // Still the same connection, closed cleanly when asked.
    ws.send(Message::Close(None)).await.expect("a close");
    loop {
        match tokio::time::timeout(TIMEOUT, ws.next()).await {
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) => break,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no clean close: {other:?}"),
        }
    }
    tally
}

/// How many cases of each kind were sent, and how long they took.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, (usize, Duration)>);

impl Tally {
    fn add(&mut self, kind: &'static str, sent: Instant) {
        let entry = self.0.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += sent.elapsed();
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let (mut count, mut took) = (0, Duration::ZERO);
        for (kind, (n, t)) in &self.0 {
            writeln!(f, "  {n:5} {kind:<28} {t:.1?}")?;
            (count, took) = (count + n, took + *t);
        }
        writeln!(f, "  {count:5} in all{:23} {took:.1?}", "")
    }
}

/// The answer with this `id`, skipping notifications.
async fn answer_to(ws: &mut Socket, id: &Value) -> Value {
    loop {
        let frame = tokio::time::timeout(TIMEOUT, ws.next()).await;
        // The daemon pings idle sockets (a long run under load is idle
        // between answers); the WebSocket layer answers them.
        if let Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) = frame {
            continue;
        }
        let Ok(Some(Ok(Message::Text(text)))) = frame else {
            panic!("no text frame: {frame:?}");
        };
        let message: Value = serde_json::from_str(&text).expect("JSON");
        if message.get("id") == Some(id) {
            return message;
        }
    }
}

/// Fails the test with everything needed to replay and understand case `n`.
fn fail(daemon: &mut Daemon, phase: &str, n: usize, body: &[u8], why: &str) -> ! {
    let running = daemon.is_running();
    let size = body.len();
    let body = String::from_utf8_lossy(body);
    panic!(
        "{phase} case {n} (seed {SEED:#x}): {why}\nrequest ({size} bytes): {body:.2000}\n\
         daemon running: {running}\nstderr:\n{}",
        daemon.stderr()
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}
