//! Taking a submission in: intake (parse, redact, hash), the duplicate and
//! capacity checks, the durable `reported` receipt, then the queue.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::oneshot;

use andon_core::evidence::{DEFAULT_MAX_EVIDENCE_BYTES, Incident};
use andon_ledger::receipt::Kind;
use andon_work::incident;

use super::{Accepted, Decided, Inner, Job, Phase, ReceiptRef, Service, ServiceError, metrics};
use crate::auth::Principal;

impl Service {
    /// Takes a submission of the local, trusted caller in: [`Service::accept_by`]
    /// with [`Principal::local`].
    ///
    /// # Errors
    /// As [`Service::accept_by`].
    pub fn accept(&self, bytes: &[u8], bundle: Option<&str>, evaluation_mode: bool) -> Result<Accepted, ServiceError> {
        self.accept_by(&Principal::local(), bytes, bundle, evaluation_mode)
    }

    /// Takes a submission of `principal` in (blocking: intake and the durable
    /// `reported` or `overloaded` receipt). `bundle` names a loaded bundle; by
    /// default the first that routes the incident's kind. Every receipt written for
    /// the submission names `principal` in `annotation.principal`.
    ///
    /// # Errors
    /// Bad evidence, an incident already known, an unknown bundle, or a ledger
    /// failure; nothing was recorded then.
    pub fn accept_by(
        &self,
        principal: &Principal,
        bytes: &[u8],
        bundle: Option<&str>,
        evaluation_mode: bool,
    ) -> Result<Accepted, ServiceError> {
        let inner = &self.inner;
        let accepted = Instant::now();
        let (incident, redactions) = incident::intake(bytes, DEFAULT_MAX_EVIDENCE_BYTES)?;
        let bundle = match bundle {
            Some(name) => inner
                .bundles
                .iter()
                .position(|b| b.manifest.name == name)
                .ok_or_else(|| ServiceError::NoSuchBundle(name.into()))?,
            None => inner.route(&incident),
        };
        let id = incident.envelope.incident_id.clone();
        let severity = incident.envelope.severity;
        inner.metrics.submissions.get_or_create(&metrics::severity(severity)).inc();
        let refuse = {
            let mut state = inner.lock();
            match state.phases.get(&id) {
                Some(Phase::Accepting | Phase::Queued | Phase::Evaluating | Phase::Updating) => {
                    return Err(ServiceError::InProgress(id));
                }
                Some(Phase::Decided) => return Err(ServiceError::AlreadyExists(id)),
                Some(Phase::Resubmittable) | None => {}
            }
            state.phases.insert(id.clone(), Phase::Accepting);
            inner.admit(&mut state)
        };
        let names = redactions.iter().map(|r| format!("{} ({})", r.pointer, r.rule)).collect();
        let mut job = Job {
            incident,
            redactions: names,
            bundle,
            evaluation_mode,
            accepted,
            receipts: Vec::new(),
            reply: None,
            principal: principal.annotation(),
        };
        if let Some((reason, detail)) = refuse {
            let annotation = json!({
                "governance": { "reason": reason, "queue_capacity": inner.governance.queue_capacity },
                "redactions": job.redactions,
                "principal": job.principal,
            });
            let refused = inner.refuse_for_capacity(&mut job, reason, detail, annotation, Duration::ZERO);
            let mut state = inner.lock();
            let decided = match refused {
                Ok(decided) => decided,
                Err(e) => {
                    state.phases.remove(&id);
                    return Err(e.into());
                }
            };
            state.phases.insert(id.clone(), Phase::Resubmittable);
            drop(state);
            tracing::warn!(incident = %id, reason, "submission refused by capacity governance");
            return Ok(Accepted::Overloaded(Box::new(decided)));
        }
        let mut reported =
            incident::reported_draft(&inner.bundles[bundle], &job.incident, &redactions, evaluation_mode);
        super::name_principal(&mut reported, &job.principal);
        let appended = inner.writer.append(reported);
        let mut state = inner.lock();
        state.accepting -= 1;
        let appended = match appended {
            Ok(a) => a,
            Err(e) => {
                state.phases.remove(&id);
                return Err(e.into());
            }
        };
        inner.metrics.receipts.inc();
        let (reply, answer) = oneshot::channel();
        job.receipts.push(ReceiptRef::new(&appended, Kind::Reported));
        job.reply = Some(reply);
        if state.stopping {
            // The drain ran while this one was being recorded: no evaluator will
            // take it any more, so it is refused here, with a receipt.
            drop(state);
            inner.refuse_queued(job);
        } else {
            inner.enqueue(&mut state, id, job);
        }
        Ok(Accepted::Queued(answer))
    }

    /// Submits and waits for the decision (blocking).
    ///
    /// # Errors
    /// As [`Service::accept`], and [`ServiceError::Recording`] when the decision
    /// could not be recorded.
    pub fn submit(&self, bytes: &[u8], bundle: Option<&str>, evaluation_mode: bool) -> Result<Decided, ServiceError> {
        match self.accept(bytes, bundle, evaluation_mode)? {
            Accepted::Overloaded(decided) => Ok(*decided),
            Accepted::Queued(answer) => answer
                .blocking_recv()
                .map_err(|_| ServiceError::Recording("the evaluator stopped".into()))?
                .map_err(ServiceError::Recording),
        }
    }
}

impl Inner {
    /// The first bundle that routes the incident's kind, else the first bundle
    /// (whose routing then refuses with `no_standard_work`).
    pub(super) fn route(&self, incident: &Incident) -> usize {
        self.bundles.iter().position(|b| b.manifest.route(&incident.envelope.kind).is_some()).unwrap_or(0)
    }
}
