//! The golden cases in `recipes-wasm/golden/approval-routing/` hold natively.

use andon_guest_sdk::recipe::Recipe;
use andon_guest_sdk::testing::{assert_recipe_case, golden_cases, golden_dir};
use recipe_approval_routing::ApprovalRouting;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "approval-routing")) {
        assert_recipe_case(&case, ApprovalRouting::plan(case.request.clone()));
    }
}
