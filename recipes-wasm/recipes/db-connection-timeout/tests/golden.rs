//! The golden cases in `recipes-wasm/golden/db-connection-timeout/` hold natively.

use andon_guest_sdk::recipe::Recipe;
use andon_guest_sdk::testing::{assert_recipe_case, golden_cases, golden_dir};
use recipe_db_connection_timeout::DbConnectionTimeout;

#[test]
fn golden_cases_hold() {
    for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "db-connection-timeout")) {
        assert_recipe_case(&case, DbConnectionTimeout::plan(case.request.clone()));
    }
}
