//! `andon eval` arguments.

use std::path::PathBuf;

use clap::Args;

use super::Format;

/// Arguments of `andon eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The component (.wasm) to run.
    #[arg(long, short = 'c')]
    pub component: PathBuf,
    /// The incident document: {"incident_id", "kind", "severity", "evidence": {...}}.
    /// `-` reads standard input.
    #[arg(long, short = 'e')]
    pub evidence: PathBuf,
    /// Route settings (JSON object) handed to the guest.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Fuel limit.
    #[arg(long, default_value_t = andon_core::Limits::default().fuel)]
    pub fuel: u64,
    /// Memory limit in MiB.
    #[arg(long, default_value_t = andon_core::Limits::default().memory_bytes >> 20)]
    pub memory_mib: u64,
    /// Wall-clock backstop in milliseconds.
    #[arg(long, default_value_t = andon_core::Limits::default().deadline_ms)]
    pub deadline_ms: u64,
    /// Append a receipt of this evaluation to the ledger in this directory (created
    /// if missing) and keep the component in its store. Needs --key.
    #[arg(long, requires = "key")]
    pub ledger: Option<PathBuf>,
    /// HMAC key file (hmac.key) that signs the receipt.
    #[arg(long, requires = "ledger")]
    pub key: Option<PathBuf>,
    /// Ed25519 secret key file (ed25519.key): the ledger then writes a signed
    /// checkpoint every --checkpoint-every receipts.
    #[arg(long, requires = "ledger")]
    pub signing_key: Option<PathBuf>,
    /// Receipts between automatic checkpoints.
    #[arg(long, default_value_t = andon_ledger::ledger::DEFAULT_CHECKPOINT_EVERY)]
    pub checkpoint_every: u64,
    /// Component id recorded in the receipt (default: the file name without `.wasm`).
    #[arg(long)]
    pub component_id: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
