//! `andon token` arguments: static bearer tokens for `andon serve`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// Arguments of `andon token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// A role a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Submits incidents, records outcomes, closes incidents.
    Operator,
    /// Reads, exports, replays and verifies; changes nothing.
    Auditor,
    /// Every tool (governance).
    Admin,
}

/// `andon token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a role: prints it once (on stdout); the tokens file keeps
    /// only its SHA-256.
    Create(CreateArgs),
    /// List the tokens of a tokens file (ids, roles, labels; never a token).
    List(FileArgs),
    /// Revoke a token by id (a running server keeps the tokens it loaded at start).
    Revoke(RevokeArgs),
}

/// The tokens file.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The tokens file (`andon.tokens/1`, created when missing, mode 0600).
    #[arg(long)]
    pub tokens: PathBuf,
}

/// Arguments of `andon token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The role the token grants.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// Who holds it (free text, stored).
    #[arg(long, default_value = "")]
    pub label: String,
    /// The tokens file.
    #[command(flatten)]
    pub file: FileArgs,
}

/// Arguments of `andon token revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The token's id.
    pub id: String,
    /// The tokens file.
    #[command(flatten)]
    pub file: FileArgs,
}
