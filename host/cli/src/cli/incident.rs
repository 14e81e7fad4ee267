//! `andon incident …`, `andon export` and `andon audit` arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::Format;

/// Where the ledger and the host keys are.
#[derive(Debug, Args, Clone)]
pub struct HostArgs {
    /// Ledger directory (created if missing).
    #[arg(long)]
    pub ledger: PathBuf,
    /// Keys directory from `andon keys generate` (hmac.key, ed25519.key, ed25519.pub).
    #[arg(long)]
    pub keys: PathBuf,
}

/// Arguments of `andon incident`.
#[derive(Debug, Args)]
pub struct IncidentArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: IncidentCommand,
}

/// Incident subcommands.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Submit an incident's evidence against a bundle; prints the decision.
    Submit(SubmitArgs),
    /// Record the outcome of executing an incident's plan.
    Outcome(OutcomeArgs),
    /// Close an incident with feedback.
    Close(CloseArgs),
    /// Show an incident's status, receipts and generated outputs.
    Show(ShowArgs),
}

/// `incident submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The incident document (`-` for stdin).
    pub evidence: PathBuf,
    /// The bundle (directory or .tar.gz).
    #[arg(long)]
    pub bundle: PathBuf,
    /// Trust policy: the bundle must then be signed by a trusted publisher.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// Mark every receipt `evaluation_mode=true` (advisory; exports say so).
    #[arg(long)]
    pub evaluation_mode: bool,
    /// Ledger and keys.
    #[command(flatten)]
    pub host: HostArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Execution status.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    /// The plan was executed.
    Executed,
    /// The execution failed.
    Failed,
}

/// `incident outcome`.
#[derive(Debug, Args)]
pub struct OutcomeArgs {
    /// Incident id.
    pub id: String,
    /// How the execution went.
    #[arg(long, value_enum)]
    pub status: StatusArg,
    /// A note on the outcome.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Ledger and keys.
    #[command(flatten)]
    pub host: HostArgs,
}

/// `incident close`.
#[derive(Debug, Args)]
pub struct CloseArgs {
    /// Incident id.
    pub id: String,
    /// Feedback for the kaizen loop.
    #[arg(long, default_value = "")]
    pub feedback: String,
    /// Ledger and keys.
    #[command(flatten)]
    pub host: HostArgs,
}

/// `incident show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Incident id.
    pub id: String,
    /// Ledger directory.
    #[arg(long)]
    pub ledger: PathBuf,
    /// Print this generated document (narrative.md, remediation.md, runbook.md,
    /// checklist.md, policies.md, sla.json) instead of the summary.
    #[arg(long)]
    pub output: Option<String>,
}

/// `andon export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Incident id.
    pub id: String,
    /// The archive to write (an existing file is refused without --force).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Replace an existing archive at --out.
    #[arg(long)]
    pub force: bool,
    /// Ledger and keys.
    #[command(flatten)]
    pub host: HostArgs,
}

/// `andon audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The evidence bundle (.tar.gz).
    pub archive: PathBuf,
    /// The auditor's trusted copy of the host's public key (ed25519.pub).
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// A witness the auditor trusts, as its verifier key
    /// (`<name>+<key id>+<base64>`, printed by `andon witness --print-verifier-key`).
    #[arg(long = "witness", value_name = "VKEY")]
    pub witnesses: Vec<String>,
    /// How many of the --witness keys must have cosigned the export's log
    /// checkpoint (default: all of them).
    #[arg(long)]
    pub quorum: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// `andon report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Ledger directory.
    #[arg(long)]
    pub ledger: PathBuf,
    /// Only incidents reported at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}
