//! Native golden-case testing for gates and recipes (feature `testing`).
//!
//! Every shipped guest has JSON golden cases in `recipes-wasm/golden/<component-id>/*.json`:
//!
//! ```json
//! {
//!   "incident": {"incident_id": "INC-1", "kind": "field_work", "severity": "high", "evidence": {}},
//!   "settings": {},
//!   "expect": {"outcome": "pass" | "plan" | "refused", "reason": "…", "actions": ["…"],
//!              "missing": ["…"], "checks": ["…"]}
//! }
//! ```
//!
//! [`golden_cases`] reads them into [`GoldenCase`]s; [`assert_gate_case`] and
//! [`assert_recipe_case`] compare a verdict with the case's [`Expect`]. `reason` and
//! `missing` belong to refusals only, `actions` to plans only; a plan's actions must equal
//! `actions` in order and its `recipe_id` must be the component id; every name in `checks`
//! must be among the checks the verdict reports.
//!
//! # Example
//!
//! A guest crate's `tests/golden.rs` (enable the feature under `[dev-dependencies]`:
//! `andon-guest-sdk = { workspace = true, features = ["testing"] }`):
//!
//! ```no_run
//! use andon_guest_sdk::gate::{Gate, GateVerdict, Request};
//! use andon_guest_sdk::testing::{assert_gate_case, golden_cases, golden_dir};
//!
//! struct AlwaysPass;
//!
//! impl Gate for AlwaysPass {
//!     fn check(_request: Request) -> GateVerdict {
//!         GateVerdict::Pass(Vec::new())
//!     }
//! }
//!
//! // In `tests/golden.rs` this function carries `#[test]`.
//! fn golden_cases_hold() {
//!     for case in golden_cases(&golden_dir(env!("CARGO_MANIFEST_DIR"), "always-pass")) {
//!         assert_gate_case(&case, AlwaysPass::check(case.request.clone()));
//!     }
//! }
//! # fn main() { golden_cases_hold() }
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::{Check, GateVerdict, RecipeVerdict, Refusal, Request, Severity};

/// One golden case: the request built from the case file and what the verdict must be.
#[derive(Debug, Clone)]
pub struct GoldenCase {
    /// The case file's name without `.json`, e.g. `insurance_missing_refuses`.
    pub name: String,
    /// The component id: the name of the directory the case was read from.
    pub component_id: String,
    /// The request built from `incident` and `settings`.
    pub request: Request,
    /// The expected verdict.
    pub expect: Expect,
}

/// The `expect` object of a golden case.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Expect {
    /// `"pass"` (gates), `"plan"` (recipes) or `"refused"`.
    pub outcome: String,
    /// The refusal reason; present exactly for refusals.
    #[serde(default)]
    pub reason: Option<String>,
    /// The names of the missing prerequisites, in order; present exactly for refusals.
    #[serde(default)]
    pub missing: Option<Vec<String>>,
    /// The plan's step actions, in order; present exactly for recipe plans.
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    /// Checks the verdict must report (by name, in any order, among others).
    #[serde(default)]
    pub checks: Vec<String>,
}

#[derive(Deserialize)]
struct RawCase {
    incident: RawIncident,
    #[serde(default)]
    settings: Value,
    expect: Expect,
}

#[derive(Deserialize)]
struct RawIncident {
    incident_id: String,
    kind: String,
    severity: String,
    #[serde(default)]
    evidence: Value,
}

/// The golden directory of a component: `<manifest_dir>/../../golden/<component_id>`.
///
/// Pass `env!("CARGO_MANIFEST_DIR")` of a crate under `recipes-wasm/gates/` or
/// `recipes-wasm/recipes/`.
pub fn golden_dir(manifest_dir: &str, component_id: &str) -> PathBuf {
    Path::new(manifest_dir).join("../../golden").join(component_id)
}

/// Reads every `*.json` golden case in `dir`, sorted by file name.
///
/// The component id of every case is the name of `dir`.
///
/// # Panics
/// If `dir` cannot be read, a case file is malformed (the message names the file), or
/// there are fewer than three cases.
pub fn golden_cases(dir: &Path) -> Vec<GoldenCase> {
    let component_id = dir
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_else(|| panic!("{}: golden directory has no component name", dir.display()))
        .to_string();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap_or_else(|err| panic!("{}: {err}", dir.display())).path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let cases: Vec<GoldenCase> = paths.iter().map(|path| read_case(path, &component_id)).collect();
    assert!(cases.len() >= 3, "{}: at least three golden cases, found {}", dir.display(), cases.len());
    cases
}

fn read_case(path: &Path, component_id: &str) -> GoldenCase {
    let file = path.display();
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{file}: {err}"));
    let raw: RawCase = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{file}: malformed golden case: {err}"));
    let severity = Severity::parse(&raw.incident.severity)
        .unwrap_or_else(|| panic!("{file}: unknown severity {:?}", raw.incident.severity));
    let request =
        Request::for_test(&raw.incident.incident_id, &raw.incident.kind, severity, &raw.incident.evidence.to_string())
            .with_settings(&raw.settings.to_string());
    let name = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or_else(|| panic!("{file}: file name"));
    GoldenCase { name: name.to_string(), component_id: component_id.to_string(), request, expect: raw.expect }
}

impl GoldenCase {
    /// `<component-id>/<name>`, the label assertion messages use.
    pub fn label(&self) -> String {
        format!("{}/{}", self.component_id, self.name)
    }

    fn assert_shape(&self, allowed: [&str; 2]) {
        let (name, expect) = (self.label(), &self.expect);
        let outcome = expect.outcome.as_str();
        assert!(allowed.contains(&outcome), "{name}: outcome {outcome:?} is not one of {allowed:?}");
        let refused = outcome == "refused";
        assert_eq!(expect.reason.is_some(), refused, "{name}: reason only for refusals");
        assert_eq!(expect.missing.is_some(), refused, "{name}: missing only for refusals");
        assert_eq!(expect.actions.is_some(), outcome == "plan", "{name}: actions only for plans");
    }

    fn assert_refusal(&self, refusal: &Refusal) {
        let name = self.label();
        assert_eq!(self.expect.outcome, "refused", "{name}: {refusal:?}");
        assert_eq!(self.expect.reason.as_deref(), Some(refusal.reason.as_str()), "{name}");
        let missing: Vec<&str> = refusal.missing.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(self.expect.missing.as_deref().unwrap_or_default(), missing, "{name}");
    }

    fn assert_checks(&self, checks: &[Check]) {
        for wanted in &self.expect.checks {
            assert!(checks.iter().any(|c| &c.name == wanted), "{}: check {wanted} not reported", self.label());
        }
    }
}

/// Asserts that a gate's `verdict` on `case.request` matches `case.expect`.
///
/// # Panics
/// On any mismatch, with a message naming the case.
pub fn assert_gate_case(case: &GoldenCase, verdict: GateVerdict) {
    case.assert_shape(["pass", "refused"]);
    let checks = match verdict {
        GateVerdict::Pass(checks) => {
            assert_eq!(case.expect.outcome, "pass", "{}: {checks:?}", case.label());
            checks
        }
        GateVerdict::Refuse(refusal) => {
            case.assert_refusal(&refusal);
            refusal.checks
        }
    };
    case.assert_checks(&checks);
}

/// Asserts that a recipe's `verdict` on `case.request` matches `case.expect`, including
/// that a plan's `recipe_id` is the case's component id.
///
/// # Panics
/// On any mismatch, with a message naming the case.
pub fn assert_recipe_case(case: &GoldenCase, verdict: RecipeVerdict) {
    case.assert_shape(["plan", "refused"]);
    let name = case.label();
    let checks = match verdict {
        RecipeVerdict::Plan(plan) => {
            assert_eq!(case.expect.outcome, "plan", "{name}: {plan:?}");
            assert_eq!(plan.recipe_id, case.component_id, "{name}: recipe id");
            assert_eq!(case.expect.actions.as_deref().unwrap_or_default(), plan.actions(), "{name}: actions");
            plan.checks
        }
        RecipeVerdict::Refuse(refusal) => {
            case.assert_refusal(&refusal);
            refusal.checks
        }
    };
    case.assert_checks(&checks);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("andon-golden-{}-{label}", std::process::id())).join("comp-x");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const PASS: &str = r#"{"incident": {"incident_id": "INC-1", "kind": "k", "severity": "HIGH",
        "evidence": {"a": 1}}, "settings": {"s": true}, "expect": {"outcome": "pass", "checks": ["c"]}}"#;

    #[test]
    fn golden_dir_is_two_levels_up() {
        assert_eq!(golden_dir("/r/recipes-wasm/gates/x", "x"), Path::new("/r/recipes-wasm/gates/x/../../golden/x"));
    }

    #[test]
    fn cases_are_read_sorted_with_the_component_id() {
        let dir = scratch("sorted");
        for file in ["b.json", "a.json", "c.json"] {
            std::fs::write(dir.join(file), PASS).unwrap();
        }
        std::fs::write(dir.join("README.md"), "not a case").unwrap();
        let cases = golden_cases(&dir);
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(cases[0].component_id, "comp-x");
        assert_eq!(cases[0].request.envelope.severity, Severity::High);
        assert_eq!(cases[0].request.evidence, r#"{"a":1}"#);
        assert_eq!(cases[0].request.settings, r#"{"s":true}"#);
        assert_gate_case(&cases[0], GateVerdict::Pass(vec![Check::pass("c", "ok")]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    #[should_panic(expected = "broken.json: malformed golden case")]
    fn malformed_case_names_the_file() {
        let dir = scratch("malformed");
        std::fs::write(dir.join("broken.json"), r#"{"incident": {}}"#).unwrap();
        golden_cases(&dir);
    }

    #[test]
    #[should_panic(expected = "comp-x/a: check missing_check not reported")]
    fn unreported_check_names_the_case() {
        let dir = scratch("unreported");
        for file in ["a.json", "b.json", "c.json"] {
            std::fs::write(dir.join(file), PASS.replace(r#"["c"]"#, r#"["missing_check"]"#)).unwrap();
        }
        let case = golden_cases(&dir).remove(0);
        assert_gate_case(&case, GateVerdict::Pass(Vec::new()));
    }
}
