//! A TCP proxy in front of a daemon, for tests of clients that must survive
//! the network: it cuts every open connection on demand, or freezes them
//! (stops relaying without closing, like a network that vanished), follows a
//! restarted daemon to its new address, refuses connections while "down",
//! and can refuse WebSocket upgrades like a proxy that does not speak
//! WebSocket.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: AbortHandle,
}

struct State {
    target: String,
    down: bool,
    refuse_upgrades: bool,
    open: Vec<AbortHandle>,
    freeze: Arc<Notify>,
}

impl Proxy {
    pub async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        let state = Arc::new(Mutex::new(State {
            target: target.to_owned(),
            down: false,
            refuse_upgrades: false,
            open: Vec::new(),
            freeze: Arc::new(Notify::new()),
        }));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = shared.clone();
                let task = tokio::spawn(relay(client, state.clone()));
                let mut state = state.lock().unwrap();
                state.open.retain(|t| !t.is_finished());
                state.open.push(task.abort_handle());
            }
        })
        .abort_handle();
        Proxy {
            addr,
            state,
            accept,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/jsonrpc", self.addr)
    }

    /// Drops every open connection, both ways.
    pub fn cut(&self) {
        for task in self.state.lock().unwrap().open.drain(..) {
            task.abort();
        }
    }

    /// Stops relaying on every open connection, keeping it open.
    pub fn freeze(&self) {
        let state = self.state.lock().unwrap();
        state.freeze.notify_waiters();
    }

    /// While down, connections are accepted and closed at once.
    pub fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
        if down {
            self.cut();
        }
    }

    pub fn retarget(&self, target: &str) {
        self.state.lock().unwrap().target = target.to_owned();
    }

    pub fn refuse_upgrades(&self, refuse: bool) {
        self.state.lock().unwrap().refuse_upgrades = refuse;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn relay(mut client: TcpStream, state: Arc<Mutex<State>>) {
    let (target, down, refuse_upgrades, freeze) = {
        let s = state.lock().unwrap();
        (
            s.target.clone(),
            s.down,
            s.refuse_upgrades,
            s.freeze.clone(),
        )
    };
    if down {
        return;
    }
    // The request head, to see whether it asks for an upgrade.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let upgrade = String::from_utf8_lossy(&head)
        .to_ascii_lowercase()
        .contains("upgrade: websocket");
    if upgrade && refuse_upgrades {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(&target).await else {
        return;
    };
    if server.write_all(&head).await.is_err() {
        return;
    }
    let frozen = freeze.notified();
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        () = frozen => {
            // Hold both sockets open, relaying nothing, until cut.
            std::future::pending::<()>().await;
        }
    }
}
