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
    /// Open the ledger for writing and repair what may be repaired: a torn tail no
    /// checkpoint covers is cut, with a `ledger_repaired` receipt. Damage that a
    /// signed checkpoint covers is cut only with `--cut-checkpointed-from SEQ`: the
    /// operator's decision that those acknowledged receipts are lost, recorded in
    /// the `ledger_repaired` receipt and followed by a new checkpoint.
    Repair(RepairArgs),
}

/// Arguments of `andon ledger repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// HMAC key file that signs the `ledger_repaired` receipt.
    #[arg(long)]
    pub key: PathBuf,
    /// Ed25519 secret key file that signs the checkpoint written after the repair.
    #[arg(long)]
    pub signing_key: PathBuf,
    /// Cut the damaged (or missing) receipts from this seq on even though a signed
    /// checkpoint covers them. It must be the first damaged seq, as the refusal to
    /// open (exit 22) names it.
    #[arg(long, value_name = "SEQ")]
    pub cut_checkpointed_from: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
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
