//! haul: a download daemon with a typed JSON-RPC 2.0 API defined by `openrpc.json`.
//!
//! Module map (one file or folder per concern):
//!
//! - [`api`] (feature `client`): everything generated from `openrpc.json` by
//!   `build.rs` — the wire types, the `DaemonApiServer` trait, the
//!   `Notification` enum, the `ErrorCode` enum, the method-name constants and
//!   each method's params schema.
//! - [`client`] (feature `client`): the typed Rust SDK, [`Client`], over HTTP or
//!   WebSocket, and [`Events`], its stream of typed notifications that
//!   reconnects, replays and resynchronises by itself.
//! - [`engine`] (feature `server`): the transport-neutral download engine —
//!   queue, per-download tasks, segments, the SQLite store and engine events.
//! - `rpc` (feature `server`): the daemon — transport, auth, the pump (engine
//!   events → notifications, the one mapping), the push hub, and the
//!   `DaemonApiServer` implementation over the engine.
//! - [`backoff`] (feature `client`): the one retry rule, exponential backoff
//!   with jitter, for the engine's tries and the SDK's reconnections.
//! - [`cluster`] (feature `cluster`): several daemons sharing one
//!   PostgreSQL — the coordinator that registers a node and renews its
//!   lease, claims queued downloads, fences the owner's writes, reaps dead
//!   nodes, and the cluster-wide event log.
//! - `aria2` (feature `server`): aria2's JSON-RPC on a port of its own,
//!   an adapter over the same engine for the aria2 ecosystem's clients.
//! - `cli` (binary, `src/cli/`): the `haul` command line — the daemon, the
//!   client commands over the SDK, and `haul get`, the engine in-process;
//!   `haul get` and `haul watch` draw progress on one board, from
//!   notifications.
//!
//! # The SDK
//!
//! With only the `client` feature, this crate is haul's typed Rust SDK:
//!
//! ```no_run
//! use futures::StreamExt;
//! use haul::api::{DownloadAddParams, DownloadState, DownloadStatusParams, Notification};
//! use haul::client::Event;
//! use haul::{Client, ClientError};
//!
//! # async fn run() -> Result<(), ClientError> {
//! let client = Client::connect("http://127.0.0.1:6801/jsonrpc", "the-daemon-token").await?;
//! let mut events = client.events();
//! events.ready().await?; // nothing sent from here on is missed
//!
//! let gid = client.download_add(&DownloadAddParams::new("https://example.com/file.iso")).await?.gid;
//! while let Some(event) = events.next().await {
//!     match event? {
//!         Event::Notification(Notification::DownloadComplete(done)) if done.gid == gid => break,
//!         Event::Notification(Notification::DownloadError(failed)) if failed.gid == gid => {
//!             eprintln!("{}: {}", failed.code, failed.message);
//!             break;
//!         }
//!         // The daemon restarted (or we were away too long): the state now.
//!         Event::Resync(resync) => {
//!             let done = resync.downloads.iter().find(|d| d.gid == gid);
//!             if done.is_some_and(|d| matches!(d.state, DownloadState::Complete | DownloadState::Error)) {
//!                 break;
//!             }
//!         }
//!         _ => {}
//!     }
//! }
//! let status = client.download_status(&DownloadStatusParams::new(gid)).await?;
//! println!("{:?} {}", status.state, status.path.unwrap_or_default());
//! # Ok(()) }
//! ```

#[cfg(feature = "client")]
pub mod api;
#[cfg(feature = "client")]
pub mod backoff;
#[cfg(feature = "client")]
pub mod client;

#[cfg(feature = "client")]
pub use client::{Client, ClientError, Events};
#[cfg(feature = "server")]
pub mod aria2;
#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(feature = "server")]
pub mod rpc;
