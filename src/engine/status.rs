//! The values the engine reports: ids, states, per-download status, totals.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::SystemTime;

use super::error::Failure;
use super::network::Proxies;

/// A download's id: 64 random bits, written as 16 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gid(u64);

impl Gid {
    pub(crate) fn random() -> Self {
        Gid(rand::random())
    }
}

impl fmt::Display for Gid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Parsing accepts exactly the wire form, 16 lowercase hex digits.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a gid (16 lowercase hex digits)")]
pub struct ParseGidError(String);

impl FromStr for Gid {
    type Err = ParseGidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let well_formed =
            s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match well_formed.then(|| u64::from_str_radix(s, 16)) {
            Some(Ok(n)) => Ok(Gid(n)),
            _ => Err(ParseGidError(s.to_owned())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Queued,
    Active,
    Paused,
    Complete,
    Error,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Queued,
        State::Active,
        State::Paused,
        State::Complete,
        State::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Active => "active",
            State::Paused => "paused",
            State::Complete => "complete",
            State::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Complete and failed downloads stay listed as history until removed.
    pub fn is_finished(self) -> bool {
        matches!(self, State::Complete | State::Error)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One download as `status` and `list` report it.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub gid: Gid,
    pub url: String,
    pub state: State,
    pub file_name: Option<String>,
    /// The directory asked for, relative to the download root.
    pub dir: Option<String>,
    /// The absolute final path, once the name is chosen.
    pub path: Option<PathBuf>,
    /// `None` until the server said (or never, for a stream without length).
    pub total_length: Option<u64>,
    pub completed_length: u64,
    /// Bytes per second, 0 unless active.
    pub download_speed: u64,
    /// Seconds left at the current speed.
    pub eta: Option<u64>,
    /// Connections open now.
    pub connections: u32,
    /// Where the file comes from: its URL, then its mirrors.
    pub sources: Vec<SourceStatus>,
    /// Bytes per second; 0 means none.
    pub speed_limit: u64,
    /// The proxy its requests take now, without credentials.
    pub proxy: Option<String>,
    /// Whether it skips certificate verification.
    pub insecure: bool,
    pub error: Option<Failure>,
    pub created_at: SystemTime,
    pub completed_at: Option<SystemTime>,
    /// In a cluster, the node running it; `None` when no node does (and on
    /// a lone daemon).
    pub node: Option<String>,
}

/// One source of a download: its URL or a mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    /// Without its password.
    pub url: String,
    pub state: SourceState,
    /// Bytes per second from it, 0 unless active.
    pub download_speed: u64,
    /// Connections open to it now.
    pub connections: u32,
    /// Why it is dropped.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// Not in use: the download is not running (or has not begun its transfer).
    Waiting,
    /// In use by the running download.
    Active,
    /// No longer used by this run of the download: it failed, served
    /// another file, or was much slower than the others.
    Dropped,
}

impl SourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Waiting => "waiting",
            SourceState::Active => "active",
            SourceState::Dropped => "dropped",
        }
    }
}

/// The options that can change while the engine runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub max_concurrent: usize,
    /// Bytes per second over all downloads; 0 means none.
    pub global_speed_limit: u64,
    /// The daemon's proxies.
    pub proxies: Proxies,
}

/// Seconds left, when both the size and a speed are known.
pub(crate) fn eta(total: Option<u64>, completed: u64, speed: u64) -> Option<u64> {
    let total = total?;
    (speed > 0).then(|| total.saturating_sub(completed).div_ceil(speed))
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub active: u64,
    pub queued: u64,
    pub paused: u64,
    pub complete: u64,
    pub error: u64,
    /// Bytes per second over all active downloads.
    pub download_speed: u64,
    /// Why the store's last commit failed; `None` while it is healthy.
    pub store_failure: Option<super::StoreFailure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gids_are_sixteen_lowercase_hex_digits_both_ways() {
        let gid = Gid::random();
        let text = gid.to_string();
        assert_eq!(text.len(), 16);
        assert_eq!(text.parse::<Gid>().unwrap(), gid);
        for bad in [
            "",
            "123",
            "ABCDEF0123456789",
            "g123456789abcdef",
            "+123456789abcdef",
        ] {
            assert!(bad.parse::<Gid>().is_err(), "{bad:?}");
        }
    }
}
