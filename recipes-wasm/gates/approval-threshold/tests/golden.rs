//! The golden cases in `recipes-wasm/golden/approval-threshold/` hold natively.

use std::path::{Path, PathBuf};

use andon_guest_sdk::gate::{Gate, GateVerdict, Request, Severity};
use gate_approval_threshold::ApprovalThreshold;
use serde_json::Value;

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../golden/approval-threshold");
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
        assert!(expect.get("actions").is_none(), "{name}: gates have no actions");
        let checks = match ApprovalThreshold::check(request) {
            GateVerdict::Pass(checks) => {
                assert_eq!(outcome, "pass", "{name}");
                checks
            }
            GateVerdict::Refuse(refusal) => {
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
