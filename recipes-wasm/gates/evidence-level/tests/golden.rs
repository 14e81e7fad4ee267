//! The golden cases in `recipes-wasm/golden/evidence-level/` hold natively.

use andon_guest_sdk::gate::Gate;
use andon_guest_sdk::testing::{assert_gate_case, golden_cases, golden_dir};
use gate_evidence_level::EvidenceLevel;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "evidence-level")) {
        assert_gate_case(&case, EvidenceLevel::check(case.request.clone()));
    }
}
