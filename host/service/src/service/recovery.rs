//! Restart recovery: the incident index is rebuilt from the ledger, and every
//! incident that was reported but never decided (a crash between intake and
//! decision) is queued again, in ledger order, with the time it already waited.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use andon_core::evidence::Incident;
use andon_ledger::receipt::{Kind, StoredReceipt};
use andon_work::outputs::{self, Status};

use super::{Inner, Job, Phase, ReceiptRef, ServiceError};

/// Per incident id: its phase, the receipt that carries the evidence being
/// decided, and whether its SLA breach is already recorded.
pub(super) type Index = HashMap<String, (Phase, StoredReceipt, bool)>;

fn wall_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The phase of every incident in the ledger at `dir`, with the receipt that
/// carries the evidence being decided and whether its SLA breach is recorded:
/// `Queued` for reported-but-undecided ones.
pub(super) fn index(dir: &Path) -> Result<Index, ServiceError> {
    let mut by_incident: HashMap<String, Vec<StoredReceipt>> = HashMap::new();
    for receipt in andon_ledger::ledger::all_receipts(dir)? {
        if let Some(id) = receipt.body.incident_id.clone() {
            by_incident.entry(id).or_default().push(receipt);
        }
    }
    let mut out = HashMap::new();
    for (id, receipts) in by_incident {
        let Some(facts) = outputs::facts(&receipts) else { continue };
        let phase = match facts.status {
            Status::Reported => Phase::Queued,
            Status::Overloaded => Phase::Resubmittable,
            _ => Phase::Decided,
        };
        // The receipt that carries the evidence being decided: the last `reported`.
        // (`facts` exist only for non-empty receipts, so there always is one.)
        let Some(first) = receipts.iter().rev().find(|r| r.body.kind == Kind::Reported).or(receipts.first()).cloned()
        else {
            continue;
        };
        // Whether this submission's breach is already recorded (never twice).
        let breached = receipts.iter().any(|r| r.body.kind == Kind::SlaBreached && r.body.seq > first.body.seq);
        out.insert(id, (phase, first, breached));
    }
    Ok(out)
}

impl Inner {
    /// Records the phase of every recovered incident and queues the undecided
    /// ones again (nobody waits for their answer), all under one lock.
    pub(super) fn requeue(&self, recovered: Index) {
        let mut state = self.lock();
        let now = wall_millis();
        // First in, first out: queue the recovered backlog in ledger order.
        let mut recovered: Vec<_> = recovered.into_iter().collect();
        recovered.sort_by_key(|(_, (_, first, _))| first.body.seq);
        for (id, (phase, first, breached)) in recovered {
            if phase != Phase::Queued {
                state.phases.insert(id, phase);
                continue;
            }
            // Reported but never decided: decide it now.
            let Some(incident) = first.body.evidence.clone().and_then(|d| Incident::from_value(d).ok()) else {
                tracing::error!(incident = %id, seq = first.body.seq, "cannot rebuild an undecided incident from its receipt; not queued");
                continue;
            };
            // Its deadline runs from the original acceptance, not from this start.
            let waited = outputs::parse_millis(&first.body.timestamp).map_or(0, |t| now.saturating_sub(t));
            let accepted = Instant::now().checked_sub(Duration::from_millis(waited)).unwrap_or_else(Instant::now);
            let bundle = first
                .body
                .bundle
                .as_ref()
                .and_then(|b| b["digest"].as_str())
                .and_then(|d| self.bundles.iter().position(|b| b.digest == d))
                .unwrap_or_else(|| self.route(&incident));
            tracing::info!(incident = %id, "recovered an undecided incident; queueing it again");
            let job = Job {
                redactions: Vec::new(),
                bundle,
                evaluation_mode: first.body.evaluation_mode,
                accepted,
                receipts: vec![ReceiptRef::of(&first)],
                reply: None,
                // Who submitted it, as its `reported` receipt says.
                principal: first
                    .body
                    .annotation
                    .as_ref()
                    .and_then(|a| a.get("principal"))
                    .cloned()
                    .unwrap_or(serde_json::Value::Null),
                incident,
            };
            self.enqueue(&mut state, id.clone(), job);
            if let Some(pending) = state.pending.get_mut(&id) {
                pending.breached = breached;
            }
        }
    }
}
