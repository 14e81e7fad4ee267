//! The golden cases in `recipes-wasm/golden/approval-threshold/` hold natively.

use andon_guest_sdk::gate::Gate;
use andon_guest_sdk::testing::{assert_gate_case, golden_cases, golden_dir};
use gate_approval_threshold::ApprovalThreshold;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "approval-threshold")) {
        assert_gate_case(&case, ApprovalThreshold::check(case.request.clone()));
    }
}
