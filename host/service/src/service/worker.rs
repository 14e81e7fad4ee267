//! The evaluator pool: `wip_limit` threads, each taking the most severe queued
//! job, deciding it and recording the decision, so no more than `wip_limit`
//! evaluations ever run at once.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::json;

use andon_ledger::receipt::Kind;
use andon_work::incident;
use andon_work::pipeline::{self, Outcome};

use super::{Decided, Inner, Job, Phase, ReceiptRef, ServiceError, metrics, millis};

/// Starts evaluator number `n`.
pub(super) fn spawn(inner: &Arc<Inner>, n: usize) -> Result<JoinHandle<()>, ServiceError> {
    let name = format!("andon-evaluator-{n}");
    let inner = Arc::clone(inner);
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || inner.evaluator())
        .map_err(|source| ServiceError::Thread { name, source })
}

impl Inner {
    fn evaluator(&self) {
        while let Some((job, in_flight)) = self.next_job() {
            let id = job.incident.envelope.incident_id.clone();
            let decided = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.decide(job, in_flight)));
            if decided.is_err() {
                // Never a host crash: the caller's channel was dropped (it hears that
                // the evaluator stopped), the slot is freed, and the incident may be
                // submitted again; its `reported` receipt stays on the ledger.
                tracing::error!(incident = %id, "evaluation panicked; the incident may be submitted again");
                let mut state = self.lock();
                state.in_flight -= 1;
                self.metrics.in_flight.set(i64::try_from(state.in_flight).unwrap_or(i64::MAX));
                state.pending.remove(&id);
                state.phases.insert(id, Phase::Resubmittable);
            }
        }
    }

    /// Decides `job`, records the decision (with an `sla_breached` receipt first
    /// when its deadline passed unnoticed) and answers its caller.
    fn decide(&self, mut job: Job, in_flight: usize) {
        let started = Instant::now();
        let id = job.incident.envelope.incident_id.clone();
        let severity = job.incident.envelope.severity;
        let bundle = &self.bundles[job.bundle];
        let outcome: Outcome = pipeline::decide(&self.engine, bundle, &job.incident);
        let queued = started.duration_since(job.accepted);
        let breached_now = self.breach_on_decision(&id);
        let deadline = self.governance.deadline(severity);
        let mut drafts = Vec::new();
        if breached_now {
            drafts.push(self.breach_draft(&id, severity, job.accepted.elapsed(), deadline, "evaluating"));
        }
        let governance = json!({ "governance": {
            "severity": severity.as_str(),
            "queued_ms": millis(queued),
            "wip_in_flight": in_flight,
            "wip_limit": self.governance.wip_limit.max(1),
            "sla_ms": millis(deadline),
        }, "principal": job.principal });
        drafts.extend(incident::decision_drafts(
            &self.engine,
            bundle,
            &job.incident,
            &outcome,
            job.evaluation_mode,
            &governance,
        ));
        let kinds: Vec<Kind> = drafts.iter().map(|d| d.kind).collect();
        let written = self.writer.append_batch(drafts);
        let decided = Instant::now();
        let sla_breached = {
            let mut state = self.lock();
            state.in_flight -= 1;
            self.metrics.in_flight.set(i64::try_from(state.in_flight).unwrap_or(i64::MAX));
            let breached = state.pending.remove(&id).is_some_and(|p| p.breached);
            // A decision that could not be recorded leaves only `reported`: the
            // caller hears the failure and may submit the evidence again.
            state.phases.insert(id.clone(), if written.is_ok() { Phase::Decided } else { Phase::Resubmittable });
            breached
        };
        let result = match written {
            Ok(appended) => {
                let status = if outcome.decision.refusal().is_some() { "refused" } else { "planned" };
                self.metrics.receipts.inc_by(appended.len() as u64);
                self.metrics.decisions.get_or_create(&metrics::OutcomeLabel { outcome: status }).inc();
                self.metrics.fuel.inc_by(outcome.runs.iter().map(|r| r.fuel_consumed).sum());
                self.metrics.queue_wait.get_or_create(&metrics::severity(severity)).observe(queued.as_secs_f64());
                self.metrics
                    .time_to_decision
                    .get_or_create(&metrics::severity(severity))
                    .observe(decided.duration_since(job.accepted).as_secs_f64());
                if breached_now {
                    self.metrics.sla_breaches.get_or_create(&metrics::severity(severity)).inc();
                }
                job.receipts.extend(appended.iter().zip(kinds).map(|(a, k)| ReceiptRef::new(a, k)));
                Ok(Decided {
                    incident_id: id.clone(),
                    status: status.into(),
                    decision: outcome.decision.clone(),
                    stage: outcome.stage.name(),
                    evidence_sha256: job.incident.sha256.clone(),
                    severity: severity.as_str().into(),
                    receipts: job.receipts,
                    queued_ms: millis(queued),
                    decision_ms: millis(decided.duration_since(job.accepted)),
                    sla_breached,
                    redactions: job.redactions,
                })
            }
            Err(e) => {
                tracing::error!(incident = %id, "cannot record the decision: {e}");
                Err(e.to_string())
            }
        };
        if let Some(reply) = job.reply.take() {
            let _ = reply.send(result);
        }
    }
}
