//! Remediation recipe `stalled-job` (policy `POL-JOB-002`): a queue job has run far
//! past its expected runtime. A job counts as stalled after twice its expected runtime.
//! Only idempotent jobs are touched: they are requeued while attempts remain and
//! dead-lettered once they are used up; anything else is reconciled by hand.
//!
//! Evidence: `{"queue": "billing", "job_id": "J-991", "stalled_for_s": 5400,
//! "expected_runtime_s": 600, "attempts": 1, "max_attempts": 3, "idempotent": true}`.

use andon_guest_sdk::recipe::{Check, Plan, Recipe, RecipeVerdict, Refusal, Request};
use serde::Deserialize;

/// The policy this recipe follows.
pub const POLICY: &str = "POL-JOB-002";
/// The recipe id written into every plan.
pub const RECIPE_ID: &str = "stalled-job";

#[derive(Deserialize)]
struct Evidence {
    queue: String,
    job_id: String,
    stalled_for_s: u64,
    expected_runtime_s: u64,
    attempts: u32,
    max_attempts: u32,
    #[serde(default)]
    idempotent: bool,
}

/// The `stalled-job` recipe.
pub struct StalledJob;

impl Recipe for StalledJob {
    fn plan(request: Request) -> RecipeVerdict {
        let ev: Evidence = match request.evidence() {
            Ok(evidence) => evidence,
            Err(refusal) => return RecipeVerdict::Refuse(refusal),
        };
        let limit = ev.expected_runtime_s.saturating_mul(2);
        let stalled = Check::new(
            "job_stalled",
            ev.stalled_for_s >= limit,
            format!("stalled for {} s, limit 2 x {} s = {limit} s", ev.stalled_for_s, ev.expected_runtime_s),
        );
        if !stalled.passed {
            return RecipeVerdict::Refuse(
                Refusal::new("job_not_stalled")
                    .check(stalled)
                    .next_lawful_step(format!("wait until the job has run for {limit} s before resubmitting"))
                    .policy(POLICY),
            );
        }
        let idempotent =
            Check::new("job_idempotent", ev.idempotent, format!("job {} idempotent: {}", ev.job_id, ev.idempotent));
        if !ev.idempotent {
            return RecipeVerdict::Refuse(
                Refusal::new("manual_reconciliation_required")
                    .checks([stalled, idempotent])
                    .missing("idempotency_guarantee", "not_documented")
                    .next_lawful_step("reconcile the job's side effects by hand with the queue owner")
                    .policy(POLICY),
            );
        }
        let remaining = ev.attempts < ev.max_attempts;
        let attempts = Check::new(
            "attempts_remaining",
            remaining,
            format!("{} of {} attempts used", ev.attempts, ev.max_attempts),
        );
        let job = || [("queue", ev.queue.clone()), ("job_id", ev.job_id.clone())];
        let plan = Plan::new(RECIPE_ID).check(stalled).check(idempotent).check(attempts).step("capture_state", job());
        let plan = if remaining {
            plan.step("release_lease", job())
                .step("requeue_job", job().into_iter().chain([("attempt", ev.attempts.saturating_add(1).to_string())]))
                .step("verify_progress", job())
                .expect(format!(
                    "job {} runs again on {} (attempt {} of {})",
                    ev.job_id,
                    ev.queue,
                    ev.attempts.saturating_add(1),
                    ev.max_attempts
                ))
                .quality_check("the job completes within its expected runtime after requeue")
        } else {
            plan.step("move_to_dead_letter", job())
                .step("notify_queue_owner", job().into_iter().chain([("reason", String::from("max_attempts_reached"))]))
                .expect(format!("job {} parked on the dead-letter queue of {}", ev.job_id, ev.queue))
                .quality_check("the job is no longer leased on the live queue")
        };
        RecipeVerdict::Plan(plan)
    }
}

andon_guest_sdk::export_recipe!(StalledJob);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    fn run(stalled_for: u64, attempts: u32, idempotent: bool) -> RecipeVerdict {
        let evidence = format!(
            r#"{{"queue":"billing","job_id":"J-991","stalled_for_s":{stalled_for},"expected_runtime_s":600,"attempts":{attempts},"max_attempts":3,"idempotent":{idempotent}}}"#
        );
        StalledJob::plan(Request::for_test("INC-1", "stalled_job", Severity::Medium, &evidence))
    }

    fn refusal(verdict: RecipeVerdict) -> Refusal {
        match verdict {
            RecipeVerdict::Refuse(refusal) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn stalled_idempotent_job_is_requeued() {
        let RecipeVerdict::Plan(plan) = run(5400, 1, true) else { panic!() };
        assert_eq!(plan.actions(), ["capture_state", "release_lease", "requeue_job", "verify_progress"]);
        let requeue = &plan.steps[2];
        assert_eq!(
            (requeue.param("queue"), requeue.param("job_id"), requeue.param("attempt")),
            (Some("billing"), Some("J-991"), Some("2"))
        );
        assert!(matches!(run(1200, 2, true), RecipeVerdict::Plan(p) if p.steps[2].param("attempt") == Some("3")));
    }

    #[test]
    fn exhausted_attempts_go_to_dead_letter() {
        let RecipeVerdict::Plan(plan) = run(5400, 3, true) else { panic!() };
        assert_eq!(plan.actions(), ["capture_state", "move_to_dead_letter", "notify_queue_owner"]);
        assert!(plan.checks.iter().any(|c| c.name == "attempts_remaining" && !c.passed));
    }

    #[test]
    fn non_idempotent_job_needs_manual_reconciliation() {
        let refusal = refusal(run(5400, 1, false));
        assert_eq!(refusal.reason, "manual_reconciliation_required");
        assert_eq!(
            (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
            ("idempotency_guarantee", "not_documented")
        );
        assert_eq!(refusal.next_lawful_step, "reconcile the job's side effects by hand with the queue owner");
        assert_eq!(refusal.policy_reference, POLICY);
    }

    #[test]
    fn job_within_twice_its_runtime_is_not_stalled() {
        let refusal = refusal(run(1199, 1, true));
        assert_eq!(refusal.reason, "job_not_stalled");
        assert!(refusal.missing.is_empty());
        let request = Request::for_test("INC-2", "stalled_job", Severity::Low, r#"{"queue":"billing"}"#);
        assert_eq!(self::refusal(StalledJob::plan(request)).reason, "evidence_unreadable");
    }
}
