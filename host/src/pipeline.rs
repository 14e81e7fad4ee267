//! The decision pipeline of one incident against a loaded bundle: route by kind →
//! ontology gate (evidence schema) → policy gates in order → recipe. Every stage's
//! checks are kept; any refusal or fault stops the pipeline with a refusal, never a
//! partial plan.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bundle::ontology::ONTOLOGY_REASON;
use crate::bundle::{Bundle, Role};
use crate::decision::{Check, Decision, Refusal};
use crate::engine::AndonEngine;
use crate::errors::{Error, FaultClass};
use crate::eval::{GuestRequest, Limits};
use crate::evidence::{Incident, canonical_bytes_of, sha256_hex};

/// Refusal reason when no route matches the incident kind.
pub const NO_STANDARD_WORK: &str = "no_standard_work";
/// Refusal reason when a component faulted.
pub const INDETERMINATE: &str = "indeterminate";
/// Policy reference of routing refusals.
pub const NO_IMPROVISATION_POLICY: &str = "ANDON-NO-IMPROVISATION";
/// Policy reference of fault refusals.
pub const FAULT_POLICY: &str = "ANDON-FAULT-CONTAINMENT";

/// One component run, as a receipt records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentRun {
    /// Component id.
    pub id: String,
    /// Gate or recipe.
    pub role: Role,
    /// Component version from the manifest.
    pub version: String,
    /// SHA-256 of the component bytes.
    pub sha256: String,
    /// Settings handed to it.
    pub settings: Value,
    /// Limits it ran under.
    pub limits: Limits,
    /// Fuel consumed.
    pub fuel_consumed: u64,
    /// `pass`, `plan`, `refused`, or `fault`.
    pub outcome: String,
    /// SHA-256 of its RFC 8785 output (absent on a fault).
    pub output_sha256: Option<String>,
    /// The fault class, when it faulted.
    pub fault: Option<FaultClass>,
}

/// Where the pipeline stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// No route for the incident kind.
    Routing,
    /// The evidence failed the recipe's schema.
    Ontology,
    /// A gate refused or faulted.
    Gate(String),
    /// The recipe planned, refused or faulted.
    Recipe(String),
}

/// The full result of deciding one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Incident kind.
    pub kind: String,
    /// Recipe of the matched route.
    pub recipe: Option<String>,
    /// Every component that ran, in order.
    pub runs: Vec<ComponentRun>,
    /// The final decision: a plan, or a refusal carrying every check analyzed.
    pub decision: Decision,
    /// Where it stopped.
    pub stage: Stage,
    /// The fault class when a component faulted.
    pub fault: Option<FaultClass>,
}

impl Outcome {
    /// RFC 8785 bytes of the final decision.
    pub fn decision_bytes(&self) -> Vec<u8> {
        canonical_bytes_of(&self.decision).expect("decision serializes")
    }

    /// SHA-256 of [`Outcome::decision_bytes`].
    pub fn decision_sha256(&self) -> String {
        sha256_hex(&self.decision_bytes())
    }
}

/// The refusal for a guest fault: reason `indeterminate` plus the fault class.
pub fn fault_refusal(component: &str, error: &Error, mut checks: Vec<Check>) -> Refusal {
    let class = error.fault_class().map(|c| c.as_str()).unwrap_or("host_error");
    checks.push(Check {
        name: format!("component_fault:{component}"),
        passed: false,
        detail: format!("{class}: {error}"),
    });
    Refusal {
        reason: INDETERMINATE.into(),
        checks,
        missing: Vec::new(),
        next_lawful_step: format!(
            "escalate to the owner of component `{component}`; no automated remediation is lawful until a fixed version is published"
        ),
        policy_reference: FAULT_POLICY.into(),
    }
}

/// Decides one incident against a bundle.
pub fn decide(engine: &AndonEngine, bundle: &Bundle, incident: &Incident) -> Outcome {
    let kind = incident.envelope.kind.clone();
    let Some(route) = bundle.manifest.route(&kind) else {
        let routed: Vec<&str> = bundle.manifest.routes.iter().map(|r| r.kind.as_str()).collect();
        return Outcome {
            kind: kind.clone(),
            recipe: None,
            runs: Vec::new(),
            decision: Decision::Refused {
                refusal: Refusal {
                    reason: NO_STANDARD_WORK.into(),
                    checks: vec![Check {
                        name: "route_exists".into(),
                        passed: false,
                        detail: format!(
                            "no standard work for this incident class: `{kind}` is not routed by bundle {} {} (routed: {})",
                            bundle.manifest.name,
                            bundle.manifest.version,
                            routed.join(", ")
                        ),
                    }],
                    missing: vec![crate::decision::MissingPrerequisite {
                        name: "standard_work".into(),
                        status: "not_found".into(),
                    }],
                    next_lawful_step: "escalate to a human owner and propose a standard recipe for this incident class; do not improvise".into(),
                    policy_reference: NO_IMPROVISATION_POLICY.into(),
                },
            },
            stage: Stage::Routing,
            fault: None,
        };
    };
    let recipe_id = route.recipe.clone();
    let evidence = &incident.document["evidence"];
    if let Some(refusal) = bundle.schemas.get(&recipe_id).and_then(|schema| schema.check(&recipe_id, evidence)) {
        debug_assert_eq!(refusal.reason, ONTOLOGY_REASON);
        return Outcome {
            kind,
            recipe: Some(recipe_id),
            runs: Vec::new(),
            decision: Decision::Refused { refusal },
            stage: Stage::Ontology,
            fault: None,
        };
    }

    let base = GuestRequest::from_incident(incident);
    let mut runs = Vec::new();
    let mut checks: Vec<Check> = Vec::new();
    let steps = route
        .gates
        .iter()
        .map(|g| (g.component.as_str(), &g.settings))
        .chain(std::iter::once((route.recipe.as_str(), &route.settings)));
    for (id, settings) in steps {
        let component = bundle.component(id).expect("manifest validation guarantees routed components exist");
        let request = base.clone().with_settings(settings);
        let limits = component.entry.limits;
        let mut run = ComponentRun {
            id: id.to_string(),
            role: component.entry.role,
            version: component.entry.version.to_string(),
            sha256: component.loaded.sha256().to_string(),
            settings: settings.clone(),
            limits,
            fuel_consumed: 0,
            outcome: String::new(),
            output_sha256: None,
            fault: None,
        };
        let stage = match component.entry.role {
            Role::Gate => Stage::Gate(id.to_string()),
            Role::Recipe => Stage::Recipe(id.to_string()),
        };
        match component.loaded.evaluate(engine, &request, &limits) {
            Ok(evaluation) => {
                run.fuel_consumed = evaluation.fuel_consumed;
                run.outcome = evaluation.decision.outcome().to_string();
                run.output_sha256 = Some(evaluation.output_sha256.clone());
                runs.push(run);
                match evaluation.decision {
                    Decision::Pass { checks: passed } => checks.extend(passed),
                    Decision::Refused { mut refusal } => {
                        let mut all = checks;
                        all.append(&mut refusal.checks);
                        refusal.checks = all;
                        return Outcome {
                            kind,
                            recipe: Some(recipe_id),
                            runs,
                            decision: Decision::Refused { refusal },
                            stage,
                            fault: None,
                        };
                    }
                    Decision::Plan { mut plan } => {
                        let mut all = checks;
                        all.append(&mut plan.checks);
                        plan.checks = all;
                        return Outcome {
                            kind,
                            recipe: Some(recipe_id),
                            runs,
                            decision: Decision::Plan { plan },
                            stage,
                            fault: None,
                        };
                    }
                }
            }
            Err(error) => {
                run.fuel_consumed = error.fuel_consumed();
                run.outcome = "fault".into();
                run.fault = error.fault_class();
                runs.push(run);
                return Outcome {
                    kind,
                    recipe: Some(recipe_id),
                    runs,
                    decision: Decision::Refused { refusal: fault_refusal(id, &error, checks) },
                    stage,
                    fault: error.fault_class(),
                };
            }
        }
    }
    unreachable!("the loop returns at the recipe")
}
