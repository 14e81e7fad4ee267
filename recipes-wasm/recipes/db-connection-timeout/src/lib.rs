//! Remediation recipe `db-connection-timeout` (policy `POL-DB-003`): a service times
//! out talking to its database. In order of precedence: an unreachable database fails
//! over to a replica (or is refused when there is none); an exhausted pool is recycled
//! and raised; slow queries are terminated; otherwise the cause is not identified.
//!
//! Evidence: `{"service": "orders-api", "database": "orders-db", "timeout_ms": 30000,
//! "pool": {"active": 100, "max": 100}, "db_reachable": true, "replica_available": true,
//! "slow_queries": 0}`.

use andon_guest_sdk::recipe::{Check, Plan, Recipe, RecipeVerdict, Refusal, Request};
use serde::Deserialize;

/// The policy this recipe follows.
pub const POLICY: &str = "POL-DB-003";
/// The recipe id written into every plan.
pub const RECIPE_ID: &str = "db-connection-timeout";
/// The pool limit is never raised above this many connections.
pub const POOL_CAP: u64 = 500;

#[derive(Deserialize)]
struct Evidence {
    service: String,
    database: String,
    timeout_ms: u64,
    pool: Pool,
    db_reachable: bool,
    #[serde(default)]
    replica_available: bool,
    #[serde(default)]
    slow_queries: u64,
}

#[derive(Deserialize)]
struct Pool {
    active: u64,
    max: u64,
}

/// The `db-connection-timeout` recipe.
pub struct DbConnectionTimeout;

impl Recipe for DbConnectionTimeout {
    fn plan(request: Request) -> RecipeVerdict {
        let ev: Evidence = match request.evidence() {
            Ok(evidence) => evidence,
            Err(refusal) => return RecipeVerdict::Refuse(refusal),
        };
        let (service, database) = (ev.service.clone(), ev.database.clone());
        let both = || [("service", service.clone()), ("database", database.clone())];
        let plan = Plan::new(RECIPE_ID).step("capture_state", both());
        let verify = |plan: Plan| {
            plan.step("verify_connectivity", both().into_iter().chain([("timeout_ms", ev.timeout_ms.to_string())]))
                .quality_check(format!("{service} connects to {database} within {} ms", ev.timeout_ms))
        };
        let reachable =
            Check::new("db_reachable", ev.db_reachable, format!("{database} reachable: {}", ev.db_reachable));
        if !ev.db_reachable {
            let replica = Check::new(
                "replica_available",
                ev.replica_available,
                format!("replica of {database} available: {}", ev.replica_available),
            );
            if !ev.replica_available {
                return RecipeVerdict::Refuse(
                    Refusal::new("database_unreachable_no_replica")
                        .checks([reachable, replica])
                        .missing("db_replica", "not_available")
                        .next_lawful_step("page the database on-call; no automated remediation is lawful")
                        .policy(POLICY),
                );
            }
            let plan = plan
                .check(reachable)
                .check(replica)
                .step("verify_network_path", both())
                .step("failover_to_replica", both())
                .expect(format!("{service} served by the replica of {database}"));
            return RecipeVerdict::Plan(verify(plan));
        }
        let (active, max) = (ev.pool.active, ev.pool.max);
        let exhausted = active >= max;
        let pool = Check::new("pool_capacity", !exhausted, format!("{active}/{max} connections active"));
        let slow = Check::new("slow_queries_absent", ev.slow_queries == 0, format!("{} slow queries", ev.slow_queries));
        let plan = plan.check(reachable.clone()).check(pool.clone());
        if exhausted {
            let raised = (max.saturating_mul(3) / 2).min(POOL_CAP);
            let mut plan = plan.step("recycle_connection_pool", [("service", service.clone())]);
            if raised > max {
                plan = plan.step(
                    "raise_pool_limit",
                    [("service", service.clone()), ("from", max.to_string()), ("to", raised.to_string())],
                );
            } else {
                plan = plan.check(Check::fail(
                    "pool_limit_raisable",
                    format!("pool max {max} already at or above the cap of {POOL_CAP}"),
                ));
            }
            return RecipeVerdict::Plan(verify(plan.expect(format!("{service} pool has free connections"))));
        }
        if ev.slow_queries > 0 {
            let plan = plan
                .check(slow)
                .step("identify_slow_queries", [("database", database.clone())])
                .step(
                    "terminate_long_running_queries",
                    [("database", database.clone()), ("older_than_ms", ev.timeout_ms.to_string())],
                )
                .expect(format!("no query on {database} runs longer than {} ms", ev.timeout_ms));
            return RecipeVerdict::Plan(verify(plan));
        }
        RecipeVerdict::Refuse(
            Refusal::new("cause_not_identified")
                .checks([reachable, pool, slow])
                .missing("db_server_metrics", "not_found")
                .next_lawful_step("collect database server metrics and resubmit")
                .policy(POLICY),
        )
    }
}

andon_guest_sdk::export_recipe!(DbConnectionTimeout);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    fn run(reachable: bool, replica: bool, active: u64, max: u64, slow: u64) -> RecipeVerdict {
        let evidence = format!(
            r#"{{"service":"orders-api","database":"orders-db","timeout_ms":30000,"pool":{{"active":{active},"max":{max}}},"db_reachable":{reachable},"replica_available":{replica},"slow_queries":{slow}}}"#
        );
        DbConnectionTimeout::plan(Request::for_test("INC-1", "db_connection_timeout", Severity::High, &evidence))
    }

    fn planned(verdict: RecipeVerdict) -> Plan {
        match verdict {
            RecipeVerdict::Plan(plan) => plan,
            other => panic!("expected a plan, got {other:?}"),
        }
    }

    fn refusal(verdict: RecipeVerdict) -> Refusal {
        match verdict {
            RecipeVerdict::Refuse(refusal) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn unreachable_database_fails_over_to_the_replica() {
        let plan = planned(run(false, true, 100, 100, 3));
        assert_eq!(
            plan.actions(),
            ["capture_state", "verify_network_path", "failover_to_replica", "verify_connectivity"]
        );
        assert_eq!(plan.recipe_id, RECIPE_ID);
    }

    #[test]
    fn unreachable_database_without_replica_refuses() {
        let refusal = refusal(run(false, false, 1, 100, 0));
        assert_eq!(refusal.reason, "database_unreachable_no_replica");
        assert_eq!(
            (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
            ("db_replica", "not_available")
        );
        assert_eq!(refusal.next_lawful_step, "page the database on-call; no automated remediation is lawful");
        assert_eq!(refusal.policy_reference, POLICY);
    }

    #[test]
    fn pool_exhausted_recycles_and_raises_the_pool() {
        let plan = planned(run(true, false, 100, 100, 4));
        assert_eq!(
            plan.actions(),
            ["capture_state", "recycle_connection_pool", "raise_pool_limit", "verify_connectivity"]
        );
        assert_eq!((plan.steps[2].param("from"), plan.steps[2].param("to")), (Some("100"), Some("150")));
        let capped = planned(run(true, false, 400, 400, 0));
        assert_eq!(capped.steps[2].param("to"), Some("500"));
        let at_cap = planned(run(true, false, 500, 500, 0));
        assert_eq!(at_cap.actions(), ["capture_state", "recycle_connection_pool", "verify_connectivity"]);
        assert!(at_cap.checks.iter().any(|c| c.name == "pool_limit_raisable" && !c.passed));
        assert!(matches!(run(true, false, u64::MAX, u64::MAX, 0), RecipeVerdict::Plan(_)));
    }

    #[test]
    fn slow_queries_are_terminated() {
        let plan = planned(run(true, true, 10, 100, 7));
        assert_eq!(
            plan.actions(),
            ["capture_state", "identify_slow_queries", "terminate_long_running_queries", "verify_connectivity"]
        );
        assert_eq!(plan.steps[2].param("older_than_ms"), Some("30000"));
    }

    #[test]
    fn no_identified_cause_refuses() {
        let refusal = refusal(run(true, true, 10, 100, 0));
        assert_eq!(refusal.reason, "cause_not_identified");
        assert_eq!(refusal.next_lawful_step, "collect database server metrics and resubmit");
        assert!(refusal.checks.iter().all(|c| c.passed));
        let unreadable =
            DbConnectionTimeout::plan(Request::for_test("I", "db_connection_timeout", Severity::Low, "{}"));
        assert_eq!(self::refusal(unreadable).reason, "evidence_unreadable");
    }
}
