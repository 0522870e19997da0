//! The API, generated from `openrpc.json` by `build.rs` (see `codegen/`).
//!
//! Everything here follows the document: the wire types (params structs
//! named `<Method>Params`, notification payloads `<Notification>Event`), the
//! `DaemonApiServer` trait the daemon implements (feature `server`), taking
//! each method's params struct, the [`Notification`] enum, [`ErrorCode`] and
//! the [`errors`] constructors, the [`method`] and [`notification`] name
//! constants, each method's params schema ([`METHOD_PARAMS`]), and
//! [`OPENRPC_JSON`] itself. Edit the document, not this code.

include!(concat!(env!("OUT_DIR"), "/api.rs"));
