//! Where the daemon keeps things, shared by `haul daemon` and the client
//! commands (which find the daemon's token there).

use std::path::PathBuf;

use anyhow::{Context, Result};

/// The daemon's default address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:6801";

/// `$XDG_STATE_HOME/haul` (usually `~/.local/state/haul`): the SDK's rule
/// ([`haul::client::local::state_dir`]), by which clients find the token.
pub fn default_state_dir() -> Result<PathBuf> {
    haul::client::local::state_dir().context(
        "cannot find a state directory (no home directory?)\nhint: pass --state-dir or set HAUL_STATE_DIR",
    )
}

/// The XDG download directory (usually `~/Downloads`).
pub fn default_download_dir() -> Result<PathBuf> {
    dirs::download_dir()
        .or_else(|| dirs::home_dir().map(|home| home.join("Downloads")))
        .context("cannot find a download directory (no home directory?)\nhint: pass --dir or set HAUL_DIR")
}
