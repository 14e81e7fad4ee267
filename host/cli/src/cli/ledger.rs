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
    /// Crash-test helper: append synthetic receipts as fast as possible, printing
    /// each acknowledged seq on its own line once it is durable.
    #[command(hide = true)]
    Stress(StressArgs),
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

/// Arguments of `andon ledger stress`.
#[derive(Debug, Args)]
pub struct StressArgs {
    /// The ledger directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// HMAC key file.
    #[arg(long)]
    pub key: PathBuf,
    /// Ed25519 secret key file; with it, a checkpoint is written every
    /// --checkpoint-every receipts.
    #[arg(long)]
    pub signing_key: Option<PathBuf>,
    /// Receipts between checkpoints.
    #[arg(long, default_value_t = 5)]
    pub checkpoint_every: u64,
    /// Receipts to append (0: until killed).
    #[arg(long, default_value_t = 0)]
    pub count: u64,
    /// Receipts per group commit (1: one fsync per receipt).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Zero-fill the receipts file this many bytes ahead (0: off).
    #[arg(long, default_value_t = 0)]
    pub preallocate: u64,
}
