//! Authentication: the daemon's token, where it comes from, and how a
//! request proves it has it (DESIGN.md §4).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use tokio_util::sync::CancellationToken;

use super::tokens::{Scope, Tokens};
use crate::client::local::{read_token_file, TokenFileError};

/// The WebSocket subprotocol haul speaks, echoed to browsers.
pub const PROTOCOL: &str = "haul.jsonrpc";
/// Prefix of the subprotocol entry that carries the token for browsers.
pub const TOKEN_PROTOCOL_PREFIX: &str = "haul.bearer.";
/// The token file's name in the state directory.
pub use crate::client::local::TOKEN_FILE;

/// The secret every request must present. Never printed.
#[derive(Clone)]
pub struct Token {
    /// Compared as digests, so the comparison time depends on neither the
    /// token's length nor its content.
    digest: [u8; 32],
}

/// Where the token came from, for the log line that says where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `--rpc-secret` or `HAUL_RPC_SECRET`.
    Given,
    /// Read from this file, written at an earlier start.
    Stored(PathBuf),
    /// Generated now and written to this file.
    Generated(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the rpc secret is empty: give a non-empty --rpc-secret or leave it out to use a generated one")]
    Empty,
    #[error("a secret of {len} bytes is too short to be safe: give at least {MIN_SECRET_LEN} (e.g. `openssl rand -hex 16`), or leave it out to use a generated one")]
    TooShort { len: usize },
    #[error("cannot read the rpc secret {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write the rpc secret {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("the rpc secret {} is readable by other users (mode {mode:o})\nhint: chmod 600 {}", path.display(), path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("the rpc secret file {} is empty\nhint: delete it and a new one is generated at the next start", path.display())]
    Corrupt { path: PathBuf },
}

/// The shortest secret a user may choose: 128 bits of hex.
pub const MIN_SECRET_LEN: usize = 16;

impl Token {
    /// A secret the user chose (a flag, a variable, a file): long enough to
    /// resist guessing, which the failure backoff only slows.
    pub fn chosen(secret: &str) -> Result<Token, TokenError> {
        if !secret.is_empty() && secret.len() < MIN_SECRET_LEN {
            return Err(TokenError::TooShort { len: secret.len() });
        }
        Token::new(secret)
    }

    pub fn new(secret: &str) -> Result<Token, TokenError> {
        if secret.is_empty() {
            return Err(TokenError::Empty);
        }
        Ok(Token {
            digest: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// The given secret, else the one stored in `state_dir`, else a new
    /// random 256-bit one written there with mode 0600.
    pub fn load_or_generate(
        given: Option<&str>,
        state_dir: &Path,
    ) -> Result<(Token, TokenSource), TokenError> {
        if let Some(secret) = given {
            return Ok((Token::chosen(secret)?, TokenSource::Given));
        }
        let path = state_dir.join(TOKEN_FILE);
        let write_error = |source| TokenError::Write {
            path: path.clone(),
            source,
        };
        create_private_dir(state_dir).map_err(write_error)?;
        match read_secret(&path) {
            Ok(secret) => return Ok((Token::stored(&secret, &path)?, TokenSource::Stored(path))),
            Err(TokenError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        // Written whole to a private temporary file, then linked into place:
        // a reader never sees a partial token, and of two daemons starting
        // at once, one wins and the other reads its token.
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let temporary = state_dir.join(format!(".{TOKEN_FILE}.{}", std::process::id()));
        let written =
            write_private(&temporary, &secret).and_then(|()| fs::hard_link(&temporary, &path));
        let _ = fs::remove_file(&temporary);
        match written {
            Ok(()) => Ok((Token::new(&secret)?, TokenSource::Generated(path))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let secret = read_secret(&path)?;
                Ok((Token::stored(&secret, &path)?, TokenSource::Stored(path)))
            }
            Err(e) => Err(write_error(e)),
        }
    }

    fn stored(secret: &str, path: &Path) -> Result<Token, TokenError> {
        Token::new(secret).map_err(|_| TokenError::Corrupt {
            path: path.to_owned(),
        })
    }

    /// Whether `candidate` is the token, in constant time.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate).into();
        self.digest.ct_eq(&digest).into()
    }

    /// Checks a request's headers: `Authorization: Bearer <token>`, or for
    /// WebSocket upgrades a `haul.bearer.<token>` subprotocol entry. The
    /// daemon's token may do everything; else `named` says whether it is a
    /// named token, and of which scope.
    pub fn check(&self, headers: &HeaderMap, upgrade: bool, named: Option<&Tokens>) -> Verdict {
        let Some((candidate, via_protocol)) = presented(headers, upgrade) else {
            return Verdict::Refused;
        };
        let digest = super::tokens::digest(candidate);
        if self.digest.ct_eq(&digest).into() {
            return Verdict::Allowed(Access {
                via_protocol,
                scope: Scope::Admin,
                revoked: None,
            });
        }
        match named.and_then(|tokens| tokens.lookup(&digest)) {
            Some(grant) => Verdict::Allowed(Access {
                via_protocol,
                scope: grant.scope,
                revoked: Some(grant.revoked),
            }),
            None => Verdict::Refused,
        }
    }
}

/// The token a request presents: `Authorization: Bearer <token>`, or for
/// WebSocket upgrades a `haul.bearer.<token>` subprotocol entry (then
/// `true`).
fn presented(headers: &HeaderMap, upgrade: bool) -> Option<(&[u8], bool)> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        return bearer(value.as_bytes()).map(|token| (token, false));
    }
    if !upgrade {
        return None;
    }
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .flat_map(protocol_entries)
        .find_map(|entry| entry.strip_prefix(TOKEN_PROTOCOL_PREFIX))
        .map(|token| (token.as_bytes(), true))
}

/// What an authenticated request may do.
#[derive(Debug, Clone)]
pub struct Access {
    /// The token came as a subprotocol entry, so the response must name
    /// the protocol it accepts ([`PROTOCOL`]).
    pub via_protocol: bool,
    pub scope: Scope,
    /// A named token's revocation, which ends what it opened.
    pub revoked: Option<CancellationToken>,
}

/// The outcome of [`Token::check`].
#[derive(Debug, Clone)]
pub enum Verdict {
    Allowed(Access),
    Refused,
}

/// Creates `dir` (and its parents) with the last part private to the
/// user: it holds the token and the database, whose requests may carry
/// credentials in their headers.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        result => result,
    }
}

fn write_private(path: &Path, secret: &str) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(format!("{secret}\n").as_bytes())?;
    file.sync_all()
}

/// Reads a token file, by the SDK's rules ([`read_token_file`]: the
/// CLI's and the SDKs' reader). An empty one reads as empty, for the
/// caller to judge: a stored token is corrupt, a chosen one missing.
pub fn read_secret(path: &Path) -> Result<String, TokenError> {
    match read_token_file(path) {
        Ok(secret) => Ok(secret),
        Err(TokenFileError::Empty { .. }) => Ok(String::new()),
        Err(TokenFileError::Read { path, source }) => Err(TokenError::Read { path, source }),
        Err(TokenFileError::Exposed { path, mode }) => Err(TokenError::Exposed { path, mode }),
    }
}

/// Reads a chosen secret's file (`--rpc-secret-file`) as [`read_secret`]
/// does, except in systemd's credentials directory (`LoadCredential=`):
/// that one only the service can see, and systemd may let it read a file
/// through an ACL, which shows as group bits in the mode.
pub fn read_secret_file(path: &Path) -> Result<String, TokenError> {
    let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(PathBuf::from)
        .is_some_and(|dir| dir.is_absolute() && path.starts_with(dir));
    if !credential {
        return read_secret(path);
    }
    fs::read_to_string(path)
        .map(|secret| secret.trim().to_owned())
        .map_err(|source| TokenError::Read {
            path: path.to_owned(),
            source,
        })
}

/// Whether the upgrade request offers the [`PROTOCOL`] subprotocol.
pub fn offers_protocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .flat_map(protocol_entries)
        .any(|p| p == PROTOCOL)
}

fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then_some(token)
}

fn protocol_entries(value: &HeaderValue) -> impl Iterator<Item = &str> {
    value
        .to_str()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Locks out an address that keeps failing: past [`Backoff::FREE_TRIES`]
/// failures in a row (a mistyped token costs nothing), each failure locks
/// it out for longer than the one before (up to [`Backoff::MAX_DELAY`]),
/// and a try during the lockout is refused at once, without its token being
/// looked at. So guessing is slow whether the guesses come one after
/// another or in parallel (one per lockout is checked), no connection
/// waits meanwhile, and other addresses are not affected. A success or a
/// quiet minute forgives.
pub struct Backoff {
    /// Failures in a row, when the last was, and until when the address
    /// is locked out.
    failures: Mutex<HashMap<IpAddr, Failures>>,
    /// Whether `failures` may hold an entry: lets a success skip the lock,
    /// which every serving thread would otherwise take on every call.
    any: AtomicBool,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Instant,
}

/// Whether an address may try a token now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Locked out for this much longer.
    Locked(Duration),
}

impl Backoff {
    const MAX_DELAY: Duration = Duration::from_secs(2);
    const FREE_TRIES: u32 = 3;
    const FORGET_AFTER: Duration = Duration::from_secs(60);
    /// Bounds the table; past it, the oldest entries go first.
    const MAX_TRACKED: usize = 4096;

    pub fn new() -> Backoff {
        Backoff {
            failures: Mutex::new(HashMap::new()),
            any: AtomicBool::new(false),
        }
    }

    /// Whether `ip` may try now.
    pub fn gate(&self, ip: IpAddr) -> Gate {
        if !self.any.load(Ordering::Relaxed) {
            return Gate::Open;
        }
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(&ip) {
            Some(f) if f.locked_until > now => Gate::Locked(f.locked_until - now),
            _ => Gate::Open,
        }
    }

    /// Records a failure from `ip` and returns how long it is locked out
    /// (zero while it has tries left).
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= Self::MAX_TRACKED {
            failures.retain(|_, f| now.duration_since(f.last) < Self::FORGET_AFTER);
            if failures.len() >= Self::MAX_TRACKED {
                failures.clear();
            }
        }
        self.any.store(true, Ordering::Relaxed);
        let entry = failures.entry(ip).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: now,
        });
        if now.duration_since(entry.last) >= Self::FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        let Some(over) = entry.count.checked_sub(Self::FREE_TRIES + 1) else {
            return Duration::ZERO;
        };
        let delay = (Duration::from_millis(50) * (1 << over.min(6))).min(Self::MAX_DELAY);
        entry.locked_until = now + delay;
        delay
    }

    pub fn succeeded(&self, ip: IpAddr) {
        if !self.any.load(Ordering::Relaxed) {
            return;
        }
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&ip);
        self.any.store(!failures.is_empty(), Ordering::Relaxed);
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_bearer_header_or_the_subprotocol_entry_proves_the_token() {
        let token = Token::new("s3cret").unwrap();
        let check = |pairs: &[(&'static str, &str)], upgrade| match token.check(
            &headers(pairs),
            upgrade,
            None,
        ) {
            Verdict::Allowed(access) => Some((access.via_protocol, access.scope)),
            Verdict::Refused => None,
        };
        let admin = Some((false, Scope::Admin));
        assert_eq!(check(&[("authorization", "Bearer s3cret")], false), admin);
        assert_eq!(check(&[("authorization", "bearer s3cret")], true), admin);
        assert_eq!(check(&[("authorization", "Bearer s3cre")], false), None);
        assert_eq!(check(&[("authorization", "Basic s3cret")], false), None);
        let protocols = [("sec-websocket-protocol", "haul.jsonrpc, haul.bearer.s3cret")];
        assert_eq!(check(&protocols, true), Some((true, Scope::Admin)));
        assert_eq!(
            check(&protocols, false),
            None,
            "plain HTTP ignores subprotocols"
        );
        assert_eq!(check(&[], true), None);
    }

    #[test]
    fn a_named_token_gets_its_scope_until_it_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = Tokens::open(dir.path()).unwrap();
        let (_, secret) = tokens.add("ci", Scope::Control).unwrap();
        let token = Token::new("0123456789abcdef").unwrap();
        let bearer = format!("Bearer {secret}");
        let pairs = [("authorization", bearer.as_str())];
        let Verdict::Allowed(access) = token.check(&headers(&pairs), false, Some(&tokens)) else {
            panic!("the named token is refused");
        };
        assert_eq!(access.scope, Scope::Control);
        let revoked = access.revoked.unwrap();
        assert!(matches!(
            token.check(&headers(&pairs), false, None),
            Verdict::Refused
        ));
        tokens.remove("ci").unwrap();
        assert!(revoked.is_cancelled());
        assert!(matches!(
            token.check(&headers(&pairs), false, Some(&tokens)),
            Verdict::Refused
        ));
        let stored =
            fs::read_to_string(dir.path().join(super::super::tokens::TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&secret), "only digests are stored");
    }

    #[test]
    fn a_generated_token_is_stored_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (_, source) = Token::load_or_generate(None, dir.path()).unwrap();
        let path = dir.path().join(TOKEN_FILE);
        assert_eq!(source, TokenSource::Generated(path.clone()));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let secret = read_secret(&path).unwrap();
        assert_eq!(secret.len(), 64, "256 bits in hex");
        let (token, source) = Token::load_or_generate(None, dir.path()).unwrap();
        assert_eq!(source, TokenSource::Stored(path));
        assert!(token.matches(secret.as_bytes()));
    }

    #[test]
    fn the_state_directory_is_private_and_an_empty_token_file_says_how_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("nested").join("state");
        Token::load_or_generate(None, &state).unwrap();
        assert_eq!(
            fs::metadata(&state).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let path = state.join(TOKEN_FILE);
        fs::write(&path, "\n").unwrap();
        let error = Token::load_or_generate(None, &state)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("is empty\nhint: delete it"), "{error}");
    }

    #[test]
    fn a_token_file_others_can_read_is_refused_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TOKEN_FILE);
        fs::write(&path, "abc\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = Token::load_or_generate(None, dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("readable by other users (mode 644)")
                && error.contains("hint: chmod 600"),
            "{error}"
        );
    }

    #[test]
    fn repeated_failures_lock_out_longer_up_to_a_cap_and_only_their_address() {
        let backoff = Backoff::new();
        let (ip, other): (IpAddr, IpAddr) = ([127, 0, 0, 1].into(), [127, 0, 0, 2].into());
        assert_eq!(backoff.gate(ip), Gate::Open);
        let delays: Vec<Duration> = (0..13).map(|_| backoff.failed(ip)).collect();
        assert_eq!(delays[..3], [Duration::ZERO; 3], "three tries are free");
        assert_eq!(delays[3], Duration::from_millis(50));
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(delays[12], Backoff::MAX_DELAY);
        assert!(matches!(backoff.gate(ip), Gate::Locked(left) if left > Duration::from_secs(1)));
        assert_eq!(backoff.gate(other), Gate::Open);
        backoff.succeeded(ip);
        assert_eq!(backoff.gate(ip), Gate::Open);
        assert_eq!(backoff.failed(ip), Duration::ZERO);
    }

    #[test]
    fn a_secret_systemd_passed_as_a_credential_is_read_whatever_its_mode_says() {
        let credentials = tempfile::tempdir().unwrap();
        let path = credentials.path().join("rpc-secret");
        fs::write(&path, "from-load-credential-0123\n").unwrap();
        // What systemd's ACL for the service user looks like in the mode.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o440)).unwrap();
        assert!(matches!(
            read_secret_file(&path),
            Err(TokenError::Exposed { .. })
        ));
        std::env::set_var("CREDENTIALS_DIRECTORY", credentials.path());
        let read = read_secret_file(&path);
        std::env::remove_var("CREDENTIALS_DIRECTORY");
        assert_eq!(read.unwrap(), "from-load-credential-0123");
    }

    #[test]
    fn a_chosen_secret_must_be_long_enough() {
        let error = Token::chosen("hunter2").err().unwrap().to_string();
        assert!(
            error.contains("7 bytes is too short") && error.contains("at least 16"),
            "{error}"
        );
        assert!(Token::chosen("0123456789abcdef").is_ok());
    }
}
