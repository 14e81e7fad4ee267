//! The golden cases in `recipes-wasm/golden/approval-routing/` hold natively.

use std::path::{Path, PathBuf};

use andon_guest_sdk::recipe::{Recipe, RecipeVerdict, Request, Severity};
use recipe_approval_routing::ApprovalRouting;
use serde_json::Value;

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../golden/approval-routing");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 3, "at least three golden cases");
    paths
}

#[test]
fn golden_cases_hold() {
    for path in cases() {
        let name = path.display().to_string();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let (incident, expect) = (&case["incident"], &case["expect"]);
        let text = |key: &str| incident[key].as_str().unwrap_or_else(|| panic!("{name}: {key}"));
        let request = Request::for_test(
            text("incident_id"),
            text("kind"),
            Severity::parse(text("severity")).unwrap(),
            &incident["evidence"].to_string(),
        )
        .with_settings(&case["settings"].to_string());
        let outcome = expect["outcome"].as_str().unwrap();
        assert_eq!(expect.get("reason").is_some(), outcome == "refused", "{name}: reason only for refusals");
        assert_eq!(expect.get("missing").is_some(), outcome == "refused", "{name}: missing only for refusals");
        assert_eq!(expect.get("actions").is_some(), outcome == "plan", "{name}: actions only for plans");
        let checks = match ApprovalRouting::plan(request) {
            RecipeVerdict::Plan(plan) => {
                assert_eq!(outcome, "plan", "{name}");
                assert_eq!(strings(&expect["actions"]), plan.actions(), "{name}");
                plan.checks
            }
            RecipeVerdict::Refuse(refusal) => {
                assert_eq!(outcome, "refused", "{name}: {refusal:?}");
                assert_eq!(expect["reason"], refusal.reason.as_str(), "{name}");
                let missing: Vec<&str> = refusal.missing.iter().map(|m| m.name.as_str()).collect();
                assert_eq!(strings(&expect["missing"]), missing, "{name}");
                refusal.checks
            }
        };
        for wanted in strings(&expect["checks"]) {
            assert!(checks.iter().any(|c| c.name == wanted), "{name}: check {wanted} not reported");
        }
    }
}
