//! The parts of `daemon_fuzz`: what to send (`requests`) and what must come
//! back (`expect`), for a daemon started with these limits.

pub mod expect;
pub mod requests;

/// `--max-request-size`, the smallest the daemon takes: bounds an HTTP body
/// and a WebSocket call's params.
pub const MAX_REQUEST: usize = 262_144;
/// `--max-response-size`, which jsonrpsee also applies to every incoming
/// WebSocket message.
pub const MAX_FRAME: usize = 524_288;
pub const MAX_BATCH: usize = 8;
