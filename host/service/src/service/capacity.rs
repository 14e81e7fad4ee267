//! Capacity refusals: a submission that finds the queue full (`overloaded`) or
//! the host stopping (`shutting_down`) is refused with an `overloaded` receipt
//! that carries its evidence and a refusal with the doctrine's fields, so it is
//! never silently dropped and may be submitted again.

use std::time::Duration;

use serde_json::{Value, json};

use andon_core::decision::{Check, Decision, MissingPrerequisite};
use andon_core::evidence::Incident;
use andon_core::refusal;
use andon_ledger::ledger;
use andon_ledger::receipt::{Draft, Kind};
use andon_work::bundle::Bundle;

use super::{Decided, Inner, Job, Phase, ReceiptRef, State, metrics, millis};

/// Refusal reason of a submission the full queue could not take (see
/// [`andon_core::refusal::OVERLOADED`]).
pub const OVERLOADED: &str = refusal::OVERLOADED.reason;
/// Refusal reason of a queued submission refused because the server stopped.
pub const SHUTTING_DOWN: &str = refusal::SHUTTING_DOWN.reason;
/// Policy reference of capacity refusals.
pub const CAPACITY_POLICY: &str = refusal::OVERLOADED.policy;

fn capacity_refusal(reason: &str, detail: String) -> Decision {
    let (entry, check, missing) = if reason == OVERLOADED {
        (refusal::OVERLOADED, "queue_capacity", "evaluation_capacity")
    } else {
        (refusal::SHUTTING_DOWN, "host_running", "running_host")
    };
    Decision::Refused {
        refusal: entry.refusal(
            vec![Check { detail, name: check.into(), passed: false }],
            vec![MissingPrerequisite { name: missing.into(), status: "unavailable".into() }],
        ),
    }
}

fn capacity_draft(
    incident: &Incident,
    bundle: &Bundle,
    decision: &Decision,
    evaluation_mode: bool,
    extra: Value,
) -> Draft {
    let mut draft = Draft::new(Kind::Overloaded);
    draft.incident_id = Some(incident.envelope.incident_id.clone());
    draft.evidence_sha256 = Some(incident.sha256.clone());
    draft.evidence = Some(incident.document.clone());
    draft.decision_sha256 = Some(decision.sha256());
    draft.decision = Some(decision.clone());
    draft.bundle = Some(bundle.receipt_ref());
    draft.annotation = Some(extra);
    draft.evaluation_mode = evaluation_mode;
    draft
}

impl Inner {
    /// Whether intake may take one more submission: `None` (and a slot held in
    /// `accepting`) when it may, else the refusal reason and its detail. Counting
    /// submissions still being taken in keeps concurrent callers from overfilling
    /// the queue while their `reported` receipts are written.
    pub(super) fn admit(&self, state: &mut State) -> Option<(&'static str, String)> {
        if state.stopping {
            Some((SHUTTING_DOWN, "the host is shutting down and takes no new submissions".to_string()))
        } else if state.queued + state.accepting >= self.governance.queue_capacity {
            Some((
                OVERLOADED,
                format!(
                    "queue full: {} submissions waiting or being taken in, capacity {}",
                    state.queued + state.accepting,
                    self.governance.queue_capacity
                ),
            ))
        } else {
            state.accepting += 1;
            None
        }
    }

    /// Records a capacity refusal of `job` (an `overloaded` receipt carrying its
    /// evidence and a refusal with the doctrine's fields) and builds the answer.
    pub(super) fn refuse_for_capacity(
        &self,
        job: &mut Job,
        reason: &'static str,
        detail: String,
        annotation: Value,
        queued: Duration,
    ) -> Result<Decided, ledger::LedgerError> {
        let decision = capacity_refusal(reason, detail);
        let draft =
            capacity_draft(&job.incident, &self.bundles[job.bundle], &decision, job.evaluation_mode, annotation);
        let appended = self.writer.append(draft)?;
        self.metrics.receipts.inc();
        self.metrics.decisions.get_or_create(&metrics::OutcomeLabel { outcome: "overloaded" }).inc();
        job.receipts.push(ReceiptRef::new(&appended, Kind::Overloaded));
        Ok(Decided {
            incident_id: job.incident.envelope.incident_id.clone(),
            status: "overloaded".into(),
            decision,
            stage: "governance".into(),
            evidence_sha256: job.incident.sha256.clone(),
            severity: job.incident.envelope.severity.as_str().into(),
            receipts: std::mem::take(&mut job.receipts),
            queued_ms: millis(queued),
            decision_ms: millis(job.accepted.elapsed()),
            sla_breached: false,
            redactions: std::mem::take(&mut job.redactions),
        })
    }

    /// Refuses a queued job the host stopped before evaluating (reason
    /// `shutting_down`) and tells its caller.
    pub(super) fn refuse_queued(&self, mut job: Job) {
        let id = job.incident.envelope.incident_id.clone();
        let detail = "the host stopped before this incident was evaluated".to_string();
        let annotation = json!({ "governance": { "reason": SHUTTING_DOWN }, "principal": job.principal });
        let queued = job.accepted.elapsed();
        let result = self.refuse_for_capacity(&mut job, SHUTTING_DOWN, detail, annotation, queued);
        {
            let mut state = self.lock();
            state.pending.remove(&id);
            state.phases.insert(id, Phase::Resubmittable);
        }
        if let Some(reply) = job.reply.take() {
            let _ = reply.send(result.map_err(|e| e.to_string()));
        }
    }
}
