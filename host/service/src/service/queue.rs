//! The severity queue: critical first, first in first out within a severity.
//! Its bound is enforced at intake (see `capacity`).

use andon_core::evidence::Severity;

use super::{Inner, Job, Pending, Phase, State, metrics};

/// Queue order: critical first (see [`Severity::rank`]).
pub fn rank(severity: Severity) -> usize {
    severity.rank()
}

/// The severities in queue order (index = [`rank`]).
const SEVERITIES: [Severity; 4] = Severity::ALL;

impl Inner {
    /// Queues `job` (whose `reported` receipt is on the ledger), starts its
    /// decision deadline and wakes one evaluator.
    pub(super) fn enqueue(&self, state: &mut State, id: String, job: Job) {
        let severity = job.incident.envelope.severity;
        state.pending.insert(
            id.clone(),
            Pending {
                severity,
                accepted: job.accepted,
                deadline: job.accepted + self.governance.deadline(severity),
                breached: false,
            },
        );
        state.phases.insert(id, Phase::Queued);
        state.queues[rank(severity)].push_back(job);
        state.queued += 1;
        self.metrics.queue_depth.get_or_create(&metrics::severity(severity)).inc();
        self.work.notify_one();
    }

    /// Waits for the most severe queued job and marks it as being evaluated;
    /// returns it with the number of evaluations now running, or `None` once the
    /// service stops and the queue is empty.
    pub(super) fn next_job(&self) -> Option<(Job, usize)> {
        let mut state = self.lock();
        loop {
            let next = state.queues.iter_mut().enumerate().find_map(|(q, queue)| queue.pop_front().map(|j| (q, j)));
            if let Some((q, job)) = next {
                state.queued -= 1;
                state.in_flight += 1;
                state.max_in_flight = state.max_in_flight.max(state.in_flight);
                state.phases.insert(job.incident.envelope.incident_id.clone(), Phase::Evaluating);
                self.metrics.queue_depth.get_or_create(&metrics::severity(SEVERITIES[q])).dec();
                self.metrics.in_flight.set(i64::try_from(state.in_flight).unwrap_or(i64::MAX));
                self.metrics.in_flight_max.set(i64::try_from(state.max_in_flight).unwrap_or(i64::MAX));
                return Some((job, state.in_flight));
            }
            if state.stopping {
                return None;
            }
            state = self.work.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Stops intake and empties the queue, returning the jobs that were waiting;
    /// `None` when an earlier call already did.
    pub(super) fn stop_intake(&self) -> Option<Vec<Job>> {
        let mut state = self.lock();
        if state.stopping {
            return None;
        }
        state.stopping = true;
        let mut jobs = Vec::new();
        for q in &mut state.queues {
            jobs.extend(q.drain(..));
        }
        state.queued = 0;
        for s in SEVERITIES {
            self.metrics.queue_depth.get_or_create(&metrics::severity(s)).set(0);
        }
        Some(jobs)
    }
}
