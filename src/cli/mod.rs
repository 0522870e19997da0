//! The `haul` command line: one file per command.
//!
//! - `daemon`: the daemon itself; `paths`: where it keeps things.

mod daemon;
mod paths;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A download daemon with a typed JSON-RPC API.
#[derive(Debug, Parser)]
#[command(name = "haul", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: JSON-RPC over HTTP and WebSocket on one port.
    Daemon(daemon::DaemonArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(match cli.command {
        Command::Daemon(_) => "info",
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Daemon(args) => daemon::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Prints the error with its context chain, lowercase, as one line per cause.
fn fail(error: anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}

/// Logs go to stderr; `HAUL_LOG` (a tracing filter) overrides the level.
fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HAUL_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{default},jsonrpsee=warn"))
    });
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}
