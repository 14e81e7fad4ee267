//! Arguments of the log commands: `andon checkpoint`, `andon prove`,
//! `andon consistency` and `andon witness` (formats in docs/log.md).

use std::path::PathBuf;

use clap::Args;

/// Arguments of `andon checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointNoteArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// HMAC key file (opening for writing may record a repair).
    #[arg(long)]
    pub key: PathBuf,
    /// Ed25519 secret key file that signs the checkpoint.
    #[arg(long)]
    pub signing_key: PathBuf,
    /// Write the note to this file (durably) instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Arguments of `andon prove`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("receipt").required(true).args(["seq", "hash"]))]
pub struct ProveArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// The receipt to prove, by seq.
    #[arg(long)]
    pub seq: Option<u64>,
    /// The receipt to prove, by its hash (lowercase hex SHA-256).
    #[arg(long)]
    pub hash: Option<String>,
    /// Ed25519 public key file (ed25519.pub) of the ledger's checkpoints.
    #[arg(long)]
    pub public_key: PathBuf,
    /// Prove against this checkpoint note (default: the newest one the ledger stores).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Write the proof here instead of stdout (durably).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Also write the receipt line (the leaf, without its newline) to this file.
    #[arg(long)]
    pub leaf_output: Option<PathBuf>,
}

/// Arguments of `andon consistency`.
#[derive(Debug, Args)]
pub struct ConsistencyArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// The older checkpoint note (a file).
    pub old: PathBuf,
    /// The newer checkpoint note (default: the newest one the ledger stores).
    pub new: Option<PathBuf>,
    /// Ed25519 public key file (ed25519.pub) of the ledger's checkpoints.
    #[arg(long)]
    pub public_key: PathBuf,
    /// Write the proof here instead of stdout (durably).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Arguments of `andon witness`.
#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// A consistency proof file (`andon consistency` output: the tlog-witness
    /// `add-checkpoint` body) from the last checkpoint this witness cosigned of the
    /// log to the checkpoint to cosign. The first checkpoint a witness sees of a log
    /// is accepted on its signature alone (trust on first use).
    #[arg(required_unless_present = "print_verifier_key", conflicts_with = "print_verifier_key")]
    pub proof: Option<PathBuf>,
    /// The log's Ed25519 public key file (ed25519.pub).
    #[arg(long, required_unless_present = "print_verifier_key")]
    pub log_public_key: Option<PathBuf>,
    /// The log's origin (first line of its checkpoints, the ledger's `origin` file).
    #[arg(long, required_unless_present = "print_verifier_key")]
    pub origin: Option<String>,
    /// The witness's Ed25519 secret key file (`andon keys` writes one).
    #[arg(long)]
    pub witness_key: PathBuf,
    /// The witness's name (its key name in cosignatures), e.g. `witness.example/w1`.
    #[arg(long)]
    pub name: String,
    /// Folder where the witness keeps the last checkpoint it cosigned of each log.
    #[arg(long, required_unless_present = "print_verifier_key")]
    pub state: Option<PathBuf>,
    /// Print the witness's verifier key (for `andon audit --witness`) and exit.
    #[arg(long)]
    pub print_verifier_key: bool,
    /// Write the cosigned checkpoint here instead of stdout (durably).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Arguments of `andon cosigned`.
#[derive(Debug, Args)]
pub struct CosignedArgs {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// Checkpoint notes cosigned by witnesses (`andon witness` output).
    #[arg(required = true)]
    pub notes: Vec<PathBuf>,
    /// Ed25519 public key file (ed25519.pub) of the ledger's checkpoints.
    #[arg(long)]
    pub public_key: PathBuf,
    /// A witness whose cosignatures to keep, as its verifier key (repeat for each);
    /// any other signature line is dropped.
    #[arg(long = "witness", value_name = "VKEY", required = true)]
    pub witnesses: Vec<String>,
}
