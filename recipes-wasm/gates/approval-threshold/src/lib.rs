//! Policy gate `approval-threshold`: a spending request over its approval threshold
//! needs an authority able to approve it (policy `POL-FIN-007`). Within the threshold
//! the request passes; over it, the CFO approves; with the CFO absent, the request is
//! escalated to the Board; with neither available, the gate refuses.
//!
//! Evidence: `{"request": {"amount": 1200000, "currency": "USD", "threshold": 1000000,
//! "purpose": "..."}, "authorities": {"cfo_available": false, "board_available": true}}`.
//! A missing `authorities` object means no authority is known to be available.

use andon_guest_sdk::gate::{Check, Gate, GateVerdict, Refusal, Request};
use andon_guest_sdk::group_thousands;
use serde::Deserialize;

/// The policy this gate enforces.
pub const POLICY: &str = "POL-FIN-007";

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
}

#[derive(Deserialize, Default)]
struct Authorities {
    #[serde(default)]
    cfo_available: bool,
    #[serde(default)]
    board_available: bool,
}

/// The `approval-threshold` gate.
pub struct ApprovalThreshold;

impl Gate for ApprovalThreshold {
    fn check(request: Request) -> GateVerdict {
        let evidence: Evidence = match request.evidence() {
            Ok(evidence) => evidence,
            Err(refusal) => return GateVerdict::Refuse(refusal),
        };
        let FundsRequest { amount, currency, threshold } = &evidence.request;
        let (amount, threshold) = (group_thousands(*amount), group_thousands(*threshold));
        if evidence.request.amount <= evidence.request.threshold {
            return GateVerdict::Pass(vec![Check::pass(
                "amount_within_threshold",
                format!("{amount} {currency} within threshold {threshold} {currency}"),
            )]);
        }
        let over = Check::pass(
            "amount_over_threshold",
            format!("{amount} {currency} exceeds threshold {threshold} {currency}: CFO approval required"),
        );
        let Authorities { cfo_available, board_available } = evidence.authorities;
        if cfo_available {
            return GateVerdict::Pass(vec![over, Check::pass("cfo_available", "CFO available to approve")]);
        }
        let cfo = Check::fail("cfo_available", "CFO absent: escalate to the Board");
        if board_available {
            return GateVerdict::Pass(vec![over, cfo, Check::pass("board_available", "Board available to approve")]);
        }
        GateVerdict::Refuse(
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

andon_guest_sdk::export_gate!(ApprovalThreshold);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    fn run(amount: u64, cfo: bool, board: bool) -> GateVerdict {
        let evidence = format!(
            r#"{{"request":{{"amount":{amount},"currency":"USD","threshold":1000000,"purpose":"plant"}},"authorities":{{"cfo_available":{cfo},"board_available":{board}}}}}"#
        );
        ApprovalThreshold::check(Request::for_test("INC-1", "approval_request", Severity::High, &evidence))
    }

    fn checks(verdict: GateVerdict) -> Vec<(String, bool)> {
        let GateVerdict::Pass(checks) = verdict else { panic!("expected a pass, got {verdict:?}") };
        checks.into_iter().map(|c| (c.name, c.passed)).collect()
    }

    fn named(pairs: &[(&str, bool)]) -> Vec<(String, bool)> {
        pairs.iter().map(|(name, passed)| (name.to_string(), *passed)).collect()
    }

    #[test]
    fn within_threshold_passes() {
        assert_eq!(checks(run(1_000_000, false, false)), named(&[("amount_within_threshold", true)]));
    }

    #[test]
    fn over_threshold_with_cfo_passes() {
        let GateVerdict::Pass(list) = run(1_200_000, true, false) else { panic!() };
        assert_eq!(list[0].detail, "1,200,000 USD exceeds threshold 1,000,000 USD: CFO approval required");
        assert_eq!(
            checks(run(1_200_000, true, true)),
            named(&[("amount_over_threshold", true), ("cfo_available", true)])
        );
    }

    #[test]
    fn cfo_absent_escalates_to_the_board() {
        let GateVerdict::Pass(list) = run(1_200_000, false, true) else { panic!() };
        assert_eq!(list[1].detail, "CFO absent: escalate to the Board");
        assert_eq!(
            checks(run(1_200_000, false, true)),
            named(&[("amount_over_threshold", true), ("cfo_available", false), ("board_available", true)])
        );
    }

    #[test]
    fn neither_authority_refuses() {
        let GateVerdict::Refuse(refusal) = run(1_200_000, false, false) else { panic!() };
        assert_eq!(refusal.reason, "no_approval_authority_available");
        assert_eq!(refusal.checks.len(), 3);
        let missing: Vec<_> = refusal.missing.iter().map(|m| (m.name.as_str(), m.status.as_str())).collect();
        assert_eq!(missing, [("cfo_approval", "unavailable"), ("board_approval", "unavailable")]);
        assert!(refusal.next_lawful_step.ends_with("do not execute"));
        assert_eq!(refusal.policy_reference, POLICY);
        let bare = r#"{"request":{"amount":5,"currency":"EUR","threshold":4}}"#;
        let verdict = ApprovalThreshold::check(Request::for_test("INC-2", "approval_request", Severity::Low, bare));
        assert!(matches!(verdict, GateVerdict::Refuse(r) if r.reason == "no_approval_authority_available"));
    }

    #[test]
    fn negative_or_missing_amounts_are_unreadable() {
        for evidence in [r#"{"request":{"amount":-1,"currency":"USD","threshold":1}}"#, r#"{"authorities":{}}"#] {
            let verdict =
                ApprovalThreshold::check(Request::for_test("INC-3", "approval_request", Severity::Low, evidence));
            assert!(matches!(verdict, GateVerdict::Refuse(r) if r.reason == "evidence_unreadable"));
        }
    }
}
