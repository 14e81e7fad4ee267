//! Incidents end to end: intake (strict parse, redaction, canonicalization), the
//! decision against a bundle, and the lifecycle receipts on the incident's chain:
//! `reported` → `evaluated` (gates) → `planned` | `refused`, then `executed`
//! (outcome) and `closed`. Illegal transitions are refused.

use serde::Serialize;
use serde_json::{Value, json};

use crate::bundle::Bundle;
use crate::outputs::{self, Status};
use crate::pipeline;
use andon_core::decision::Decision;
use andon_core::engine::AndonEngine;
use andon_core::evidence::{Incident, InputError, parse_strict};
use andon_core::redact::{self, Redaction};
use andon_ledger::ledger::{self, Appended, Ledger};
use andon_ledger::receipt::{Draft, EngineInfo, Kind, StoredReceipt};

/// Why an incident operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// The evidence is not acceptable.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// The component store failed.
    #[error(transparent)]
    Store(#[from] andon_ledger::store::StoreError),
    /// The engine failed for a reason that is not the component's fault.
    #[error(transparent)]
    Engine(#[from] andon_core::Error),
    /// An incident with this id already exists.
    #[error("incident `{0}` already exists in the ledger; submit new evidence under a new incident id")]
    AlreadyExists(String),
    /// No incident with this id.
    #[error("no incident `{0}` in the ledger")]
    NotFound(String),
    /// The lifecycle does not allow this action now.
    #[error("illegal transition for incident `{id}`: cannot {action} an incident that is {state}")]
    IllegalTransition {
        /// Incident id.
        id: String,
        /// What was attempted.
        action: &'static str,
        /// Its current state.
        state: &'static str,
    },
}

/// Evaluates one component on one incident outside any bundle (`andon eval
/// --ledger`) and records the run: the component goes into the content store
/// before the receipt that names it, and the receipt is durable before this
/// returns. A guest fault ends in an `indeterminate` refusal receipt, never a plan.
///
/// # Errors
/// [`IncidentError::Engine`] for failures that are not the component's fault (they
/// are not recorded); the ledger and store errors.
pub fn record_evaluation(
    engine: &AndonEngine,
    ledger: &mut Ledger,
    component: (&str, &[u8]),
    incident: &Incident,
    request: &andon_core::GuestRequest,
    limits: &andon_core::Limits,
) -> Result<(andon_core::RecordedRun, Appended)> {
    let (id, bytes) = component;
    let recorded = andon_core::run::evaluate_bytes(engine, id, bytes, request, limits)?;
    let draft =
        Draft::from_runs(incident, std::slice::from_ref(&recorded), andon_core::record::EngineInfo::of(engine), false);
    ledger.store().put(bytes)?;
    let appended = ledger.append(draft)?;
    Ok((recorded, appended))
}

/// Result alias of the incident subsystem.
pub type Result<T, E = IncidentError> = std::result::Result<T, E>;

/// Reads, redacts and canonicalizes an incident document.
///
/// # Errors
/// [`InputError`] for unacceptable JSON or a bad envelope.
pub fn intake(bytes: &[u8], max_bytes: usize) -> std::result::Result<(Incident, Vec<Redaction>), InputError> {
    let mut document = parse_strict("evidence", bytes, max_bytes)?;
    let redactions = redact::redact(&mut document);
    Ok((Incident::from_value(document)?, redactions))
}

/// The result of a submission: the decision and the acknowledged receipts.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    /// Incident id.
    pub incident_id: String,
    /// `planned` or `refused`.
    pub status: &'static str,
    /// The full pipeline outcome.
    pub outcome: pipeline::Outcome,
    /// SHA-256 of the (redacted) canonical evidence.
    pub evidence_sha256: String,
    /// The receipts written, in order.
    pub receipts: Vec<Appended>,
    /// What intake redacted.
    pub redactions: Vec<Redaction>,
}

fn decision_draft(kind: Kind, incident: &Incident, decision: Decision, engine: &AndonEngine) -> Draft {
    let mut draft = Draft::new(kind);
    draft.incident_id = Some(incident.envelope.incident_id.clone());
    draft.evidence_sha256 = Some(incident.sha256.clone());
    draft.evidence = Some(incident.document.clone());
    draft.decision_sha256 = Some(decision.sha256());
    draft.decision = Some(decision);
    draft.engine = Some(EngineInfo::of(engine));
    draft
}

/// The `reported` receipt of an incident about to be decided against `bundle`.
pub fn reported_draft(bundle: &Bundle, incident: &Incident, redactions: &[Redaction], evaluation_mode: bool) -> Draft {
    let recipe = bundle.manifest.route(&incident.envelope.kind).map(|r| r.recipe.clone());
    let mut reported = Draft::new(Kind::Reported);
    reported.incident_id = Some(incident.envelope.incident_id.clone());
    reported.evidence_sha256 = Some(incident.sha256.clone());
    reported.evidence = Some(incident.document.clone());
    reported.bundle = Some(bundle.receipt_ref());
    reported.annotation = Some(json!({
        "recipe": recipe,
        "redactions": redactions.iter().map(|r| format!("{} ({})", r.pointer, r.rule)).collect::<Vec<_>>(),
    }));
    reported.evaluation_mode = evaluation_mode;
    reported
}

/// The receipts that record `outcome` (decided on `incident` against `bundle`):
/// `evaluated` when gates ran, then `planned` or `refused`. `extra` is merged into
/// each receipt's annotation (the server adds its queueing facts there).
pub fn decision_drafts(
    engine: &AndonEngine,
    bundle: &Bundle,
    incident: &Incident,
    outcome: &pipeline::Outcome,
    evaluation_mode: bool,
    extra: &Value,
) -> Vec<Draft> {
    let policies: Vec<String> =
        outcome.runs.iter().filter_map(|r| bundle.manifest.component(&r.id)).flat_map(|c| c.policies.clone()).collect();
    let annotation = || {
        let mut base = json!({
            "recipe": outcome.recipe,
            "stage": outcome.stage.name(),
            "policies": policies,
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        base
    };
    let mut drafts = Vec::new();
    let gate_runs: Vec<_> = outcome.runs.iter().filter(|r| r.role == Some(andon_core::World::Gate)).cloned().collect();
    if !gate_runs.is_empty() {
        let decisions: Vec<Decision> = outcome.decisions.iter().take(gate_runs.len()).cloned().collect();
        let mut evaluated = decision_draft(Kind::Evaluated, incident, pipeline::combine(&decisions), engine);
        evaluated.components = gate_runs;
        evaluated.bundle = Some(bundle.receipt_ref());
        evaluated.annotation = Some(annotation());
        evaluated.evaluation_mode = evaluation_mode;
        drafts.push(evaluated);
    }
    let kind = if outcome.decision.refusal().is_some() { Kind::Refused } else { Kind::Planned };
    let mut last = decision_draft(kind, incident, outcome.decision.clone(), engine);
    last.components = outcome.runs.clone();
    last.fault_class = outcome.fault;
    last.bundle = Some(bundle.receipt_ref());
    last.annotation = Some(annotation());
    last.evaluation_mode = evaluation_mode;
    drafts.push(last);
    drafts
}

/// Stores the bytes of every component of `bundle` that ran in `outcome` in the
/// ledger's content-addressed component store (for offline replay).
///
/// # Errors
/// [`IncidentError::Store`].
pub fn store_components(
    store: &andon_ledger::store::ComponentStore,
    bundle: &Bundle,
    outcome: &pipeline::Outcome,
) -> Result<()> {
    for run in &outcome.runs {
        if let Some(component) = bundle.components.values().find(|c| c.loaded.sha256() == run.sha256) {
            store.put(component.loaded.bytes())?;
        }
    }
    Ok(())
}

/// Submits an incident: intake, decision, and the lifecycle receipts, appended as
/// one durable batch (acknowledged only after fsync).
///
/// # Errors
/// Bad evidence, an existing incident id, or a ledger failure; nothing is recorded
/// in those cases.
pub fn submit(
    engine: &AndonEngine,
    bundle: &Bundle,
    ledger: &mut Ledger,
    bytes: &[u8],
    evaluation_mode: bool,
) -> Result<Submitted> {
    let (incident, redactions) = intake(bytes, andon_core::evidence::DEFAULT_MAX_EVIDENCE_BYTES)?;
    let id = incident.envelope.incident_id.clone();
    if ledger.incident_head(&id).is_some() {
        return Err(IncidentError::AlreadyExists(id));
    }
    let outcome = pipeline::decide(engine, bundle, &incident);
    store_components(ledger.store(), bundle, &outcome)?;
    let mut drafts = vec![reported_draft(bundle, &incident, &redactions, evaluation_mode)];
    drafts.extend(decision_drafts(engine, bundle, &incident, &outcome, evaluation_mode, &json!({})));
    let receipts = ledger.append_batch(drafts)?;
    Ok(Submitted {
        incident_id: id,
        status: if outcome.decision.refusal().is_some() { "refused" } else { "planned" },
        evidence_sha256: incident.sha256.clone(),
        outcome,
        receipts,
        redactions,
    })
}

fn state_name(status: Status) -> &'static str {
    match status {
        Status::Reported => "reported but not decided",
        Status::Planned => "planned",
        Status::Refused => "refused",
        Status::Overloaded => "refused by an overloaded server",
        Status::Executed => "executed",
        Status::ExecutionFailed => "failed in execution",
        Status::Closed => "closed",
    }
}

fn facts_of(receipts: &[StoredReceipt], id: &str) -> Result<outputs::IncidentFacts> {
    outputs::facts(receipts).ok_or_else(|| IncidentError::NotFound(id.into()))
}

/// How a plan's execution went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    /// The plan was executed and its quality checks hold.
    Executed,
    /// The execution failed.
    Failed,
}

/// Records the outcome of executing an incident's plan (`executed` receipt).
///
/// # Errors
/// [`IncidentError::IllegalTransition`] unless the incident is `planned`.
pub fn record_outcome(ledger: &mut Ledger, id: &str, status: ExecutionStatus, note: &str) -> Result<Appended> {
    let draft = outcome_draft(&ledger::receipts_of(ledger.path(), id)?, id, status, note)?;
    Ok(ledger.append(draft)?)
}

/// The `executed` receipt of incident `id` given its receipts (in chain order).
///
/// # Errors
/// As [`record_outcome`].
pub fn outcome_draft(receipts: &[StoredReceipt], id: &str, status: ExecutionStatus, note: &str) -> Result<Draft> {
    let facts = facts_of(receipts, id)?;
    if facts.status != Status::Planned {
        return Err(IncidentError::IllegalTransition {
            id: id.into(),
            action: "record an outcome for",
            state: state_name(facts.status),
        });
    }
    let mut draft = Draft::new(Kind::Executed);
    draft.incident_id = Some(id.into());
    draft.evaluation_mode = facts.evaluation_mode;
    draft.bundle = receipts.first().and_then(|r| r.body.bundle.clone());
    draft.annotation = Some(json!({
        "recipe": facts.recipe,
        "status": match status { ExecutionStatus::Executed => "executed", ExecutionStatus::Failed => "failed" },
        "note": redact_text(note),
    }));
    Ok(draft)
}

/// Closes an incident with feedback (`closed` receipt).
///
/// # Errors
/// [`IncidentError::IllegalTransition`] when it is already closed, or planned but
/// without a recorded outcome.
pub fn close(ledger: &mut Ledger, id: &str, feedback: &str) -> Result<Appended> {
    let draft = close_draft(&ledger::receipts_of(ledger.path(), id)?, id, feedback)?;
    Ok(ledger.append(draft)?)
}

/// The `closed` receipt of incident `id` given its receipts (in chain order).
///
/// # Errors
/// As [`close`].
pub fn close_draft(receipts: &[StoredReceipt], id: &str, feedback: &str) -> Result<Draft> {
    let facts = facts_of(receipts, id)?;
    if matches!(facts.status, Status::Closed | Status::Planned | Status::Reported) {
        return Err(IncidentError::IllegalTransition {
            id: id.into(),
            action: if facts.status == Status::Closed { "close again" } else { "close (record its outcome first)" },
            state: state_name(facts.status),
        });
    }
    let mut draft = Draft::new(Kind::Closed);
    draft.incident_id = Some(id.into());
    draft.evaluation_mode = facts.evaluation_mode;
    draft.bundle = receipts.first().and_then(|r| r.body.bundle.clone());
    draft.annotation = Some(json!({ "recipe": facts.recipe, "feedback": redact_text(feedback) }));
    Ok(draft)
}

fn redact_text(text: &str) -> String {
    redact::redact_str(text).map(|(t, _)| t).unwrap_or_else(|| text.to_string())
}
