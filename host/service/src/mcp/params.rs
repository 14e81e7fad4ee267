//! The tools' arguments. Unknown members are refused, and each tool's input
//! schema is derived from these types (see `handler` for the check).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// `submit_incident` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitArgs {
    /// The incident document: `{"incident_id", "kind", "severity", "evidence": {…}}`.
    /// Give this or `evidence_json`.
    pub evidence: Option<Map<String, Value>>,
    /// The incident document as JSON text (parsed strictly: duplicate keys refused).
    pub evidence_json: Option<String>,
    /// Name of the bundle to decide with; default: the first that routes the kind.
    pub bundle: Option<String>,
    /// Evaluation (dry-run) mode: receipts are marked advisory.
    #[serde(default)]
    pub evaluation_mode: bool,
}

/// Arguments naming an incident.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentArgs {
    /// Incident id.
    pub incident_id: String,
}

/// How the plan's execution went.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Executed; the quality checks hold.
    Executed,
    /// Execution failed.
    Failed,
}

/// `record_outcome` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeArgs {
    /// Incident id.
    pub incident_id: String,
    /// `executed` or `failed`.
    pub status: OutcomeStatus,
    /// What happened (redacted before it is recorded).
    #[serde(default)]
    pub note: String,
}

/// `close_incident` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseArgs {
    /// Incident id.
    pub incident_id: String,
    /// Closing feedback (kaizen; redacted before it is recorded).
    #[serde(default)]
    pub feedback: String,
}

/// `replay_receipt` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayArgs {
    /// Ledger sequence number of the receipt.
    pub seq: u64,
}

/// Arguments of the tools that take none (`list_bundles`, `list_recipes`, `verify_ledger`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}
