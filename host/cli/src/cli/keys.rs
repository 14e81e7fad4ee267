//! `andon keys` arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Format;

/// Arguments of `andon keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// `andon keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create hmac.key, ed25519.key (mode 0600) and ed25519.pub in a new or empty
    /// directory (mode 0700). Existing keys are never overwritten.
    Generate(GenerateArgs),
}

/// Arguments of `andon keys generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write the key files into.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
