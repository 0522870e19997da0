//! What every client command shares: finding the daemon and its token,
//! turning SDK errors into messages that say what to do, and output.

use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use serde::Serialize;

use haul::client::local::{Local, DEFAULT_URL};
use haul::{Client, ClientError};

/// How client commands reach the daemon.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// The daemon's JSON-RPC URL: http(s)://HOST:PORT/jsonrpc, ws(s)://HOST:PORT/jsonrpc/ws, or
    /// unix:PATH for its unix socket.
    #[arg(long, env = "HAUL_URL", default_value = DEFAULT_URL, global = true)]
    pub url: String,
    /// The daemon's token. [default: read from the state directory]
    #[arg(long, env = "HAUL_RPC_SECRET", hide_env_values = true, global = true)]
    pub rpc_secret: Option<String>,
    /// A PEM file of the CA certificates to trust (instead of the system's) for an https:// or
    /// wss:// daemon whose certificate an internal CA signed.
    #[arg(long, env = "HAUL_RPC_CA_CERTIFICATE", global = true)]
    pub rpc_ca_certificate: Option<PathBuf>,
    /// The daemon's state directory, where its token is. [default: $XDG_STATE_HOME/haul]
    #[arg(long, env = "HAUL_STATE_DIR", global = true)]
    pub state_dir: Option<PathBuf>,
    /// Print JSON (the API's own objects) instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
}

impl RemoteArgs {
    /// Connects as [`Client::connect_local`] does, the flags first.
    pub async fn connect(&self) -> Result<Client> {
        match self.connect_client().await {
            Ok(client) => Ok(client),
            Err(ClientError::NoToken { file }) => Err(self.without_token(file).await),
            Err(e) => Err(self.explain(e)),
        }
    }

    /// The same, with the SDK's error as it is.
    pub async fn connect_client(&self) -> Result<Client, ClientError> {
        let flags = |name: &str| match name {
            "HAUL_URL" => Some(self.url.clone().into()),
            "HAUL_RPC_SECRET" => self.rpc_secret.clone().map(Into::into),
            "HAUL_STATE_DIR" => self.state_dir.clone().map(Into::into),
            "HAUL_RPC_CA_CERTIFICATE" => self.rpc_ca_certificate.clone().map(Into::into),
            _ => None,
        };
        Local::find_with(|name| flags(name).or_else(|| std::env::var_os(name)))?
            .connect()
            .await
    }

    /// The error when there is no token file: that the daemon is not
    /// running, if it is not; else where the token was looked for.
    async fn without_token(&self, file: Option<PathBuf>) -> anyhow::Error {
        let probe = match Client::connect(&self.url, "").await {
            Ok(client) => client.system_get_version().await.err(),
            Err(e) => Some(e),
        };
        match (probe, file) {
            (Some(e @ ClientError::Unreachable { .. }), _) => self.explain(e),
            (_, Some(file)) => anyhow!(
                "no daemon token at {}\nhint: pass --rpc-secret, or the --state-dir of the daemon at {}",
                file.display(),
                self.address()
            ),
            (_, None) => anyhow!(
                "no daemon token: no state directory to find it in (no home directory?)\nhint: pass --rpc-secret, or the --state-dir of the daemon at {}",
                self.address()
            ),
        }
    }

    /// Says what to do about an SDK error, naming the daemon's address.
    pub fn explain(&self, error: ClientError) -> anyhow::Error {
        match &error {
            ClientError::Unreachable { source, .. } if refused(source.as_ref()) => anyhow!(
                "daemon not running at {}: start it with `haul daemon`",
                self.address()
            ),
            _ if error.code() == Some(haul::api::ErrorCode::Forbidden) => {
                let needed = error
                    .data::<haul::api::ForbiddenErrorData>()
                    .map(|d| format!("{:?}", d.required_scope).to_lowercase())
                    .unwrap_or_else(|| "a wider".into());
                anyhow!(
                    "the daemon at {} refused the call: it needs a token of scope {needed}\nhint: use the daemon's own token (its state directory's rpc-secret), or one made with `haul token add NAME --scope {needed}`",
                    self.address()
                )
            }
            _ if error.code() == Some(haul::api::ErrorCode::Unauthorized) => anyhow!(
                "the daemon at {} refused the token\nhint: pass the daemon's --rpc-secret, or the --state-dir it uses",
                self.address()
            ),
            _ if error.code() == Some(haul::api::ErrorCode::RemoteFileDiffers) => {
                anyhow!("{error}\nhint: pass --restart to start again from zero at the new URL")
            }
            _ => anyhow::Error::new(error),
        }
    }

    fn address(&self) -> String {
        url::Url::parse(&self.url)
            .ok()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
            .unwrap_or_else(|| self.url.clone())
    }

    /// Prints `value` as JSON when `--json` was given, else `text()`.
    pub fn print<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).context("cannot print JSON")?
            );
        } else {
            let text = text();
            if !text.is_empty() {
                println!("{text}");
            }
        }
        Ok(())
    }
}

/// Whether a connection was refused somewhere down the error chain: nothing
/// listens at the address.
pub fn refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            )
        }) {
            return true;
        }
        next = e.source();
    }
    false
}
