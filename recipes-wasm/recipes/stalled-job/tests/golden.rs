//! The golden cases in `recipes-wasm/golden/stalled-job/` hold natively.

use andon_guest_sdk::recipe::Recipe;
use andon_guest_sdk::testing::{assert_recipe_case, golden_cases, golden_dir};
use recipe_stalled_job::StalledJob;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "stalled-job")) {
        assert_recipe_case(&case, StalledJob::plan(case.request.clone()));
    }
}
