//! What an [`Engine`](super::Engine) is opened with.

use std::path::PathBuf;
use std::time::Duration;

use super::network::NetworkConfig;
use super::transfer::RetryPolicy;

/// Most connections one download may use.
pub const MAX_CONNECTIONS: u16 = 64;
/// Connections a download uses when its request does not say.
pub const DEFAULT_CONNECTIONS: u16 = 8;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Every file lands inside this directory (created if missing).
    pub download_root: PathBuf,
    /// Where the SQLite database lives (created if missing). `None` keeps the
    /// state in memory: nothing survives the process (`haul get`).
    pub state_dir: Option<PathBuf>,
    /// Downloads transferring at once; the rest wait in FIFO order.
    pub max_concurrent: usize,
    /// Open connections to one host, shared by all downloads.
    pub max_connections_per_host: usize,
    /// Bytes per second over all downloads; 0 means unlimited.
    pub global_speed_limit: u64,
    /// Smallest piece a range is split into, initially and when stealing.
    pub min_split: u64,
    /// A connection that delivers no byte for this long is dropped and retried.
    pub stall_timeout: Duration,
    /// Failed tries in a row (of the probe or of one range) before a
    /// transient failure fails the download; 0 retries for ever.
    pub max_tries: u32,
    /// First retry delay; doubles per try, with jitter.
    pub retry_base_delay: Duration,
    /// The longest wait a server's `Retry-After` gets.
    pub max_retry_wait: Duration,
    /// How often progress is synced to disk and recorded in the store.
    pub checkpoint_interval: Duration,
    /// How often progress events are emitted per download.
    pub progress_interval: Duration,
    /// Downloads kept in the store (history included) before `add` refuses.
    pub max_downloads: u64,
    /// Sent with every request.
    pub user_agent: String,
    /// Trusted authorities, the client certificate, the daemon's proxies.
    pub network: NetworkConfig,
}

impl EngineConfig {
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            first: self.retry_base_delay,
            max_tries: self.max_tries,
            max_wait: self.max_retry_wait,
        }
    }

    /// Defaults for everything but the two directories.
    pub fn new(download_root: impl Into<PathBuf>, state_dir: Option<PathBuf>) -> Self {
        EngineConfig {
            download_root: download_root.into(),
            state_dir,
            max_concurrent: 5,
            max_connections_per_host: 16,
            global_speed_limit: 0,
            min_split: 1024 * 1024,
            stall_timeout: Duration::from_secs(30),
            max_tries: 5,
            retry_base_delay: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(300),
            checkpoint_interval: Duration::from_secs(1),
            progress_interval: Duration::from_millis(500),
            max_downloads: 100_000,
            user_agent: concat!("haul/", env!("CARGO_PKG_VERSION")).to_owned(),
            network: NetworkConfig::default(),
        }
    }
}
