//! The `haul` command line: one clap subcommand per file.

mod get;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "haul",
    version,
    about = "A fast, crash-safe download manager",
    after_help = "Logs go to stderr; set HAUL_LOG=info (or debug, trace) for more than warnings."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Get(get::GetArgs),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Get(args) => get::run(args).await,
        }
    }
}
