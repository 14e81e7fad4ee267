//! The tools' structured results; each tool's output schema is derived from them.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::service::{GovernanceStatus, ReceiptRef};

/// `list_bundles` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BundleList {
    /// The loaded, verified bundles.
    pub bundles: Vec<BundleInfo>,
    /// Governance settings and state.
    pub governance: GovernanceStatus,
}

/// One loaded bundle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BundleInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 digest of the signed manifest.
    pub digest: String,
    /// Key id of the signer.
    pub signer: Option<String>,
    /// Components with their content hashes.
    pub components: Vec<ComponentInfo>,
    /// Routes: incident kind → gates → recipe.
    pub routes: Vec<RouteInfo>,
}

/// One component of a bundle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ComponentInfo {
    /// Component id.
    pub id: String,
    /// `gate` or `recipe`.
    pub role: String,
    /// SHA-256 of the component bytes.
    pub sha256: String,
    /// Policies it enforces.
    pub policies: Vec<String>,
}

/// One route.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RouteInfo {
    /// Incident kind.
    pub kind: String,
    /// Gate ids, in order.
    pub gates: Vec<String>,
    /// Recipe id.
    pub recipe: String,
}

/// `list_recipes` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecipeList {
    /// Every routed recipe.
    pub recipes: Vec<RecipeInfo>,
}

/// One routed recipe.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecipeInfo {
    /// Recipe id.
    pub id: String,
    /// Bundle name.
    pub bundle: String,
    /// Incident kind it handles.
    pub kind: String,
    /// Gates that run before it.
    pub gates: Vec<String>,
    /// SHA-256 of the recipe component.
    pub sha256: String,
    /// Policies.
    pub policies: Vec<String>,
}

/// `incident_status` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentStatus {
    /// Incident id.
    pub incident_id: String,
    /// `queued`, `evaluating`, `reported`, `planned`, `refused`, `overloaded`,
    /// `executed`, `execution_failed` or `closed`.
    pub status: String,
    /// Severity.
    pub severity: String,
    /// Incident kind.
    pub kind: String,
    /// Routed recipe.
    pub recipe: Option<String>,
    /// The final decision, once decided.
    pub decision: Option<andon_core::decision::Decision>,
    /// Every receipt of the incident, in chain order.
    pub receipts: Vec<ReceiptRef>,
    /// SLA figures against the doctrine's targets (`sla.json` of the export).
    pub sla: Value,
    /// This server's decision deadline for the incident's severity (`--sla`), in ms.
    pub deadline_ms: f64,
}

/// Result of `record_outcome` and `close_incident`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Transition {
    /// Incident id.
    pub incident_id: String,
    /// The new status.
    pub status: String,
    /// The receipt written.
    pub receipt: ReceiptRef,
}

/// `export_incident` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Exported {
    /// Incident id.
    pub incident_id: String,
    /// Path of the evidence bundle (`.tar.gz`) on the server's machine.
    pub path: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// `verify_ledger` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Verified {
    /// True when no problem was found.
    pub ok: bool,
    /// Receipts verified.
    pub receipts: u64,
    /// Seq of the head.
    pub head_seq: u64,
    /// Hash of the head.
    pub head_hash: String,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// The full report (see `docs/ledger.md`).
    pub report: Value,
}

/// `replay_receipt` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Replayed {
    /// The receipt's seq.
    pub seq: u64,
    /// True when the replay gave the same decision bytes and fuel.
    pub matches: bool,
    /// `matched`, `mismatched` or `skipped` (nothing ran).
    pub status: String,
    /// The full report (see `docs/receipts.md`).
    pub report: Value,
}
