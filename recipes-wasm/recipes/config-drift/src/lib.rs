//! Remediation recipe `config-drift` (policy `POL-CFG-001`): the deployed config's
//! hash differs from the spec's. The plan brings the deployed config back to the spec,
//! and deploys only if the validation tests pass; without tests it refuses.
//!
//! Evidence: `{"target": "payments-gateway", "deployed_config_sha256": "<64 hex>",
//! "spec_config_sha256": "<64 hex>", "spec_ref": "git:ops/specs@a1b2c3",
//! "tests_available": true}`. Hashes must be 64 lowercase hex digits.

use andon_guest_sdk::EVIDENCE_CONTRACT_POLICY;
use andon_guest_sdk::recipe::{Check, Plan, Recipe, RecipeVerdict, Refusal, Request};
use serde::Deserialize;

/// The policy this recipe follows.
pub const POLICY: &str = "POL-CFG-001";
/// The recipe id written into every plan.
pub const RECIPE_ID: &str = "config-drift";

#[derive(Deserialize)]
struct Evidence {
    target: String,
    deployed_config_sha256: String,
    spec_config_sha256: String,
    spec_ref: String,
    #[serde(default)]
    tests_available: bool,
}

/// The `config-drift` recipe.
pub struct ConfigDrift;

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Recipe for ConfigDrift {
    fn plan(request: Request) -> RecipeVerdict {
        let ev: Evidence = match request.evidence() {
            Ok(evidence) => evidence,
            Err(refusal) => return RecipeVerdict::Refuse(refusal),
        };
        let (deployed, spec) = (&ev.deployed_config_sha256, &ev.spec_config_sha256);
        if !is_sha256_hex(deployed) || !is_sha256_hex(spec) {
            return RecipeVerdict::Refuse(
                Refusal::new("evidence_invalid")
                    .check(Check::fail("config_hashes_valid", "both config hashes must be 64 lowercase hex digits"))
                    .next_lawful_step("resubmit the incident with sha256 hashes as 64 lowercase hex digits")
                    .policy(EVIDENCE_CONTRACT_POLICY),
            );
        }
        let valid = Check::pass("config_hashes_valid", "both config hashes are sha256 hex");
        let drift = Check::new(
            "config_drift_detected",
            deployed != spec,
            format!("deployed {deployed} {} spec {spec}", if deployed == spec { "==" } else { "!=" }),
        );
        if !drift.passed {
            return RecipeVerdict::Refuse(
                Refusal::new("no_drift_detected")
                    .checks([valid, drift])
                    .next_lawful_step("close the incident as a false positive after confirming the monitor")
                    .policy(POLICY),
            );
        }
        let tests = Check::new(
            "validation_tests_available",
            ev.tests_available,
            format!("validation tests for {} available: {}", ev.target, ev.tests_available),
        );
        if !tests.passed {
            return RecipeVerdict::Refuse(
                Refusal::new("validation_tests_missing")
                    .checks([valid, drift, tests])
                    .missing("config_validation_tests", "not_found")
                    .next_lawful_step("add validation tests for the target's config and resubmit the incident")
                    .policy(POLICY),
            );
        }
        let target = || ("target", ev.target.clone());
        let spec_ref = || ("spec_ref", ev.spec_ref.clone());
        let plan = Plan::new(RECIPE_ID)
            .check(valid)
            .check(drift)
            .check(tests)
            .step("capture_state", [target(), ("deployed_sha256", deployed.clone())])
            .step("compare_to_spec", [target(), spec_ref(), ("spec_sha256", spec.clone())])
            .step(
                "generate_delta",
                [target(), ("from_sha256", deployed.clone()), ("to_sha256", spec.clone()), spec_ref()],
            )
            .step("validate", [target(), spec_ref()])
            .step("deploy_if_tests_pass", [target(), spec_ref(), ("expected_sha256", spec.clone())])
            .expect("deployed config hash equals spec hash")
            .quality_check("sha256 of deployed config == spec_config_sha256 after deploy")
            .quality_check("validation tests pass before deploy");
        RecipeVerdict::Plan(plan)
    }
}

andon_guest_sdk::export_recipe!(ConfigDrift);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    const DEPLOYED: &str = "af5f2730f0725e2f4a1ca593598bb588ffdbc728b8ddb616506fb5897002f3a8";
    const SPEC: &str = "f7d8ba9a6937ff7aa4e857ea4e7ad38dd189ab4785b7587964d59878f2f57207";

    fn run(deployed: &str, spec: &str, tests: bool) -> RecipeVerdict {
        let evidence = format!(
            r#"{{"target":"payments-gateway","deployed_config_sha256":"{deployed}","spec_config_sha256":"{spec}","spec_ref":"git:ops/specs@a1b2c3","tests_available":{tests}}}"#
        );
        ConfigDrift::plan(Request::for_test("INC-1", "config_hash_mismatch", Severity::High, &evidence))
    }

    fn reason(verdict: RecipeVerdict) -> String {
        match verdict {
            RecipeVerdict::Refuse(refusal) => refusal.reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn config_hash_mismatch_plans_ordered_steps() {
        let RecipeVerdict::Plan(plan) = run(DEPLOYED, SPEC, true) else { panic!("no plan") };
        assert_eq!(plan.recipe_id, RECIPE_ID);
        assert_eq!(
            plan.actions(),
            ["capture_state", "compare_to_spec", "generate_delta", "validate", "deploy_if_tests_pass"]
        );
        assert_eq!(plan.steps[4].param("expected_sha256"), Some(SPEC));
        assert_eq!(plan.steps[2].param("from_sha256"), Some(DEPLOYED));
        assert_eq!(plan.steps[1].param("spec_ref"), Some("git:ops/specs@a1b2c3"));
        assert_eq!(plan.expected_outcomes, ["deployed config hash equals spec hash"]);
        assert_eq!(plan.quality_checks[0], "sha256 of deployed config == spec_config_sha256 after deploy");
    }

    #[test]
    fn no_drift_refuses() {
        let RecipeVerdict::Refuse(refusal) = run(SPEC, SPEC, true) else { panic!() };
        assert_eq!(refusal.reason, "no_drift_detected");
        assert_eq!(refusal.next_lawful_step, "close the incident as a false positive after confirming the monitor");
        assert_eq!(refusal.policy_reference, POLICY);
    }

    #[test]
    fn missing_tests_refuse() {
        let RecipeVerdict::Refuse(refusal) = run(DEPLOYED, SPEC, false) else { panic!() };
        assert_eq!(refusal.reason, "validation_tests_missing");
        assert_eq!(
            (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
            ("config_validation_tests", "not_found")
        );
        assert_eq!(refusal.checks.len(), 3);
    }

    #[test]
    fn malformed_hashes_or_evidence_refuse() {
        assert_eq!(reason(run(&DEPLOYED.to_uppercase(), SPEC, true)), "evidence_invalid");
        assert_eq!(reason(run(DEPLOYED, &SPEC[..63], true)), "evidence_invalid");
        assert_eq!(reason(run(DEPLOYED, &SPEC.replace('a', "g"), true)), "evidence_invalid");
        let request = Request::for_test("INC-2", "config_hash_mismatch", Severity::Low, r#"{"target":1}"#);
        assert_eq!(reason(ConfigDrift::plan(request)), "evidence_unreadable");
    }
}
