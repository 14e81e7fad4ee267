//! `andon replay` arguments.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::Format;

/// Arguments of `andon replay`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("selection").args(["seq", "incident", "all"]).multiple(false)))]
pub struct ReplayArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// Replay the receipt with this sequence number.
    #[arg(long)]
    pub seq: Option<u64>,
    /// Replay every receipt of this incident.
    #[arg(long)]
    pub incident: Option<String>,
    /// Replay every receipt (the default).
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
