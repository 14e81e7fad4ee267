//! `andon ledger` arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Format;

/// Arguments of `andon ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: LedgerCommand,
}

/// `andon ledger` subcommands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Write a signed checkpoint of the ledger head now and print it (keep a copy
    /// to detect truncation or rollback later with `andon verify --checkpoint`).
    Checkpoint(CheckpointArgs),
}

/// Arguments of `andon ledger checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// HMAC key file (opening for writing may record a repair).
    #[arg(long)]
    pub key: PathBuf,
    /// Ed25519 secret key file that signs the checkpoint.
    #[arg(long)]
    pub signing_key: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
