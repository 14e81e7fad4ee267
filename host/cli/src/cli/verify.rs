//! `andon verify` arguments.

use std::path::PathBuf;

use clap::Args;

use super::Format;

/// Arguments of `andon verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// HMAC key file(s) to check receipt MACs with (repeat for rotated keys).
    #[arg(long)]
    pub key: Vec<PathBuf>,
    /// Ed25519 public key file (ed25519.pub) to check checkpoint signatures with.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// A checkpoint held outside the ledger (one checkpoint JSON object per file);
    /// truncation or rollback below it is detected. Needs --public-key.
    #[arg(long, requires = "public_key")]
    pub checkpoint: Vec<PathBuf>,
    /// A checkpoint note of the log held outside the ledger (C2SP tlog-checkpoint,
    /// e.g. from an export or `andon checkpoint`): the log must have only grown
    /// since, proven by a consistency proof (docs/log.md). Needs --public-key.
    #[arg(long, requires = "public_key", value_name = "NOTE")]
    pub since: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
