//! Running a bundle's golden cases and its determinism gate: every case is run twice
//! in fresh instances and must give identical bytes and fuel, and its decision must
//! match the expectation.

use serde::Serialize;
use serde_json::Value;

use crate::bundle::Bundle;
use crate::bundle::manifest::GoldenEntry;
use crate::pipeline::{self, Stage};
use andon_core::decision::Decision;
use andon_core::engine::AndonEngine;
use andon_core::eval::GuestRequest;
use andon_core::evidence::Incident;

/// The result of one golden case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Case name.
    pub name: String,
    /// `component:<id>` or `route:<kind>`.
    pub target: String,
    /// The outcome decided.
    pub outcome: String,
    /// Fuel consumed (sum over components for a route).
    pub fuel: u64,
    /// Whether both runs gave identical bytes and fuel.
    pub deterministic: bool,
    /// What did not match, if anything.
    pub failures: Vec<String>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.deterministic && self.failures.is_empty()
    }
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

fn compare(decision: &Decision, expect: &Value, failures: &mut Vec<String>) {
    let outcome = expect["outcome"].as_str().unwrap_or("?");
    if decision.outcome() != outcome {
        failures.push(format!("outcome is `{}`, expected `{outcome}`", decision.outcome()));
        return;
    }
    match decision {
        Decision::Refused { refusal } => {
            if let Some(reason) = expect["reason"].as_str()
                && refusal.reason != reason
            {
                failures.push(format!("reason is `{}`, expected `{reason}`", refusal.reason));
            }
            if let Some(missing) = strings(&expect["missing"]) {
                let got: Vec<String> = refusal.missing.iter().map(|m| m.name.clone()).collect();
                if got != missing {
                    failures.push(format!("missing prerequisites are {got:?}, expected {missing:?}"));
                }
            }
            if let Some(fields) = strings(&expect["fields"]) {
                for field in fields {
                    if !refusal.checks.iter().any(|c| c.name == field && !c.passed) {
                        failures.push(format!("no failed check `{field}`"));
                    }
                }
            }
        }
        Decision::Plan { plan } => {
            if let Some(actions) = strings(&expect["actions"]) {
                let got: Vec<String> = plan.steps.iter().map(|s| s.action.clone()).collect();
                if got != actions {
                    failures.push(format!("plan steps are {got:?}, expected {actions:?}"));
                }
            }
        }
        Decision::Pass { .. } => {}
    }
    if let Some(checks) = strings(&expect["checks"]) {
        for check in checks {
            if !decision.checks().iter().any(|c| c.name == check) {
                failures.push(format!("check `{check}` was not reported"));
            }
        }
    }
}

/// A golden case names the recipe stage without its id (`recipe`).
fn stage_name(stage: &Stage) -> String {
    match stage {
        Stage::Recipe(_) => "recipe".into(),
        other => other.name(),
    }
}

/// Runs one golden case.
pub fn run_case(engine: &AndonEngine, bundle: &Bundle, entry: &GoldenEntry, case: &Value) -> CaseResult {
    let mut failures = Vec::new();
    let incident = match Incident::from_value(case["incident"].clone()) {
        Ok(incident) => incident,
        Err(e) => {
            return CaseResult {
                name: entry.name.clone(),
                target: String::new(),
                outcome: "invalid".into(),
                fuel: 0,
                deterministic: false,
                failures: vec![format!("golden incident is invalid: {e}")],
            };
        }
    };
    let expect = &case["expect"];
    if let Some(id) = &entry.component {
        let component = &bundle.components[id];
        let settings = case.get("settings").cloned().unwrap_or(Value::Object(Default::default()));
        let request = GuestRequest::from_incident(&incident).with_settings(&settings);
        let limits = component.entry.limits;
        let first = component.loaded.evaluate(engine, &request, &limits);
        let second = component.loaded.evaluate(engine, &request, &limits);
        let (outcome, fuel, deterministic) = match (&first, &second) {
            (Ok(a), Ok(b)) => {
                compare(&a.decision, expect, &mut failures);
                (
                    a.decision.outcome().to_string(),
                    a.fuel_consumed,
                    a.output == b.output && a.fuel_consumed == b.fuel_consumed,
                )
            }
            (Err(e), _) | (_, Err(e)) => {
                failures.push(format!("component faulted: {e}"));
                ("fault".to_string(), e.fuel_consumed(), false)
            }
        };
        CaseResult {
            name: entry.name.clone(),
            target: format!("component:{id}"),
            outcome,
            fuel,
            deterministic,
            failures,
        }
    } else {
        let kind = entry.route.clone().unwrap_or_default();
        let first = pipeline::decide(engine, bundle, &incident);
        let second = pipeline::decide(engine, bundle, &incident);
        let fuel: u64 = first.runs.iter().map(|r| r.fuel_consumed).sum();
        let deterministic = first.decision_bytes() == second.decision_bytes() && first.runs == second.runs;
        compare(&first.decision, expect, &mut failures);
        if let Some(stage) = expect["stage"].as_str()
            && stage_name(&first.stage) != stage
        {
            failures.push(format!("stopped at `{}`, expected `{stage}`", stage_name(&first.stage)));
        }
        CaseResult {
            name: entry.name.clone(),
            target: format!("route:{kind}"),
            outcome: first.decision.outcome().to_string(),
            fuel,
            deterministic,
            failures,
        }
    }
}

/// One component's golden case, run twice in fresh instances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentCase {
    /// Component id.
    pub component: String,
    /// The case's file stem.
    pub case: String,
    /// SHA-256 of the component bytes.
    pub component_sha256: String,
    /// SHA-256 of the canonical evidence.
    pub evidence_sha256: String,
    /// The decision of the first run.
    pub decision: Decision,
    /// The expected outcome (`?` when the case names none).
    pub expected: String,
    /// Fuel of the first run.
    pub fuel_consumed: u64,
    /// SHA-256 of the first run's canonical output.
    pub output_sha256: String,
    /// Both runs gave identical bytes and fuel.
    pub deterministic: bool,
    /// Deterministic and the outcome is the expected one.
    pub ok: bool,
}

/// Why a component's golden cases could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ComponentCaseError {
    /// The component does not load.
    #[error("loading component {id}")]
    Load {
        /// Component id.
        id: String,
        /// The cause.
        #[source]
        source: andon_core::Error,
    },
    /// A case file cannot be read or is not a valid case.
    #[error("golden case {}", path.display())]
    Case {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: andon_core::Error,
    },
    /// The cases folder cannot be read.
    #[error("cannot read golden cases in {}", path.display())]
    Io {
        /// The folder.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Runs every `*.json` golden case in `dir` (sorted by name) on the component `id`
/// (its `bytes`), twice each in fresh instances under `limits`, and compares the
/// outcome with the case's `expect.outcome`. The component-level golden runner
/// (the bundle-level one, through the pipeline, is [`run_case`]).
///
/// # Errors
/// [`ComponentCaseError`] when the component does not load or a case is unreadable;
/// a guest fault on a case is an error too (a shipped component must not fault on
/// its own golden cases).
pub fn run_component_cases(
    engine: &AndonEngine,
    id: &str,
    bytes: &[u8],
    dir: &std::path::Path,
    limits: &andon_core::Limits,
) -> Result<Vec<ComponentCase>, ComponentCaseError> {
    let component = andon_core::LoadedComponent::load(engine, bytes)
        .map_err(|source| ComponentCaseError::Load { id: id.into(), source })?;
    let io = |source| ComponentCaseError::Io { path: dir.to_path_buf(), source };
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    let mut rows = Vec::new();
    for path in cases {
        let case_err = |source| ComponentCaseError::Case { path: path.clone(), source };
        let bytes = andon_core::evidence::read_file_capped(&path, andon_core::evidence::DEFAULT_MAX_EVIDENCE_BYTES)
            .map_err(case_err)?;
        let case =
            andon_core::evidence::parse_strict("golden case", &bytes, andon_core::evidence::DEFAULT_MAX_EVIDENCE_BYTES)
                .map_err(|e| case_err(e.into()))?;
        let incident = Incident::from_value(case["incident"].clone()).map_err(|e| case_err(e.into()))?;
        let request = GuestRequest::from_incident(&incident).with_settings(&case["settings"]);
        let first = component.evaluate(engine, &request, limits).map_err(case_err)?;
        let second = component.evaluate(engine, &request, limits).map_err(case_err)?;
        let deterministic = first.output == second.output && first.fuel_consumed == second.fuel_consumed;
        let expected = case["expect"]["outcome"].as_str().unwrap_or("?").to_string();
        let ok = deterministic && expected == first.decision.outcome();
        rows.push(ComponentCase {
            component: id.into(),
            case: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            component_sha256: first.component_sha256,
            evidence_sha256: incident.sha256,
            decision: first.decision,
            expected,
            fuel_consumed: first.fuel_consumed,
            output_sha256: first.output_sha256,
            deterministic,
            ok,
        });
    }
    Ok(rows)
}
