//! The golden cases in `recipes-wasm/golden/customer-approval-documented/` hold natively.

use andon_guest_sdk::gate::Gate;
use andon_guest_sdk::testing::{assert_gate_case, golden_cases, golden_dir};
use gate_customer_approval_documented::CustomerApprovalDocumented;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "customer-approval-documented")) {
        assert_gate_case(&case, CustomerApprovalDocumented::check(case.request.clone()));
    }
}
