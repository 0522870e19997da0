//! The API, generated from `openrpc.json` by `build.rs` (see `codegen/`).
//!
//! Everything here follows the document: the wire types (params structs
//! named `<Method>Params`, notification payloads `<Notification>Event`), the
//! [`DaemonApi`] jsonrpsee trait, the [`Notification`] enum, [`ErrorCode`] and
//! the [`errors`] constructors, the [`method`] and [`notification`] name
//! constants, and [`OPENRPC_JSON`] itself. Edit the document, not this code.

// Trait methods take one argument per param, as the document lists them.
#![allow(clippy::too_many_arguments)]

include!(concat!(env!("OUT_DIR"), "/api.rs"));
