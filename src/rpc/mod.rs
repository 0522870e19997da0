//! The daemon's RPC side: transport, auth, params checks, notifications, and
//! the `DaemonApiServer` handlers over the engine.
//!
//! - `server`: the one port — routing, Host/Origin guards, auth, jsonrpsee;
//!   `socket`: the TCP stream it can cut under a client that stopped reading;
//!   `threads`: the single-threaded runtimes connections are served on;
//!   `listen`: TCP, unix and systemd-passed sockets, and `--rpc-allow-ip`.
//! - `auth`: the token, its file, constant-time checks, failure lockout;
//!   `tokens`: named tokens with a scope (`token.add`), stored as digests;
//!   `tls`: the port's certificate (HTTPS and WSS), reloaded on SIGHUP.
//! - `params`: every call's params checked against their schemas in `openrpc.json`.
//! - `push`: notifications to every authenticated WebSocket, per-connection
//!   filters and replay; `window`: the recent notifications kept for replay.
//! - `handlers`: the `DaemonApiServer` methods over the engine; `pump`: engine
//!   events stamped and published as notifications, through the one
//!   event → notification mapping (which `haul get` renders through too).

pub mod auth;
pub mod handlers;
pub mod listen;
pub mod params;
pub mod pump;
pub mod push;
pub mod server;
pub mod socket;
pub mod threads;
pub mod tls;
pub mod tokens;
pub mod window;
