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
    #[arg(long, default_value_t = andon_host::Limits::default().fuel)]
    pub fuel: u64,
    /// Memory limit in MiB.
    #[arg(long, default_value_t = andon_host::Limits::default().memory_bytes >> 20)]
    pub memory_mib: u64,
    /// Wall-clock backstop in milliseconds.
    #[arg(long, default_value_t = andon_host::Limits::default().deadline_ms)]
    pub deadline_ms: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
