//! Policy gate `customer-approval-documented`: a change may proceed only when the
//! customer's approval is documented with a change reference (policy `POL-CHG-002`).
//!
//! Evidence: `{"customer_approval": {"documented": true, "reference": "CHG-4411",
//! "approved_by": "j.doe@customer.example"}}`.

use andon_guest_sdk::gate::{Check, Gate, GateVerdict, Refusal, Request};
use serde::Deserialize;

/// The policy this gate enforces.
pub const POLICY: &str = "POL-CHG-002";

#[derive(Deserialize)]
struct Evidence {
    customer_approval: Option<CustomerApproval>,
}

#[derive(Deserialize)]
struct CustomerApproval {
    #[serde(default)]
    documented: bool,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    approved_by: Option<String>,
}

/// The `customer-approval-documented` gate.
pub struct CustomerApprovalDocumented;

impl Gate for CustomerApprovalDocumented {
    fn check(request: Request) -> GateVerdict {
        let evidence: Evidence = match request.evidence() {
            Ok(evidence) => evidence,
            Err(refusal) => return GateVerdict::Refuse(refusal),
        };
        let checks = match &evidence.customer_approval {
            None => vec![
                Check::fail("customer_approval_documented", "no customer approval in the evidence"),
                Check::fail("customer_approval_reference", "no change reference in the evidence"),
            ],
            Some(approval) => {
                let approver = approval.approved_by.as_deref().filter(|a| !a.trim().is_empty());
                let reference = approval.reference.trim();
                vec![
                    Check::new(
                        "customer_approval_documented",
                        approval.documented,
                        match (approval.documented, approver) {
                            (true, Some(who)) => format!("approval documented, approved by {who}"),
                            (true, None) => String::from("approval documented"),
                            (false, _) => String::from("approval is not documented"),
                        },
                    ),
                    Check::new(
                        "customer_approval_reference",
                        !reference.is_empty(),
                        if reference.is_empty() {
                            String::from("change reference is empty")
                        } else {
                            format!("change reference {reference}")
                        },
                    ),
                ]
            }
        };
        if checks.iter().all(|check| check.passed) {
            return GateVerdict::Pass(checks);
        }
        GateVerdict::Refuse(
            Refusal::new("customer_approval_not_documented")
                .checks(checks)
                .missing("customer_approval", "not_documented")
                .next_lawful_step("obtain written customer approval and record its change reference")
                .policy(POLICY),
        )
    }
}

andon_guest_sdk::export_gate!(CustomerApprovalDocumented);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    fn run(evidence: &str) -> GateVerdict {
        CustomerApprovalDocumented::check(Request::for_test("INC-1", "field_work", Severity::Medium, evidence))
    }

    fn assert_refused(evidence: &str, failed: &[&str]) {
        let GateVerdict::Refuse(refusal) = run(evidence) else { panic!("expected a refusal for {evidence}") };
        assert_eq!(refusal.reason, "customer_approval_not_documented");
        assert_eq!(refusal.checks.len(), 2, "every analyzed check is listed");
        let got: Vec<&str> = refusal.checks.iter().filter(|c| !c.passed).map(|c| c.name.as_str()).collect();
        assert_eq!(got, failed);
        assert_eq!(
            (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
            ("customer_approval", "not_documented")
        );
        assert_eq!(refusal.next_lawful_step, "obtain written customer approval and record its change reference");
        assert_eq!(refusal.policy_reference, POLICY);
    }

    #[test]
    fn documented_approval_with_reference_passes() {
        let evidence = r#"{"customer_approval":{"documented":true,"reference":"CHG-4411","approved_by":"j.doe@customer.example"}}"#;
        let GateVerdict::Pass(checks) = run(evidence) else { panic!("no pass") };
        assert_eq!(checks[0].name, "customer_approval_documented");
        assert!(checks[0].detail.contains("j.doe@customer.example"));
        assert_eq!(
            (checks[1].name.as_str(), checks[1].detail.as_str()),
            ("customer_approval_reference", "change reference CHG-4411")
        );
        let anonymous = r#"{"customer_approval":{"documented":true,"reference":"CHG-1","approved_by":" "}}"#;
        let GateVerdict::Pass(checks) = run(anonymous) else { panic!("no pass") };
        assert_eq!(checks[0].detail, "approval documented");
    }

    #[test]
    fn undocumented_or_unreferenced_approval_refuses() {
        assert_refused("{}", &["customer_approval_documented", "customer_approval_reference"]);
        assert_refused(
            r#"{"customer_approval":null}"#,
            &["customer_approval_documented", "customer_approval_reference"],
        );
        assert_refused(
            r#"{"customer_approval":{"documented":false,"reference":"CHG-4411"}}"#,
            &["customer_approval_documented"],
        );
        assert_refused(
            r#"{"customer_approval":{"documented":true,"reference":"  "}}"#,
            &["customer_approval_reference"],
        );
    }

    #[test]
    fn unreadable_evidence_refuses() {
        let GateVerdict::Refuse(refusal) = run(r#"{"customer_approval":{"documented":"yes"}}"#) else { panic!() };
        assert_eq!(refusal.reason, "evidence_unreadable");
    }
}
