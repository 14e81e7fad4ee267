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

use clap::{CommandFactory as _, FromArgMatches as _, Parser as _};

fn main() -> ExitCode {
    let args = if std::env::args().skip(1).any(|a| a == "--version" || a == "-V") {
        // The version a receipt records: the host's, wasmtime's and the engine
        // settings' digest (building an engine only for this flag).
        let long = match andon_core::AndonEngine::new() {
            Ok(engine) => {
                let info = andon_core::record::EngineInfo::of(&engine);
                format!("{}\nwasmtime {}\nengine config digest {}", info.host, info.wasmtime, info.config_digest)
            }
            Err(e) => format!("{}\n(engine unavailable: {e})", env!("CARGO_PKG_VERSION")),
        };
        let long: &'static str = Box::leak(long.into_boxed_str());
        let matches = cli::Cli::command().version(long).long_version(long).get_matches();
        cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    } else {
        cli::Cli::parse()
    };
    let level = match (args.quiet, args.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let ansi = match args.color {
        cli::Color::Always => true,
        cli::Color::Never => false,
        // Colour codes only on a terminal: a log file or a pipe gets plain text.
        cli::Color::Auto => std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .init();
    output::set_quiet(args.quiet);
    match command::run(args) {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            exit::code_for(&err).into()
        }
    }
}
