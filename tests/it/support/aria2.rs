//! Raw clients of the aria2-compatible port (HTTP bodies and WebSocket
//! frames as JSON, so tests assert aria2's wire format itself), and a real
//! `aria2c` to compare it with.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

/// The secret the tests give aria2c and haul's aria2 port alike.
pub const SECRET: &str = "aria2-test-secret";

/// An aria2 JSON-RPC endpoint: haul's, or a real aria2c's.
pub struct Aria2Client {
    pub url: String,
    http: reqwest::Client,
}

impl Aria2Client {
    pub fn new(addr: &str) -> Aria2Client {
        Aria2Client {
            url: format!("http://{addr}/jsonrpc"),
            http: reqwest::Client::new(),
        }
    }

    /// POSTs a raw body; the status and the parsed answer.
    pub async fn post(&self, body: &str) -> (u16, Value) {
        let response = self
            .http
            .post(&self.url)
            .body(body.to_owned())
            .send()
            .await
            .expect("the aria2 port answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        (status, value)
    }

    /// Calls `method` with the token before `params`, as aria2 clients do;
    /// the HTTP status and the whole answer.
    pub async fn call(&self, method: &str, params: Value) -> (u16, Value) {
        let mut all = vec![json!(format!("token:{SECRET}"))];
        all.extend(params.as_array().cloned().unwrap_or_default());
        let body = json!({"jsonrpc": "2.0", "id": "t", "method": method, "params": all});
        self.post(&body.to_string()).await
    }

    /// The result of a call that must succeed.
    pub async fn result(&self, method: &str, params: Value) -> Value {
        let (status, answer) = self.call(method, params.clone()).await;
        assert_eq!(status, 200, "{method} {params}: {answer}");
        answer["result"].clone()
    }

    /// The error of a call that must fail.
    pub async fn error(&self, method: &str, params: Value) -> Value {
        let (status, answer) = self.call(method, params.clone()).await;
        assert_eq!(status, 400, "{method} {params}: {answer}");
        answer["error"].clone()
    }

    /// Waits until `gid`'s `status` is `wanted`.
    pub async fn status_until(&self, gid: &str, wanted: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (_, answer) = self.call("aria2.tellStatus", json!([gid])).await;
            let status = &answer["result"];
            if status["status"] == wanted {
                return status.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{gid} never became {wanted}: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn ws(&self) -> Aria2Socket {
        let url = self.url.replacen("http://", "ws://", 1);
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the aria2 WebSocket opens");
        Aria2Socket { socket }
    }
}

pub struct Aria2Socket {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Aria2Socket {
    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::text(frame.to_string()))
            .await
            .expect("a frame goes out");
    }

    /// The next text frame, parsed; `None` after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(timeout, self.socket.next())
                .await
                .ok()??;
            if let Message::Text(text) = frame.expect("a frame") {
                return Some(serde_json::from_str(&text).expect("JSON frames"));
            }
        }
    }
}

/// A real `aria2c --enable-rpc` on 127.0.0.1, downloading into `dir`.
pub struct Aria2c {
    child: Child,
    pub addr: String,
}

impl Aria2c {
    /// `None` when aria2c is not installed and HAUL_SKIP_ARIA2C=1 says to
    /// skip (as `.ci/run` installs it, CI never skips).
    pub async fn start(dir: &Path) -> Option<Aria2c> {
        if Command::new("aria2c")
            .arg("--version")
            .output()
            .await
            .is_err()
        {
            assert!(
                std::env::var("HAUL_SKIP_ARIA2C").is_ok_and(|v| v == "1"),
                "aria2c is not installed: install Debian's aria2, or set HAUL_SKIP_ARIA2C=1"
            );
            return None;
        }
        // aria2c cannot listen on port 0: take a free port and give it back.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("aria2c")
            .args(["--enable-rpc", "--no-conf", "--quiet", "--rpc-listen-port"])
            .arg(port.to_string())
            .arg(format!("--rpc-secret={SECRET}"))
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("aria2c starts");
        let addr = format!("127.0.0.1:{port}");
        let client = Aria2Client::new(&addr);
        for _ in 0..200 {
            if client.http.get(&client.url).send().await.is_ok() {
                return Some(Aria2c { child, addr });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("aria2c did not open its RPC port");
    }
}

impl Drop for Aria2c {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
