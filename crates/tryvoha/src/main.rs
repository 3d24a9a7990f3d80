//! The `tryvoha` binary: `serve` runs the server; the other subcommands are a thin client of
//! its HTTP API.

use std::process::ExitCode;

use clap::Parser;
use tryvoha::cli;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of standard output went away (`tryvoha regions | head`): it has what it
        // wanted, and there is nobody to tell.
        Err(error) if tryvoha::output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
