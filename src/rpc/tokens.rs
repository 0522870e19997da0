//! Named tokens with a scope (`token.add`, `haul token add`): what a
//! dashboard, a CI job or another person gets instead of the daemon's own
//! token, which may do everything.
//!
//! They live in `tokens.json` in the state directory (mode 0600) as SHA-256
//! digests, never in clear: the secret is shown once, when made. A token is
//! 256 random bits, so a plain digest is as hard to reverse as the token is
//! to guess. The daemon and `haul token` offline both go through
//! [`Tokens`], which takes a lock around each change; the daemon notices a
//! file changed under it (by another process) at the next named token it
//! looks up, so a token removed offline stops working without a restart.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

/// What a token may do, narrowest first (`x-scope` in `openrpc.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Control,
    Admin,
}

impl Scope {
    pub fn parse(name: &str) -> Option<Scope> {
        match name {
            "read" => Some(Scope::Read),
            "control" => Some(Scope::Control),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Control => "control",
            Scope::Admin => "admin",
        }
    }
}

impl From<Scope> for crate::api::TokenScope {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::Read => crate::api::TokenScope::Read,
            Scope::Control => crate::api::TokenScope::Control,
            Scope::Admin => crate::api::TokenScope::Admin,
        }
    }
}

impl From<crate::api::TokenScope> for Scope {
    fn from(scope: crate::api::TokenScope) -> Self {
        match scope {
            crate::api::TokenScope::Read => Scope::Read,
            crate::api::TokenScope::Control => Scope::Control,
            crate::api::TokenScope::Admin => Scope::Admin,
        }
    }
}

/// A named token as stored, and as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Record {
    pub name: String,
    pub scope: Scope,
    /// Hex SHA-256 of the secret.
    sha256: String,
    pub created_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tokens: Vec<Record>,
}

/// A token that was found: its scope, and what is cancelled when it is
/// revoked (WebSocket connections opened with it end then).
#[derive(Debug, Clone)]
pub struct Grant {
    pub scope: Scope,
    pub revoked: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error("a token named `{0}` exists\nhint: remove it first (`haul token rm {0}`), or pick another name")]
    Exists(String),
    #[error("no token named `{0}`")]
    NotFound(String),
    #[error("`{0}` is not a token name: use 1 to 64 letters, digits, `.`, `_` or `-`")]
    BadName(String),
    #[error("cannot read the tokens file {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    #[error("the tokens file {} is not valid: {reason}\nhint: fix or delete it; until then no named token is accepted", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot write the tokens file {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
}

/// The tokens file's name in the state directory.
pub const TOKENS_FILE: &str = "tokens.json";

/// The named tokens of one state directory.
pub struct Tokens {
    path: PathBuf,
    loaded: RwLock<Loaded>,
}

#[derive(Default)]
struct Loaded {
    /// The file as last read: (modified, length, inode), `None` if absent.
    stamp: Option<(SystemTime, u64, u64)>,
    records: Vec<Record>,
    by_digest: HashMap<[u8; 32], Grant>,
    /// Set when the file could not be read: every named token is refused.
    broken: bool,
}

impl Tokens {
    /// The tokens in `state_dir` (none yet is fine).
    pub fn open(state_dir: &Path) -> Result<Tokens, TokensError> {
        let tokens = Tokens {
            path: state_dir.join(TOKENS_FILE),
            loaded: RwLock::new(Loaded::default()),
        };
        tokens.refresh()?;
        Ok(tokens)
    }

    /// The grant of the token whose digest is `digest`, if it is a named one.
    pub fn lookup(&self, digest: &[u8; 32]) -> Option<Grant> {
        if let Err(e) = self.refresh() {
            tracing::error!(error = %e, "named tokens are refused");
        }
        let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        match loaded.broken {
            true => None,
            false => loaded.by_digest.get(digest).cloned(),
        }
    }

    /// Every named token, oldest first.
    pub fn list(&self) -> Result<Vec<Record>, TokensError> {
        self.refresh()?;
        Ok(self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .records
            .clone())
    }

    /// Makes a token; returns its record and its secret, shown this once.
    pub fn add(&self, name: &str, scope: Scope) -> Result<(Record, String), TokensError> {
        if !valid_name(name) {
            return Err(TokensError::BadName(name.to_owned()));
        }
        let secret = format!("haul_{}", hex::encode(rand::random::<[u8; 32]>()));
        let record = Record {
            name: name.to_owned(),
            scope,
            sha256: hex::encode(Sha256::digest(secret.as_bytes())),
            created_at: super::handlers::rfc3339(SystemTime::now()),
        };
        self.change(|records| {
            if records.iter().any(|r| r.name == name) {
                return Err(TokensError::Exists(name.to_owned()));
            }
            records.push(record.clone());
            Ok(())
        })?;
        Ok((record, secret))
    }

    /// Revokes a token: from now on it is refused, and what it opened ends.
    pub fn remove(&self, name: &str) -> Result<(), TokensError> {
        self.change(|records| {
            let before = records.len();
            records.retain(|r| r.name != name);
            match records.len() == before {
                true => Err(TokensError::NotFound(name.to_owned())),
                false => Ok(()),
            }
        })
    }

    /// Reads the file, changes its records, writes it whole (a temporary
    /// file renamed into place), under a lock other processes respect.
    fn change(
        &self,
        edit: impl FnOnce(&mut Vec<Record>) -> Result<(), TokensError>,
    ) -> Result<(), TokensError> {
        let write_error = |error| TokensError::Write {
            path: self.path.clone(),
            error,
        };
        // Offline (`haul token add --offline`) before the daemon's first start.
        if let Some(dir) = self.path.parent() {
            super::auth::create_private_dir(dir).map_err(write_error)?;
        }
        let _lock = Lock::take(&self.path.with_extension("lock")).map_err(write_error)?;
        let mut records = match read(&self.path)? {
            Some(file) => file.tokens,
            None => Vec::new(),
        };
        edit(&mut records)?;
        let text = serde_json::to_string_pretty(&File {
            tokens: records.clone(),
        })
        .expect("records serialise");
        let temporary = self.path.with_extension("json.new");
        let _ = fs::remove_file(&temporary);
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut file| {
                file.write_all(text.as_bytes())?;
                file.write_all(b"\n")?;
                file.sync_all()
            })
            .and_then(|()| give_to_owner_of_dir(&temporary))
            .and_then(|()| fs::rename(&temporary, &self.path));
        if let Err(e) = written {
            let _ = fs::remove_file(&temporary);
            return Err(write_error(e));
        }
        self.refresh()
    }

    /// Reads the file again if it changed since it was last read.
    fn refresh(&self) -> Result<(), TokensError> {
        let stamp = match fs::metadata(&self.path) {
            Ok(m) => Some((
                m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                m.len(),
                m.ino(),
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(error) => {
                self.loaded
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .broken = true;
                return Err(TokensError::Read {
                    path: self.path.clone(),
                    error,
                });
            }
        };
        if self.loaded.read().unwrap_or_else(|e| e.into_inner()).stamp == stamp && stamp.is_some() {
            return Ok(());
        }
        let read = read(&self.path);
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        let file = match read {
            Ok(file) => file.unwrap_or_default(),
            Err(e) => {
                loaded.broken = true;
                return Err(e);
            }
        };
        let mut by_digest = HashMap::new();
        for record in &file.tokens {
            let mut digest = [0; 32];
            if hex::decode_to_slice(&record.sha256, &mut digest).is_err() {
                loaded.broken = true;
                return Err(TokensError::Corrupt {
                    path: self.path.clone(),
                    reason: format!("the digest of `{}` is not 64 hex digits", record.name),
                });
            }
            // A token that stays keeps its revocation handle.
            let revoked = loaded
                .by_digest
                .get(&digest)
                .filter(|grant| grant.scope == record.scope)
                .map_or_else(CancellationToken::new, |grant| grant.revoked.clone());
            by_digest.insert(
                digest,
                Grant {
                    scope: record.scope,
                    revoked,
                },
            );
        }
        // Gone, or given another scope: what it opened ends.
        for (digest, grant) in &loaded.by_digest {
            if by_digest
                .get(digest)
                .is_none_or(|kept: &Grant| kept.scope != grant.scope)
            {
                grant.revoked.cancel();
            }
        }
        *loaded = Loaded {
            stamp,
            records: file.tokens,
            by_digest,
            broken: false,
        };
        Ok(())
    }
}

fn read(path: &Path) -> Result<Option<File>, TokensError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(TokensError::Read {
                path: path.to_owned(),
                error,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| TokensError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })
}

/// Root changing the tokens of a daemon that runs as another user (`sudo
/// haul token add --offline`) leaves the file that user's, or the daemon
/// could no longer read it.
fn give_to_owner_of_dir(path: &Path) -> io::Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    let owner = fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 && owner.uid() != 0 {
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid()))?;
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// An exclusive `flock` on a lock file beside the tokens, held until dropped.
struct Lock {
    /// Held open: closing it releases the lock.
    _file: fs::File,
}

impl Lock {
    fn take(path: &Path) -> io::Result<Lock> {
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        give_to_owner_of_dir(path)?;
        // SAFETY: a valid open descriptor; flock has no memory effects.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Lock { _file: file })
    }
}

/// The digest a token is looked up by.
pub fn digest(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}
