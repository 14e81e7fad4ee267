//! Capacity governance settings, and snapshots of what the service is doing now.

use std::time::Duration;

use serde::Serialize;

use andon_core::evidence::Severity;

use super::Service;
use super::queue::rank;

/// Capacity governance settings.
#[derive(Debug, Clone)]
pub struct Governance {
    /// Evaluations allowed to run at once (the doctrine's WIP limit per evaluator).
    pub wip_limit: usize,
    /// Submissions allowed to wait; beyond this they are refused as overloaded.
    pub queue_capacity: usize,
    /// Deadline from acceptance to decision, by severity: critical, high, medium, low.
    pub sla: [Duration; 4],
}

impl Default for Governance {
    /// WIP 3, queue of 1024, the doctrine's SLA ([`Severity::sla_minutes`]).
    fn default() -> Governance {
        let sla = Severity::ALL.map(|s| Duration::from_secs(s.sla_minutes() * 60));
        Governance { wip_limit: 3, queue_capacity: 1024, sla }
    }
}

impl Governance {
    /// The decision deadline of `severity`.
    pub fn deadline(&self, severity: Severity) -> Duration {
        self.sla[rank(severity)]
    }
}

/// A snapshot of the governance state.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GovernanceStatus {
    /// Queued submissions by severity (critical, high, medium, low).
    pub queue_depth: [usize; 4],
    /// Evaluations running now.
    pub in_flight: usize,
    /// The most evaluations ever running at once.
    pub max_in_flight: usize,
    /// The WIP limit.
    pub wip_limit: usize,
    /// The queue bound.
    pub queue_capacity: usize,
}

impl Service {
    /// A snapshot of queue depths and WIP.
    pub fn status(&self) -> GovernanceStatus {
        let state = self.inner.lock();
        GovernanceStatus {
            queue_depth: std::array::from_fn(|i| state.queues[i].len()),
            in_flight: state.in_flight,
            max_in_flight: state.max_in_flight,
            wip_limit: self.inner.governance.wip_limit.max(1),
            queue_capacity: self.inner.governance.queue_capacity,
        }
    }

    /// The phase of incident `id` in this service (`queued`, `evaluating`, …).
    pub fn phase(&self, id: &str) -> Option<String> {
        let state = self.inner.lock();
        state
            .phases
            .get(id)
            .map(|p| serde_json::to_value(p).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
    }
}
