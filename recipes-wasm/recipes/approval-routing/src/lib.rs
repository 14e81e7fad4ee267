//! Remediation recipe `approval-routing`: routes a spending request to the authority
//! that may approve it (policy `POL-FIN-007`): the manager within the threshold, the
//! CFO over it, the Board when the CFO is absent; with neither available it refuses.
//!
//! Evidence: `{"request": {"amount": 1200000, "currency": "USD", "threshold": 1000000,
//! "purpose": "..."}, "authorities": {"cfo_available": false, "board_available": true}}`.

use andon_guest_sdk::group_thousands;
use andon_guest_sdk::recipe::{Check, Plan, Recipe, RecipeVerdict, Refusal, Request};
use serde::Deserialize;

/// The policy this recipe follows.
pub const POLICY: &str = "POL-FIN-007";
/// The recipe id written into every plan.
pub const RECIPE_ID: &str = "approval-routing";

#[derive(Deserialize)]
struct Evidence {
    request: FundsRequest,
    #[serde(default)]
    authorities: Authorities,
}

#[derive(Deserialize)]
struct FundsRequest {
    amount: u64,
    currency: String,
    threshold: u64,
    #[serde(default)]
    purpose: String,
}

#[derive(Deserialize, Default)]
struct Authorities {
    #[serde(default)]
    cfo_available: bool,
    #[serde(default)]
    board_available: bool,
}

/// The `approval-routing` recipe.
pub struct ApprovalRouting;

impl Recipe for ApprovalRouting {
    fn plan(request: Request) -> RecipeVerdict {
        let evidence: Evidence = match request.evidence() {
            Ok(evidence) => evidence,
            Err(refusal) => return RecipeVerdict::Refuse(refusal),
        };
        let FundsRequest { amount, currency, threshold, purpose } = evidence.request;
        let (shown, limit) = (group_thousands(amount), group_thousands(threshold));
        let money = |approver: &str| {
            [
                ("approver", approver.to_string()),
                ("amount", amount.to_string()),
                ("threshold", threshold.to_string()),
                ("currency", currency.clone()),
            ]
        };
        let record = [
            ("incident_id", request.envelope.incident_id.clone()),
            ("amount", amount.to_string()),
            ("currency", currency.clone()),
            ("purpose", purpose.clone()),
        ];
        let plan = Plan::new(RECIPE_ID).step("record_request", record);
        let finish = |plan: Plan, approver: &str| {
            plan.step("await_decision", [("approver", approver.to_string())])
                .expect(format!("request approved or rejected by the {approver}"))
                .quality_check("approval recorded with approver identity before funds move")
                .quality_check("no funds move before the decision is recorded")
        };
        if amount <= threshold {
            let within = Check::pass(
                "amount_within_threshold",
                format!("{shown} {currency} within threshold {limit} {currency}"),
            );
            return RecipeVerdict::Plan(finish(
                plan.check(within).step("route_to_approver", money("manager")),
                "manager",
            ));
        }
        let over = Check::pass(
            "amount_over_threshold",
            format!("{shown} {currency} exceeds threshold {limit} {currency}: CFO approval required"),
        );
        let plan = plan.check(over.clone());
        if evidence.authorities.cfo_available {
            let plan = plan.check(Check::pass("cfo_available", "CFO available to approve"));
            return RecipeVerdict::Plan(finish(plan.step("route_to_approver", money("cfo")), "cfo"));
        }
        let cfo = Check::fail("cfo_available", "CFO absent: escalate to the Board");
        if evidence.authorities.board_available {
            let escalate = money("board").into_iter().chain([("reason", String::from("cfo_absent"))]);
            let plan = plan
                .check(cfo)
                .check(Check::pass("board_available", "Board available to approve"))
                .step(
                    "record_cfo_absence",
                    [("approver", String::from("cfo")), ("status", String::from("unavailable"))],
                )
                .step("escalate_to_board", escalate);
            return RecipeVerdict::Plan(finish(plan, "board"));
        }
        RecipeVerdict::Refuse(
            Refusal::new("no_approval_authority_available")
                .checks([over, cfo, Check::fail("board_available", "Board unavailable")])
                .missing("cfo_approval", "unavailable")
                .missing("board_approval", "unavailable")
                .next_lawful_step(
                    "schedule the request for the next Board session or wait for the CFO's return; do not execute",
                )
                .policy(POLICY),
        )
    }
}

andon_guest_sdk::export_recipe!(ApprovalRouting);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    fn run(amount: u64, cfo: bool, board: bool) -> RecipeVerdict {
        let evidence = format!(
            r#"{{"request":{{"amount":{amount},"currency":"USD","threshold":1000000,"purpose":"new press line"}},"authorities":{{"cfo_available":{cfo},"board_available":{board}}}}}"#
        );
        ApprovalRouting::plan(Request::for_test("INC-2026-0001", "approval_request", Severity::High, &evidence))
    }

    fn plan(verdict: RecipeVerdict) -> Plan {
        match verdict {
            RecipeVerdict::Plan(plan) => plan,
            other => panic!("expected a plan, got {other:?}"),
        }
    }

    #[test]
    fn within_threshold_routes_to_manager() {
        let plan = plan(run(999_999, false, false));
        assert_eq!(plan.recipe_id, RECIPE_ID);
        assert_eq!(plan.actions(), ["record_request", "route_to_approver", "await_decision"]);
        assert_eq!(plan.steps[0].param("incident_id"), Some("INC-2026-0001"));
        assert_eq!(plan.steps[0].param("purpose"), Some("new press line"));
        assert_eq!(plan.steps[1].param("approver"), Some("manager"));
        assert_eq!(plan.checks[0].name, "amount_within_threshold");
    }

    #[test]
    fn cfo_present_routes_to_cfo() {
        let plan = plan(run(1_200_000, true, true));
        assert_eq!(plan.actions(), ["record_request", "route_to_approver", "await_decision"]);
        let route = &plan.steps[1];
        assert_eq!((route.param("approver"), route.param("amount")), (Some("cfo"), Some("1200000")));
        assert_eq!((route.param("threshold"), route.param("currency")), (Some("1000000"), Some("USD")));
        assert_eq!(plan.expected_outcomes, ["request approved or rejected by the cfo"]);
    }

    #[test]
    fn cfo_absent_escalates_to_board() {
        let plan = plan(run(1_200_000, false, true));
        assert_eq!(plan.actions(), ["record_request", "record_cfo_absence", "escalate_to_board", "await_decision"]);
        let escalate = &plan.steps[2];
        let params: Vec<_> = escalate.parameters.iter().map(|p| (p.name.as_str(), p.value.as_str())).collect();
        assert_eq!(
            params,
            [
                ("approver", "board"),
                ("amount", "1200000"),
                ("threshold", "1000000"),
                ("currency", "USD"),
                ("reason", "cfo_absent")
            ]
        );
        assert_eq!(plan.expected_outcomes, ["request approved or rejected by the board"]);
        assert!(
            plan.quality_checks.contains(&String::from("approval recorded with approver identity before funds move"))
        );
        let names: Vec<_> = plan.checks.iter().map(|c| (c.name.as_str(), c.passed)).collect();
        assert_eq!(names, [("amount_over_threshold", true), ("cfo_available", false), ("board_available", true)]);
    }

    #[test]
    fn neither_authority_refuses() {
        let RecipeVerdict::Refuse(refusal) = run(1_200_000, false, false) else { panic!() };
        assert_eq!(refusal.reason, "no_approval_authority_available");
        let missing: Vec<_> = refusal.missing.iter().map(|m| (m.name.as_str(), m.status.as_str())).collect();
        assert_eq!(missing, [("cfo_approval", "unavailable"), ("board_approval", "unavailable")]);
        assert_eq!(refusal.policy_reference, POLICY);
        let RecipeVerdict::Refuse(refusal) =
            ApprovalRouting::plan(Request::for_test("I", "approval_request", Severity::Low, "{}"))
        else {
            panic!()
        };
        assert_eq!(refusal.reason, "evidence_unreadable");
    }
}
