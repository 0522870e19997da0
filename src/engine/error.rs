//! The engine's two error vocabularies: [`EngineError`] for calls on the
//! handle (mapped one-to-one onto the API's error codes by the RPC layer) and
//! [`FailureCode`] for why a download ended in the `error` state.

use std::path::PathBuf;

use super::Gid;
use super::State;

/// Why a call on [`Engine`](super::Engine) was refused. Each variant carries
/// the value at fault so the RPC layer can put it into the error's `data`.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no download with gid {gid}")]
    NotFound { gid: Gid },
    #[error("download {gid} is {state}")]
    InvalidState { gid: Gid, state: State },
    #[error("invalid url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// A request parameter outside its documented range or format (bad
    /// checksum syntax, a header that is not valid HTTP, `connections` out of
    /// 1..=64). Maps onto JSON-RPC "invalid params".
    #[error("invalid {name}: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("path {} is outside the download root", path.display())]
    OutsideRoot { path: PathBuf },
    #[error("destination {} already exists", path.display())]
    DestinationExists { path: PathBuf },
    /// `set_url` found another file at the new URL (or could not ask it).
    #[error("{url} serves another file: {reason}")]
    RemoteFileDiffers { url: String, reason: String },
    #[error("limit of {max} {limit} reached")]
    LimitExceeded { limit: &'static str, max: u64 },
    /// The state store cannot record changes (a full or broken state disk):
    /// the change was not acknowledged.
    #[error("the state store cannot record changes: {reason}")]
    StoreUnavailable { reason: String },
    /// Details go to the log (`tracing::error!`), never to the caller.
    #[error("internal error")]
    Internal,
}

impl EngineError {
    /// Logs `detail` and returns [`EngineError::Internal`]: the one way local
    /// failures (store, runtime) cross the API boundary.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal engine error: {detail}");
        EngineError::Internal
    }

    pub(crate) fn store(failure: super::StoreFailure) -> Self {
        EngineError::StoreUnavailable { reason: failure.0 }
    }
}

/// Why a download failed: the `code` of its error and of the `Error` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureCode {
    /// Connect error, reset, timeout or stall, after the retries ran out.
    Network,
    /// The server answered with an error status.
    HttpStatus,
    /// The server broke HTTP's promises: wrong length, range ignored
    /// mid-download, too many redirects, a body shorter than announced.
    InvalidResponse,
    ChecksumMismatch,
    DestinationExists,
    DiskFull,
    /// Any other local file error.
    Io,
    /// A fault in haul itself (a panicking task); the log has the details.
    Internal,
    /// The server's certificate failed verification (unknown authority,
    /// wrong host, expired), or the TLS handshake did.
    Tls,
    /// The proxy refused the download: its credentials, or the tunnel.
    Proxy,
}

impl FailureCode {
    pub const ALL: [FailureCode; 10] = [
        FailureCode::Network,
        FailureCode::HttpStatus,
        FailureCode::InvalidResponse,
        FailureCode::ChecksumMismatch,
        FailureCode::DestinationExists,
        FailureCode::DiskFull,
        FailureCode::Io,
        FailureCode::Internal,
        FailureCode::Tls,
        FailureCode::Proxy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::Network => "network",
            FailureCode::HttpStatus => "http-status",
            FailureCode::InvalidResponse => "invalid-response",
            FailureCode::ChecksumMismatch => "checksum-mismatch",
            FailureCode::DestinationExists => "destination-exists",
            FailureCode::DiskFull => "disk-full",
            FailureCode::Io => "io",
            FailureCode::Internal => "internal",
            FailureCode::Tls => "tls",
            FailureCode::Proxy => "proxy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for FailureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed download's error: a code and a message for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: FailureCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: FailureCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Classifies a local file error: a full disk has its own code.
    pub fn io(context: &str, err: &std::io::Error) -> Self {
        let code = match err.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => FailureCode::DiskFull,
            _ => FailureCode::Io,
        };
        Failure::new(code, format!("{context}: {err}"))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_codes_round_trip_through_their_strings() {
        for code in FailureCode::ALL {
            assert_eq!(FailureCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn a_full_disk_is_not_a_generic_io_error() {
        let err = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(Failure::io("write", &err).code, FailureCode::DiskFull);
        let err = std::io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(Failure::io("write", &err).code, FailureCode::Io);
    }
}
