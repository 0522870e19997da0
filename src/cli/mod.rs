//! The `haul` command line: one file per concern.
//!
//! - `daemon`: the daemon itself; `paths`: where it keeps things.
//! - `remote`: how client commands find the daemon, its token, and print.
//! - `downloads`: add, ls, status, pause, resume, set-url, rm, version.
//! - `watch`: live progress from the daemon (`haul watch`, `haul add --wait`).
//! - `get`: `haul get`, the engine in this process, no daemon.
//! - `import`: `haul import-aria2`, an aria2 queue added to the daemon.
//! - `token`: `haul token add|ls|rm`, named tokens, online or offline.
//! - `board`: the progress display all three draw with, fed notifications
//!   (`get` maps its engine's events with the daemon's own mapping).
//! - `network`: the proxy and TLS flags of `haul daemon` and `haul get`.
//! - `values`: parsing and formatting rates, headers, sizes, durations.

mod board;
mod daemon;
mod downloads;
mod get;
mod import;
mod network;
mod paths;
mod remote;
mod token;
mod values;
mod watch;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// A download daemon with a typed JSON-RPC API.
#[derive(Debug, Parser)]
#[command(
    name = "haul",
    version,
    propagate_version = true,
    after_help = "Logs go to stderr; set HAUL_LOG=info (or debug, trace) for more."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: JSON-RPC over HTTP and WebSocket on one port.
    Daemon(daemon::DaemonArgs),
    /// Download URLs now, in this process (no daemon needed).
    Get(get::GetArgs),
    /// Add downloads to the daemon.
    Add {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: downloads::AddArgs,
    },
    /// List the daemon's downloads.
    Ls {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: downloads::LsArgs,
    },
    /// Show one download.
    Status {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: downloads::StatusArgs,
    },
    /// Pause downloads (they keep their bytes).
    Pause {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: downloads::GidsArgs,
    },
    /// Resume paused or failed downloads.
    Resume {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: downloads::GidsArgs,
    },
    /// Point a download at another URL of the same file (an expired link, a mirror), keeping
    /// its bytes.
    SetUrl {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: downloads::SetUrlArgs,
    },
    /// Remove downloads (stopping them first).
    Rm {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: downloads::RmArgs,
    },
    /// Show live progress of every download until interrupted.
    Watch {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: watch::WatchArgs,
    },
    /// Add the downloads of an aria2 session or input file (--save-session, --input-file).
    ImportAria2 {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: import::ImportArgs,
    },
    /// Manage named tokens with a scope (read, control, admin) for other programs and people.
    Token {
        #[command(flatten)]
        remote: remote::RemoteArgs,
        #[command(flatten)]
        args: token::TokenArgs,
    },
    /// Show the client's and the daemon's versions.
    Version {
        #[command(flatten)]
        remote: remote::RemoteArgs,
    },
    /// Print a shell completion script (e.g. `haul completions bash > /etc/bash_completion.d/haul`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(match cli.command {
        Command::Daemon(_) => "info",
        _ => "warn",
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    let result = runtime.block_on(async {
        use downloads::Change;
        match cli.command {
            // `get` decides its own exit status (how many downloads failed).
            Command::Get(args) => return get::run(args).await,
            Command::Daemon(args) => daemon::run(args).await,
            Command::Add { remote, args } => downloads::add(&remote, args).await,
            Command::Ls { remote, args } => downloads::ls(&remote, args).await,
            Command::Status { remote, args } => downloads::status(&remote, args).await,
            Command::Pause { remote, args } => {
                downloads::change(&remote, args.gids, Change::Pause).await
            }
            Command::Resume { remote, args } => {
                downloads::change(&remote, args.gids, Change::Resume).await
            }
            Command::SetUrl { remote, args } => downloads::set_url(&remote, args).await,
            Command::Rm { remote, args } => {
                downloads::change(
                    &remote,
                    args.gids,
                    Change::Remove {
                        delete_files: args.delete_files,
                    },
                )
                .await
            }
            Command::Watch { remote, args } => watch::watch(&remote, args).await,
            Command::ImportAria2 { remote, args } => import::import(&remote, args).await,
            Command::Token { remote, args } => token::run(&remote, args).await,
            Command::Version { remote } => downloads::version(&remote).await,
            Command::Completions { shell } => {
                clap_complete::generate(shell, &mut Cli::command(), "haul", &mut std::io::stdout());
                Ok(())
            }
        }
        .map(|()| ExitCode::SUCCESS)
    });
    match result {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

/// Prints the error with its context chain.
fn fail(error: anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}

/// Logs go to stderr; `HAUL_LOG` (a tracing filter) overrides the level.
fn init_logging(default: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("HAUL_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{default},jsonrpsee=warn"))
    });
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}
