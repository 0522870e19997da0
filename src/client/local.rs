//! Finding the daemon on this machine the way the `haul` CLI does, so a
//! program needs no configuration either ([`crate::Client::connect_local`]).
//!
//! The URL is `HAUL_URL`, else [`DEFAULT_URL`]; a CA to trust for it,
//! `HAUL_RPC_CA_CERTIFICATE` (a PEM file). The token is
//! `HAUL_RPC_SECRET`, else the file the daemon wrote at its first start,
//! [`TOKEN_FILE`] in its state directory ([`state_dir`]). The TypeScript
//! (`connectLocal`) and Python (`Client.local`) SDKs follow the same rules
//! and say the same things when they fail.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::ClientError;

/// Where the daemon listens unless told otherwise (`haul daemon --listen`).
pub const DEFAULT_URL: &str = "http://127.0.0.1:6801/jsonrpc";
/// The token file's name in the daemon's state directory.
pub const TOKEN_FILE: &str = "rpc-secret";

/// The local daemon's URL and token, as found by [`Local::find`].
#[derive(Clone, PartialEq, Eq)]
pub struct Local {
    pub url: String,
    pub token: String,
    /// `HAUL_RPC_CA_CERTIFICATE`: a PEM file of the CA certificates to
    /// trust (instead of the system's), for a daemon serving TLS.
    pub ca_certificate: Option<PathBuf>,
}

impl fmt::Debug for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token.
        f.debug_struct("Local")
            .field("url", &self.url)
            .field("ca_certificate", &self.ca_certificate)
            .finish_non_exhaustive()
    }
}

impl Local {
    /// Connects to the daemon found, trusting the CA file if there is one.
    pub async fn connect(&self) -> Result<crate::Client, ClientError> {
        let mut builder = crate::Client::builder(&self.url, &self.token);
        if let Some(path) = &self.ca_certificate {
            let pem = std::fs::read(path).map_err(|e| ClientError::InvalidCertificate {
                reason: format!("cannot read {}: {e}", path.display()),
            })?;
            builder = builder.ca_certificate(pem);
        }
        builder.connect().await
    }

    /// The URL and token from this process's environment and the daemon's
    /// state directory.
    pub fn find() -> Result<Local, ClientError> {
        Local::find_with(|name| std::env::var_os(name))
    }

    /// The same, with `env` answering for the environment: the CLI puts its
    /// flags first this way, tests their own directories.
    pub fn find_with(env: impl Fn(&str) -> Option<OsString>) -> Result<Local, ClientError> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        let url = match var("HAUL_URL") {
            Some(url) => url.into_string().map_err(|url| ClientError::InvalidUrl {
                url: url.to_string_lossy().into_owned(),
                reason: "HAUL_URL is not UTF-8".into(),
            })?,
            None => DEFAULT_URL.to_owned(),
        };
        let ca_certificate = var("HAUL_RPC_CA_CERTIFICATE").map(PathBuf::from);
        let found = |token| Local {
            url,
            token,
            ca_certificate,
        };
        if let Some(token) = var("HAUL_RPC_SECRET") {
            let token = token.into_string().map_err(|_| ClientError::InvalidToken)?;
            return Ok(found(token));
        }
        let Some(dir) = state_dir_with(&var) else {
            return Err(ClientError::NoToken { file: None });
        };
        let path = dir.join(TOKEN_FILE);
        match read_token_file(&path) {
            Ok(token) => Ok(found(token)),
            Err(TokenFileError::Read { source, .. })
                if source.kind() == io::ErrorKind::NotFound =>
            {
                Err(ClientError::NoToken { file: Some(path) })
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The daemon's state directory (where it keeps its database and token):
/// `HAUL_STATE_DIR`, else `$XDG_STATE_HOME/haul`, else
/// `~/.local/state/haul`; `None` without a home directory.
pub fn state_dir() -> Option<PathBuf> {
    state_dir_with(&|name: &str| std::env::var_os(name).filter(|v| !v.is_empty()))
}

fn state_dir_with(var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = var("HAUL_STATE_DIR") {
        return Some(dir.into());
    }
    // The XDG spec ignores a relative XDG_STATE_HOME.
    if let Some(base) = var("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Some(base.join("haul"));
    }
    let home = match var("HOME") {
        Some(home) => PathBuf::from(home),
        // HOME unset: the password database's entry, as `dirs` and the
        // Python and Node runtimes do. (std lifted its deprecation once its
        // Windows answer was fixed; the allow is for older compilers.)
        #[allow(deprecated)]
        None => std::env::home_dir()?,
    };
    Some(home.join(".local/state/haul"))
}

/// Why a token file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read the daemon token {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("the daemon token {} is readable by other users (mode {mode:o})\nhint: chmod 600 {}", path.display(), path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("the daemon token file {} is empty\nhint: delete it and restart the daemon, which writes a new one", path.display())]
    Empty { path: PathBuf },
}

impl TokenFileError {
    /// A copy, for [`ClientError::duplicate`] (the I/O error keeps its kind and text).
    pub(crate) fn duplicate(&self) -> TokenFileError {
        match self {
            TokenFileError::Read { path, source } => TokenFileError::Read {
                path: path.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            TokenFileError::Exposed { path, mode } => TokenFileError::Exposed {
                path: path.clone(),
                mode: *mode,
            },
            TokenFileError::Empty { path } => TokenFileError::Empty { path: path.clone() },
        }
    }
}

/// Reads a token file: the daemon's own at start, the CLI's and the SDK's.
/// One that other users could read is refused, as ssh refuses such a key:
/// they could have read the token too.
pub fn read_token_file(path: &Path) -> Result<String, TokenFileError> {
    use std::io::Read;
    let read_error = |source| TokenFileError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Checked on the open handle, so the file cannot change in between.
        let mode = file.metadata().map_err(read_error)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(TokenFileError::Exposed {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let mut token = String::new();
    file.read_to_string(&mut token).map_err(read_error)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenFileError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;

    fn find(vars: &[(&str, &Path)]) -> Result<Local, ClientError> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_os_str().to_owned()))
            .collect();
        Local::find_with(|name| vars.get(name).cloned())
    }

    fn token_file(dir: &Path, mode: u32, text: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(TOKEN_FILE);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn the_state_directory_is_haul_state_dir_else_xdg_state_home_else_home() {
        let tmp = tempfile::tempdir().unwrap();
        let (given, xdg, home) = (
            tmp.path().join("g"),
            tmp.path().join("x"),
            tmp.path().join("h"),
        );
        token_file(&given, 0o600, "given\n");
        token_file(&xdg.join("haul"), 0o600, "xdg\n");
        token_file(&home.join(".local/state/haul"), 0o600, " home \n");
        let all = [
            ("HAUL_STATE_DIR", &*given),
            ("XDG_STATE_HOME", &*xdg),
            ("HOME", &*home),
        ];
        assert_eq!(find(&all).unwrap().token, "given");
        assert_eq!(find(&all[1..]).unwrap().token, "xdg");
        assert_eq!(find(&all[2..]).unwrap().token, "home");
        // A relative XDG_STATE_HOME is not one (the XDG spec).
        let relative = [("XDG_STATE_HOME", Path::new("x")), ("HOME", &*home)];
        assert_eq!(find(&relative).unwrap().token, "home");
    }

    #[test]
    fn haul_url_and_haul_rpc_secret_come_first() {
        let tmp = tempfile::tempdir().unwrap();
        token_file(tmp.path(), 0o600, "stored");
        let state = ("HAUL_STATE_DIR", tmp.path());
        assert_eq!(
            find(&[state]).unwrap(),
            Local {
                url: DEFAULT_URL.into(),
                token: "stored".into(),
                ca_certificate: None,
            }
        );
        let url = ("HAUL_URL", Path::new("ws://[::1]:7000/jsonrpc/ws"));
        let secret = ("HAUL_RPC_SECRET", Path::new("hunter2"));
        let found = find(&[state, url, secret]).unwrap();
        assert_eq!(
            (found.url.as_str(), found.token.as_str()),
            ("ws://[::1]:7000/jsonrpc/ws", "hunter2")
        );
        assert!(!format!("{found:?}").contains("hunter2"));
        // Set but empty is unset, as for the daemon's own flags.
        let empty = ("HAUL_RPC_SECRET", Path::new(""));
        assert_eq!(find(&[state, empty]).unwrap().token, "stored");
    }

    #[test]
    fn no_token_names_every_place_it_looked() {
        let tmp = tempfile::tempdir().unwrap();
        let error = find(&[("XDG_STATE_HOME", tmp.path())])
            .unwrap_err()
            .to_string();
        let file = tmp.path().join("haul").join(TOKEN_FILE);
        assert_eq!(
            error,
            format!(
                "no daemon token: HAUL_RPC_SECRET is not set and there is no {}\n\
                 hint: start the daemon (`haul daemon`), which writes that file; or set \
                 HAUL_RPC_SECRET to the daemon's --rpc-secret, or HAUL_STATE_DIR to its --state-dir",
                file.display()
            )
        );
    }

    #[test]
    fn a_token_file_that_others_can_read_or_that_is_empty_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = token_file(tmp.path(), 0o644, "abc");
        let state = [("HAUL_STATE_DIR", tmp.path())];
        let error = find(&state).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "the daemon token {} is readable by other users (mode 644)\nhint: chmod 600 {}",
                path.display(),
                path.display()
            )
        );
        token_file(tmp.path(), 0o600, "\n");
        let error = find(&state).unwrap_err().to_string();
        assert!(error.contains("is empty\nhint: delete it"), "{error}");
    }
}
