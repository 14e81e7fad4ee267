//! Command handlers: call the library, print, return the exit code.

mod bundle;
mod demo;
mod eval;
mod incident;
mod inspect;
mod keys;
mod ledger;
mod log;
mod replay;
mod serve;
mod token;
mod verify;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Eval(args) => eval::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Bundle(args) => bundle::run(&args),
        Command::Incident(args) => incident::run(&args),
        Command::Export(args) => incident::export_cmd(&args),
        Command::Audit(args) => incident::audit_cmd(&args),
        Command::Report(args) => incident::report_cmd(&args),
        Command::Keys(args) => keys::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Ledger(args) => ledger::run(&args),
        Command::Checkpoint(args) => log::checkpoint(&args),
        Command::Prove(args) => log::prove(&args),
        Command::Consistency(args) => log::consistency(&args),
        Command::Witness(args) => log::witness(&args),
        Command::Cosigned(args) => log::cosigned(&args),
        Command::Mcp(args) => serve::mcp(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Token(args) => token::run(&args),
    }
}

/// Reads a file (or stdin for `-`), naming it in the error, and never more than
/// `limit` bytes (see `andon_core::evidence::read_capped`).
pub fn read_input(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        return Ok(andon_core::evidence::read_capped(std::io::stdin().lock(), "standard input", limit)?);
    }
    Ok(andon_core::evidence::read_file_capped(path, limit)?)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
