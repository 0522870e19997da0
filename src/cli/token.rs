//! `haul token add|ls|rm`: named tokens with a scope. Through the running
//! daemon (`token.*`, with an admin token); when no daemon answers, or with
//! `--offline`, on the state directory itself, which the daemon notices at
//! the next named token it sees.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use haul::api::{TokenAddParams, TokenRemoveParams, TokenScope};
use haul::rpc::tokens::{Scope, Tokens};
use haul::ClientError;

use super::paths;
use super::remote::RemoteArgs;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
    /// Change the state directory's tokens file directly instead of asking the daemon (which
    /// sees the change at once, running or not).
    #[arg(long, global = true)]
    offline: bool,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make a named token and print it (shown this once; only its digest is kept).
    Add {
        /// The token's name (letters, digits, `.`, `_`, `-`).
        name: String,
        /// What it may do: read (status, lists, events), control (also add, pause, resume,
        /// remove downloads without their files), admin (everything).
        #[arg(long, value_enum)]
        scope: CliScope,
    },
    /// List the named tokens (never their secrets).
    Ls,
    /// Revoke a named token: it is refused from now on.
    Rm {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CliScope {
    Read,
    Control,
    Admin,
}

impl From<CliScope> for Scope {
    fn from(scope: CliScope) -> Scope {
        match scope {
            CliScope::Read => Scope::Read,
            CliScope::Control => Scope::Control,
            CliScope::Admin => Scope::Admin,
        }
    }
}

/// A token as both ways report it.
struct Listed {
    name: String,
    scope: &'static str,
    created_at: String,
}

pub async fn run(remote: &RemoteArgs, args: TokenArgs) -> Result<()> {
    if !args.offline {
        let answered = match remote.connect_client().await {
            Ok(client) => online(&client, remote, &args.command).await,
            Err(e) => Err(e),
        };
        match answered {
            Ok(()) => return Ok(()),
            // Nothing listens, or no token to ask with: the file it is.
            Err(ClientError::Unreachable { source, .. })
                if super::remote::refused(source.as_ref()) => {}
            Err(ClientError::NoToken { .. }) => {}
            Err(e) => return Err(remote.explain(e)),
        }
    }
    offline(remote, &args.command)
}

/// Through the daemon's `token.*` methods.
async fn online(
    client: &haul::Client,
    remote: &RemoteArgs,
    command: &TokenCommand,
) -> Result<(), ClientError> {
    let printed = match command {
        TokenCommand::Add { name, scope } => {
            let scope = TokenScope::from(Scope::from(*scope));
            let token = client
                .token_add(&TokenAddParams::new(name.clone(), scope))
                .await?;
            remote.print(&token, || token.token.clone())
        }
        TokenCommand::Ls => {
            let list = client.token_list().await?;
            let rows = list
                .tokens
                .iter()
                .map(|t| Listed {
                    name: t.name.clone(),
                    scope: Scope::from(t.scope).as_str(),
                    created_at: t.created_at.clone(),
                })
                .collect::<Vec<_>>();
            remote.print(&list, || table(&rows))
        }
        TokenCommand::Rm { name } => {
            let removed = client
                .token_remove(&TokenRemoveParams::new(name.clone()))
                .await?;
            remote.print(&removed, || format!("revoked {}", removed.name))
        }
    };
    printed.map_err(|e| ClientError::Protocol(format!("{e:#}")))
}

/// The same commands on the state directory's file.
fn offline(remote: &RemoteArgs, command: &TokenCommand) -> Result<()> {
    let state_dir = match &remote.state_dir {
        Some(dir) => dir.clone(),
        None => paths::default_state_dir()?,
    };
    let tokens = Tokens::open(&state_dir)
        .with_context(|| format!("cannot use the tokens of {}", state_dir.display()))?;
    tracing::info!(state = %state_dir.display(), "no daemon answers: changing the tokens file");
    match command {
        TokenCommand::Add { name, scope } => {
            let (record, secret) = tokens.add(name, (*scope).into())?;
            let json = serde_json::json!({
                "name": record.name, "scope": record.scope.as_str(),
                "token": secret, "createdAt": record.created_at,
            });
            remote.print(&json, || secret.clone())
        }
        TokenCommand::Ls => {
            let records = tokens.list()?;
            let rows = records
                .iter()
                .map(|r| Listed {
                    name: r.name.clone(),
                    scope: r.scope.as_str(),
                    created_at: r.created_at.clone(),
                })
                .collect::<Vec<_>>();
            let json = serde_json::json!({
                "tokens": rows.iter().map(|r| serde_json::json!({
                    "name": r.name, "scope": r.scope, "createdAt": r.created_at,
                })).collect::<Vec<_>>(),
            });
            remote.print(&json, || table(&rows))
        }
        TokenCommand::Rm { name } => {
            tokens.remove(name)?;
            let json = serde_json::json!({ "name": name });
            remote.print(&json, || format!("revoked {name}"))
        }
    }
}

fn table(rows: &[Listed]) -> String {
    if rows.is_empty() {
        return "no named tokens (add one with `haul token add NAME --scope read`)".into();
    }
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:width$}  {:7}  CREATED", "NAME", "SCOPE");
    for r in rows {
        out += &format!("\n{:width$}  {:7}  {}", r.name, r.scope, r.created_at);
    }
    out
}
