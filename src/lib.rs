//! haul: a download daemon with a typed JSON-RPC 2.0 API defined by `openrpc.json`.
//!
//! Module map (one file or folder per concern):
//!
//! - [`api`] (feature `client`): everything generated from `openrpc.json` by
//!   `build.rs` — the wire types, the `DaemonApi` jsonrpsee trait, the
//!   `Notification` enum, the `ErrorCode` enum and the method-name constants.
//! - [`client`] (feature `client`): the typed Rust SDK, [`Client`], over HTTP or
//!   WebSocket, and its stream of typed notifications.
//! - [`engine`] (feature `server`): the transport-neutral download engine —
//!   queue, per-download tasks, segments, the SQLite store and engine events.
//! - `rpc` (feature `server`): the daemon — transport, auth, push hub, and the
//!   `DaemonApi` implementation over the engine.
//! - `cli` (binary, `src/cli/`): the `haul` command line — a clap subcommand
//!   dispatcher; `haul get` runs the engine in-process.

#[cfg(feature = "server")]
pub mod engine;
