//! Argument definitions (clap). Handlers live in `command`.

pub mod bundle;
pub mod demo;
pub mod eval;
pub mod incident;
pub mod inspect;
pub mod keys;
pub mod ledger;
pub mod log;
pub mod replay;
pub mod serve;
pub mod token;
pub mod verify;

use clap::{Parser, Subcommand, ValueEnum};

/// Andon: provable remediation with sandboxed, content-hashed WebAssembly policy
/// components. Exit codes are documented in docs/cli.md.
#[derive(Debug, Parser)]
#[command(name = "andon", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr: -v info, -vv debug, -vvv trace (RUST_LOG, when
    /// set, decides instead).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr (no warnings, no progress).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Colour in log output on stderr.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub color: Color,
}

/// When to colour log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Color {
    /// When stderr is a terminal.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
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
    /// Build, sign, verify, inspect, test and pack bundles.
    Bundle(bundle::BundleArgs),
    /// Submit incidents, record outcomes, close them, show their outputs.
    Incident(incident::IncidentArgs),
    /// Export one incident as an evidence bundle (.tar.gz) for offline audit.
    Export(incident::ExportArgs),
    /// Audit an exported evidence bundle offline: signatures, chain, replay.
    Audit(incident::AuditArgs),
    /// The kaizen report: per recipe, recurring kinds and refusals, SLA by severity.
    Report(incident::ReportArgs),
    /// Generate the HMAC receipt key and the Ed25519 checkpoint key pair.
    Keys(keys::KeysArgs),
    /// Verify a ledger: every hash, link, MAC and checkpoint signature.
    Verify(verify::VerifyArgs),
    /// Re-run recorded decisions from the component store and compare them.
    Replay(replay::ReplayArgs),
    /// Ledger maintenance: signed checkpoints.
    Ledger(ledger::LedgerArgs),
    /// Sign a checkpoint of the ledger's Merkle tree now and print the note
    /// (C2SP tlog-checkpoint; docs/log.md).
    Checkpoint(log::CheckpointNoteArgs),
    /// Print the inclusion proof (C2SP tlog-proof) of one receipt in a checkpoint.
    Prove(log::ProveArgs),
    /// Print the consistency proof that a newer checkpoint extends an older one.
    Consistency(log::ConsistencyArgs),
    /// Act as a witness: check that a checkpoint extends the last one cosigned of
    /// the log, then cosign it (C2SP tlog-cosignature).
    Witness(log::WitnessArgs),
    /// Store witnesses' cosignatures of checkpoint notes in the ledger (exports
    /// then carry them for `andon audit --witness … --quorum K`).
    Cosigned(log::CosignedArgs),
    /// Serve the tools over MCP on stdio (stdout carries protocol messages only;
    /// logs go to stderr, filtered by RUST_LOG).
    Mcp(serve::McpArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; `andon man | man -l -`).
    Man,
    /// Serve the tools over MCP streamable HTTP at /mcp, with Prometheus /metrics.
    Serve(Box<serve::ServeArgs>),
    /// Create, list and revoke static bearer tokens of `andon serve` (stored as hashes).
    Token(token::TokenArgs),
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
