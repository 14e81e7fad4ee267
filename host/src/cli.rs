//! Argument definitions (clap). Handlers live in `command`.

pub mod demo;
pub mod eval;
pub mod inspect;

use clap::{Parser, Subcommand, ValueEnum};

/// Andon: provable remediation with sandboxed, content-hashed WebAssembly policy
/// components. Exit codes are documented in docs/cli.md.
#[derive(Debug, Parser)]
#[command(name = "andon", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate one component on one evidence document.
    Eval(eval::EvalArgs),
    /// Show a component's hash, world, imports and exports.
    Inspect(inspect::InspectArgs),
    /// Run every shipped gate and recipe on its golden cases and print the decisions.
    Demo(demo::DemoArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Machine-readable JSON on stdout.
    #[default]
    Json,
    /// Human-readable text.
    Text,
}
