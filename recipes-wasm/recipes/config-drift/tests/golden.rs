//! The golden cases in `recipes-wasm/golden/config-drift/` hold natively.

use andon_guest_sdk::recipe::Recipe;
use andon_guest_sdk::testing::{assert_recipe_case, golden_cases, golden_dir};
use recipe_config_drift::ConfigDrift;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "config-drift")) {
        assert_recipe_case(&case, ConfigDrift::plan(case.request.clone()));
    }
}
