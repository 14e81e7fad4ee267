//! The golden cases in `recipes-wasm/golden/insurance-active/` hold natively.

use andon_guest_sdk::gate::Gate;
use andon_guest_sdk::testing::{assert_gate_case, golden_cases, golden_dir};
use gate_insurance_active::InsuranceActive;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "insurance-active")) {
        assert_gate_case(&case, InsuranceActive::check(case.request.clone()));
    }
}
