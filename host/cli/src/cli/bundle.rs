//! `andon bundle …` arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Format;

/// Arguments of `andon bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// What to do with a bundle.
    #[command(subcommand)]
    pub command: BundleCommand,
}

/// Bundle subcommands.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Build the shipped recipes-wasm into a bundle directory (components from source).
    Build(BuildArgs),
    /// Sign a bundle directory with the publisher's Ed25519 key.
    Sign(SignArgs),
    /// Check every hash and, with a trust policy, the signature.
    Verify(VerifyArgs),
    /// Show routing, components, limits and policies.
    Inspect(InspectArgs),
    /// Run every golden case and the determinism gate.
    Test(TestArgs),
    /// Pack a bundle directory into one deterministic .tar.gz archive.
    Pack(PackArgs),
    /// Write a trust policy trusting a public key for bundle names.
    Trust(TrustArgs),
}

/// `bundle build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Source folder with bundle.json, schemas/, golden/, scenarios/.
    #[arg(long, default_value = "recipes-wasm")]
    pub source: PathBuf,
    /// Output bundle directory (must not exist or be empty).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Rebuild every guest from source twice in clean target directories and require
    /// identical component hashes (also equal to the ones embedded in this binary).
    #[arg(long)]
    pub check_reproducible: bool,
}

/// `bundle sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The publisher's Ed25519 secret key file (from `andon keys generate`).
    #[arg(long)]
    pub key: PathBuf,
}

/// `bundle verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Bundle directory or .tar.gz.
    pub bundle: PathBuf,
    /// Trust policy: when given, the bundle must be signed by a trusted key.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// `bundle inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Bundle directory or .tar.gz.
    pub bundle: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// `bundle test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Bundle directory or .tar.gz.
    pub bundle: PathBuf,
    /// Trust policy (verification is mandatory when given).
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// Compiled-code cache directory.
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// `bundle pack`.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The archive to write.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
}

/// `bundle trust`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The publisher's Ed25519 public key file.
    #[arg(long)]
    pub public_key: PathBuf,
    /// Bundle names the key may publish (repeatable; `*` for any).
    #[arg(long = "bundle", required = true)]
    pub bundles: Vec<String>,
    /// The trust policy file to write.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
}
