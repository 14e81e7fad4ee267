//! `andon`: the command-line shell over the Andon host library.
//!
//! Parses arguments (`cli`), calls the library (`command`), prints, and maps error
//! classes to the exit codes documented in `docs/cli.md`.

#[macro_use]
mod output;
mod cli;
mod command;
mod exit;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match command::run(args) {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            exit::code_for(&err).into()
        }
    }
}
