//! The `haul` binary; see `cli/` for its commands.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
