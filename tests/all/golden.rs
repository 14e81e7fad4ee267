//! Golden cases of every shipped component, from `recipes-wasm/golden/<id>/<case>.json`:
//! each case's decision matches its expectation, and the case run twice in fresh
//! instances and once more in a second `Engine` gives byte-identical output and
//! identical fuel.

use std::path::PathBuf;
use std::sync::OnceLock;

use andon_core::{AndonEngine, Decision, GuestRequest, Incident, Limits};
use rstest::rstest;
use serde_json::Value;

use crate::support::shipped;

fn engines() -> &'static (AndonEngine, AndonEngine) {
    static ENGINES: OnceLock<(AndonEngine, AndonEngine)> = OnceLock::new();
    ENGINES.get_or_init(|| (AndonEngine::new().unwrap(), AndonEngine::new().unwrap()))
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[rstest]
fn golden_case_is_decided_as_expected_and_deterministically(
    #[files("../../recipes-wasm/golden/*/*.json")] path: PathBuf,
) {
    let component_id = path.parent().unwrap().file_name().unwrap().to_str().unwrap().to_string();
    let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let incident_bytes = serde_json::to_vec(&case["incident"]).unwrap();
    let incident = Incident::from_bytes(&incident_bytes, 1 << 20).expect("golden incident is valid");
    let request = GuestRequest::from_incident(&incident).with_settings(&case["settings"]);
    let limits = Limits::default();

    let (first_engine, second_engine) = engines();
    let component = shipped(first_engine, &component_id);
    let first = component.evaluate(first_engine, &request, &limits).expect("evaluates");
    let again = component.evaluate(first_engine, &request, &limits).expect("evaluates again");
    let other = shipped(second_engine, &component_id).evaluate(second_engine, &request, &limits).unwrap();

    assert_eq!(first.output, again.output, "same engine, fresh instance: different bytes");
    assert_eq!(first.fuel_consumed, again.fuel_consumed, "same engine, fresh instance: different fuel");
    assert_eq!(first.output, other.output, "second engine: different bytes");
    assert_eq!(first.fuel_consumed, other.fuel_consumed, "second engine: different fuel");
    assert!(first.fuel_consumed > 0);
    // The direct canonical writer agrees with the general RFC 8785 canonicalizer.
    assert_eq!(first.output, andon_core::evidence::canonical_bytes_of(&first.decision).unwrap());

    let expect = &case["expect"];
    let outcome = expect["outcome"].as_str().unwrap();
    assert_eq!(first.decision.outcome(), outcome, "{}: {:#?}", path.display(), first.decision);
    match &first.decision {
        Decision::Refused { refusal } => {
            assert_eq!(refusal.reason, expect["reason"].as_str().unwrap());
            let missing: Vec<String> = refusal.missing.iter().map(|m| m.name.clone()).collect();
            assert_eq!(missing, strings(expect.get("missing")));
            assert!(!refusal.next_lawful_step.is_empty(), "a refusal names the next lawful step");
            assert!(!refusal.policy_reference.is_empty(), "a refusal names its policy");
            assert!(!refusal.checks.is_empty(), "a refusal lists the checks analyzed");
        }
        Decision::Plan { plan } => {
            let actions: Vec<String> = plan.steps.iter().map(|s| s.action.clone()).collect();
            assert_eq!(actions, strings(expect.get("actions")));
            assert_eq!(plan.recipe_id, component_id);
        }
        Decision::Pass { .. } => {}
    }
    let names: Vec<&str> = first.decision.checks().iter().map(|c| c.name.as_str()).collect();
    for wanted in strings(expect.get("checks")) {
        assert!(names.contains(&wanted.as_str()), "check {wanted} missing from {names:?}");
    }
}

#[test]
fn every_shipped_component_has_golden_cases_covering_pass_or_plan_and_refusal() {
    for component in andon_recipes::SHIPPED {
        let dir = crate::support::root().join("recipes-wasm/golden").join(component.id);
        let mut outcomes = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|_| panic!("no golden cases for {}", component.id)) {
            let case: Value = serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
            outcomes.insert(case["expect"]["outcome"].as_str().unwrap().to_string());
        }
        assert!(outcomes.contains("refused"), "{} has no refusal case", component.id);
        assert!(outcomes.contains("pass") || outcomes.contains("plan"), "{} has no approval case", component.id);
    }
}

#[test]
fn doctrine_story_cfo_absent_escalates_to_board() {
    let (engine, _) = engines();
    let json = r#"{"incident_id":"INC-2026-0001","kind":"approval_request","severity":"high",
        "evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000,"purpose":"datacenter lease"},
                    "authorities":{"cfo_available":false,"board_available":true}}}"#;
    let request = crate::support::request(json);
    let gate = shipped(engine, "approval-threshold").evaluate(engine, &request, &Limits::default()).unwrap();
    assert_eq!(gate.decision.outcome(), "pass");
    let cfo = gate.decision.checks().iter().find(|c| c.name == "cfo_available").unwrap();
    assert!(!cfo.passed);
    assert!(cfo.detail.contains("Board"), "{}", cfo.detail);
    let plan = shipped(engine, "approval-routing").evaluate(engine, &request, &Limits::default()).unwrap();
    let plan = plan.decision.plan().expect("a plan");
    let escalate = plan.steps.iter().find(|s| s.action == "escalate_to_board").expect("escalates to the Board");
    assert!(escalate.parameters.iter().any(|p| p.name == "approver" && p.value == "board"));
}

#[test]
fn direct_canonical_writer_escapes_strings_exactly_like_rfc_8785() {
    use andon_core::decision::{Check, MissingPrerequisite, Refusal};
    let nasty = "ctl\u{0}\u{1}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1f} quote\" back\\ slash/ del\u{7f} ls\u{2028} é 😀";
    let decision = Decision::Refused {
        refusal: Refusal {
            checks: vec![Check { detail: nasty.into(), name: nasty.into(), passed: false }],
            missing: vec![MissingPrerequisite { name: nasty.into(), status: "not_found".into() }],
            next_lawful_step: nasty.into(),
            policy_reference: "P".into(),
            reason: nasty.into(),
        },
    };
    assert_eq!(decision.canonical_bytes(), andon_core::evidence::canonical_bytes_of(&decision).unwrap());
    let pass = Decision::Pass { checks: vec![] };
    assert_eq!(pass.canonical_bytes(), andon_core::evidence::canonical_bytes_of(&pass).unwrap());
}
