//! Decision deadlines: a watcher thread writes an `sla_breached` receipt for
//! every incident still undecided past its severity's deadline, and an evaluator
//! writes one with the decision when the deadline passed between two ticks.
//! Either way a breach is recorded once.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use andon_core::evidence::Severity;
use andon_ledger::receipt::{Draft, Kind};

use super::{Inner, Phase, ServiceError, State, metrics, millis};

/// Starts the SLA watcher.
pub(super) fn spawn(inner: &Arc<Inner>) -> Result<JoinHandle<()>, ServiceError> {
    let name = "andon-sla".to_string();
    let watcher = Arc::clone(inner);
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || watcher.watch_slas())
        .map_err(|source| ServiceError::Thread { name, source })
}

impl Inner {
    /// Marks incident `id` breached when its deadline has passed and no breach is
    /// recorded yet; true when the caller must now record it.
    pub(super) fn breach_on_decision(&self, id: &str) -> bool {
        let mut state = self.lock();
        match state.pending.get_mut(id) {
            Some(p) if !p.breached && Instant::now() > p.deadline => {
                p.breached = true;
                true
            }
            _ => false,
        }
    }

    /// The `sla_breached` receipt of incident `id`, undecided for `waited` while
    /// `phase` (`queued` or `evaluating`).
    pub(super) fn breach_draft(
        &self,
        id: &str,
        severity: Severity,
        waited: Duration,
        deadline: Duration,
        phase: &str,
    ) -> Draft {
        let mut draft = Draft::new(Kind::SlaBreached);
        draft.incident_id = Some(id.into());
        draft.annotation = Some(json!({
            "severity": severity.as_str(),
            "sla_ms": millis(deadline),
            "waited_ms": millis(waited),
            "phase": phase,
        }));
        draft
    }

    fn watch_slas(&self) {
        // A twentieth of the shortest deadline (5 ms to 1 s): a breach is recorded
        // soon after its deadline without polling the state all the time.
        let shortest = self.governance.sla.iter().min().copied().unwrap_or(Duration::from_secs(60));
        let tick = (shortest / 20).clamp(Duration::from_millis(5), Duration::from_secs(1));
        loop {
            {
                let stop = self.stop_watcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if *stop {
                    return;
                }
                let (stop, _) =
                    self.watcher_wake.wait_timeout(stop, tick).unwrap_or_else(std::sync::PoisonError::into_inner);
                if *stop {
                    return;
                }
            }
            let now = Instant::now();
            let due: Vec<(String, Severity, Duration, &'static str)> = {
                let mut state = self.lock();
                let State { pending, phases, .. } = &mut *state;
                pending
                    .iter_mut()
                    .filter(|(_, p)| !p.breached && now > p.deadline)
                    .map(|(id, p)| {
                        p.breached = true;
                        let phase = if phases.get(id) == Some(&Phase::Evaluating) { "evaluating" } else { "queued" };
                        (id.clone(), p.severity, now.duration_since(p.accepted), phase)
                    })
                    .collect()
            };
            if due.is_empty() {
                continue;
            }
            let drafts: Vec<Draft> = due
                .iter()
                .map(|(id, s, waited, phase)| self.breach_draft(id, *s, *waited, self.governance.deadline(*s), phase))
                .collect();
            match self.writer.append_batch(drafts) {
                Ok(appended) => {
                    self.metrics.receipts.inc_by(appended.len() as u64);
                    for (id, s, _, _) in &due {
                        self.metrics.sla_breaches.get_or_create(&metrics::severity(*s)).inc();
                        tracing::warn!(incident = %id, severity = s.as_str(), "decision deadline passed");
                    }
                }
                Err(e) => tracing::error!("cannot record SLA breaches: {e}"),
            }
        }
    }
}
