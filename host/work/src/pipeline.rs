//! The decision pipeline of one incident against a loaded bundle: route by kind →
//! ontology gate (evidence schema) → policy gates in order → recipe. Every stage's
//! checks are kept; any refusal or fault stops the pipeline with a refusal, never a
//! partial plan.

use serde::{Deserialize, Serialize};

use crate::bundle::ontology::ONTOLOGY_REASON;
use crate::bundle::{Bundle, Role};
use andon_core::RecordedRun;
use andon_core::decision::{Check, Decision};
use andon_core::engine::AndonEngine;
use andon_core::errors::FaultClass;
use andon_core::eval::GuestRequest;
use andon_core::evidence::{Incident, canonical_bytes_of, sha256_hex};
use andon_core::record;
use andon_core::run;
use andon_ledger::receipt::{ComponentRun, RunOutcome};

/// Refusal reason when no route matches the incident kind (see [`andon_core::refusal`]).
pub const NO_STANDARD_WORK: &str = andon_core::refusal::NO_STANDARD_WORK.reason;
/// Policy reference of routing refusals.
pub const NO_IMPROVISATION_POLICY: &str = andon_core::refusal::NO_STANDARD_WORK.policy;

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

impl Stage {
    /// The stage's name as receipts and outputs give it: `routing`, `ontology`,
    /// `gate:<id>` or `recipe:<id>`.
    pub fn name(&self) -> String {
        match self {
            Stage::Routing => "routing".into(),
            Stage::Ontology => "ontology".into(),
            Stage::Gate(id) => format!("gate:{id}"),
            Stage::Recipe(id) => format!("recipe:{id}"),
        }
    }
}

/// The full result of deciding one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Incident kind.
    pub kind: String,
    /// Recipe of the matched route.
    pub recipe: Option<String>,
    /// Every component that ran, in order, as receipts record them.
    pub runs: Vec<ComponentRun>,
    /// Each run's own decision (a fault's `indeterminate` refusal for a fault).
    pub decisions: Vec<Decision>,
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

/// The final decision composed from the runs' own decisions, in order: the last
/// decision, with the checks of every earlier run placed before its own (so a
/// refusal lists every check analyzed, and a plan carries the gates' checks). Replay
/// recomputes it the same way.
pub fn combine(decisions: &[Decision]) -> Decision {
    let Some((last, earlier)) = decisions.split_last() else {
        return Decision::Pass { checks: Vec::new() };
    };
    let mut checks: Vec<Check> = earlier.iter().flat_map(|d| d.checks().to_vec()).collect();
    match last.clone() {
        Decision::Pass { checks: mut own } => {
            checks.append(&mut own);
            Decision::Pass { checks }
        }
        Decision::Plan { mut plan } => {
            checks.append(&mut plan.checks);
            plan.checks = checks;
            Decision::Plan { plan }
        }
        Decision::Refused { mut refusal } => {
            checks.append(&mut refusal.checks);
            refusal.checks = checks;
            Decision::Refused { refusal }
        }
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
            decisions: Vec::new(),
            decision: Decision::Refused {
                refusal: andon_core::refusal::NO_STANDARD_WORK.refusal(
                    vec![Check {
                        name: "route_exists".into(),
                        passed: false,
                        detail: format!(
                            "no standard work for this incident class: `{kind}` is not routed by bundle {} {} (routed: {})",
                            bundle.manifest.name,
                            bundle.manifest.version,
                            routed.join(", ")
                        ),
                    }],
                    vec![andon_core::decision::MissingPrerequisite {
                        name: "standard_work".into(),
                        status: "not_found".into(),
                    }],
                ),
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
            decisions: Vec::new(),
            decision: Decision::Refused { refusal },
            stage: Stage::Ontology,
            fault: None,
        };
    }

    let base = GuestRequest::from_incident(incident);
    let mut runs = Vec::new();
    let mut decisions: Vec<Decision> = Vec::new();
    let steps = route
        .gates
        .iter()
        .map(|g| (g.component.as_str(), &g.settings))
        .chain(std::iter::once((route.recipe.as_str(), &route.settings)));
    let mut stage = Stage::Recipe(recipe_id.clone());
    let mut fault = None;
    for (id, settings) in steps {
        let component = bundle.component(id).expect("manifest validation guarantees routed components exist");
        let request = base.clone().with_settings(settings);
        stage = match component.entry.role {
            Role::Gate => Stage::Gate(id.to_string()),
            Role::Recipe => Stage::Recipe(id.to_string()),
        };
        let recorded = match run::evaluate_loaded(engine, id, &component.loaded, &request, &component.entry.limits) {
            Ok(recorded) => recorded,
            // Not the component's fault (engine failure): recorded as an
            // indeterminate refusal all the same, never a plan.
            Err(error) => RecordedRun {
                run: ComponentRun {
                    id: id.into(),
                    role: Some(component.loaded.world()),
                    sha256: component.loaded.sha256().into(),
                    fuel_consumed: 0,
                    limits: component.entry.limits,
                    settings: settings.clone(),
                    output_sha256: None,
                    outcome: RunOutcome::Fault,
                    fault_class: None,
                },
                decision: record::fault_refusal(FaultClass::Trap, &error.to_string()),
                fault: None,
            },
        };
        let stop = recorded.decision.outcome() != "pass";
        fault = recorded.fault.as_ref().map(|f| f.class);
        runs.push(recorded.run);
        decisions.push(recorded.decision);
        if stop {
            break;
        }
    }
    Outcome { kind, recipe: Some(recipe_id), decision: combine(&decisions), runs, decisions, stage, fault }
}
