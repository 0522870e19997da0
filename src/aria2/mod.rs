//! aria2's JSON-RPC beside haul's own API: the door the aria2 ecosystem
//! (AriaNg, browser extensions, aria2p, aria2.js, *arr clients) already
//! knows. It is an adapter over the same [`Engine`] handle as haul's API,
//! so a download added through either door is seen through both.
//!
//! - `server`: the `--aria2-listen` port: `POST` and `GET /jsonrpc` and the
//!   WebSocket at `/jsonrpc`, behind the main port's Host/Origin guards.
//! - `wire`: requests read as aria2 reads them (its quirks included),
//!   answers and errors written as aria2 writes them.
//! - `methods`: the `aria2.*` and `system.*` methods over the engine.
//! - `shapes`: a download as aria2 shows it: numbers as strings, `files`.
//! - `options`: aria2's options onto haul's add requests and daemon options;
//!   `session`: aria2's input files (`--save-session`), for `haul import-aria2`.
//! - `results`: removed downloads, kept for `tellStopped` until purged, as
//!   aria2 keeps them (haul itself forgets a removed download).
//! - `notify`: engine events as `aria2.onDownload*` on every aria2 WebSocket,
//!   and as the stop order `results` keeps.

mod methods;
mod notify;
pub mod options;
mod results;
pub mod server;
pub mod session;
mod shapes;
mod wire;

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::rpc::auth::{Backoff, Token};

use results::Results;

/// The adapter's state, shared by every connection of the aria2 port.
pub struct Aria2 {
    engine: Engine,
    /// What `token:` must carry: `--aria2-secret`, else the daemon's token.
    secret: Token,
    backoff: Backoff,
    results: Mutex<Results>,
    /// aria2's `getSessionInfo`: new at every start.
    session_id: String,
    /// The `dir` of `changeGlobalOption`, relative to the download root:
    /// where downloads that name no `dir` of their own go.
    default_dir: Mutex<Option<String>>,
    /// Cancelled by `aria2.shutdown`: the daemon's own shutdown.
    shutdown: CancellationToken,
    /// The `aria2.onDownload*` frames, one copy for every aria2 WebSocket.
    notifications: broadcast::Sender<Arc<str>>,
}

impl Aria2 {
    /// The adapter over `engine`; the pump that turns engine events into
    /// notifications runs until the engine shuts down.
    pub fn new(engine: Engine, secret: Token, shutdown: CancellationToken) -> Arc<Aria2> {
        let (notifications, _) = broadcast::channel(4096);
        // Subscribed before the stopped list is read: no stop falls between.
        let events = engine.subscribe();
        let aria2 = Arc::new(Aria2 {
            results: Mutex::new(Results::of(&engine)),
            engine,
            secret,
            backoff: Backoff::new(),
            session_id: hex::encode(rand::random::<[u8; 20]>()),
            default_dir: Mutex::new(None),
            shutdown,
            notifications,
        });
        tokio::spawn(notify::run(events, aria2.clone()));
        aria2
    }

    fn results(&self) -> std::sync::MutexGuard<'_, Results> {
        self.results.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn default_dir(&self) -> Option<String> {
        self.default_dir
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
