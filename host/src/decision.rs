//! The decision a gate or recipe returns, as the host records it.
//!
//! These mirror the WIT values one to one, with serde names in snake_case; the
//! RFC 8785 form of a [`Decision`] is the output whose SHA-256 a receipt carries.

use serde::{Deserialize, Serialize};

use crate::bindings::wit;

/// One analyzed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Detail.
    pub detail: String,
    /// Check name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
}

/// A missing prerequisite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingPrerequisite {
    /// Prerequisite name, e.g. `insurance_cert`.
    pub name: String,
    /// Its status, e.g. `not_found`.
    pub status: String,
}

/// A refusal with the doctrine's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// Every check analyzed.
    pub checks: Vec<Check>,
    /// Missing prerequisites.
    pub missing: Vec<MissingPrerequisite>,
    /// The next lawful step.
    pub next_lawful_step: String,
    /// The policy reference.
    pub policy_reference: String,
    /// Why.
    pub reason: String,
}

/// A plan step parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// One ordered plan step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Action.
    pub action: String,
    /// Parameters, in order.
    pub parameters: Vec<Param>,
}

/// A remediation plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Checks analyzed by the recipe.
    pub checks: Vec<Check>,
    /// Expected outcomes.
    pub expected_outcomes: Vec<String>,
    /// Quality checks.
    pub quality_checks: Vec<String>,
    /// Recipe that produced it.
    pub recipe_id: String,
    /// Ordered steps.
    pub steps: Vec<Step>,
}

/// What one component decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decision {
    /// A gate passed with these checks.
    Pass {
        /// The analyzed checks.
        checks: Vec<Check>,
    },
    /// A recipe planned.
    Plan {
        /// The plan.
        plan: Plan,
    },
    /// A gate or recipe refused.
    Refused {
        /// The refusal.
        refusal: Refusal,
    },
}

impl Decision {
    /// `pass`, `plan` or `refused`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Decision::Pass { .. } => "pass",
            Decision::Plan { .. } => "plan",
            Decision::Refused { .. } => "refused",
        }
    }

    /// The refusal, if this is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Decision::Refused { refusal } => Some(refusal),
            _ => None,
        }
    }

    /// The plan, if this is one.
    pub fn plan(&self) -> Option<&Plan> {
        match self {
            Decision::Plan { plan } => Some(plan),
            _ => None,
        }
    }

    /// The checks this decision carries (pass checks, plan checks or refusal checks).
    pub fn checks(&self) -> &[Check] {
        match self {
            Decision::Pass { checks } => checks,
            Decision::Plan { plan } => &plan.checks,
            Decision::Refused { refusal } => &refusal.checks,
        }
    }
}

impl Decision {
    /// The RFC 8785 bytes of this decision, written directly: every struct above
    /// declares its fields in code-point order and holds only strings, booleans and
    /// arrays, and serde_json escapes strings exactly as RFC 8785 does, so no
    /// intermediate `Value` and no key sort are needed. A test checks the result
    /// against the general canonicalizer for every golden case.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let write = |out: &mut Vec<u8>, value: &dyn erased::Json| value.write(out);
        match self {
            Decision::Pass { checks } => {
                out.extend_from_slice(b"{\"checks\":");
                write(&mut out, checks);
                out.extend_from_slice(b",\"outcome\":\"pass\"}");
            }
            Decision::Plan { plan } => {
                out.extend_from_slice(b"{\"outcome\":\"plan\",\"plan\":");
                write(&mut out, plan);
                out.push(b'}');
            }
            Decision::Refused { refusal } => {
                out.extend_from_slice(b"{\"outcome\":\"refused\",\"refusal\":");
                write(&mut out, refusal);
                out.push(b'}');
            }
        }
        out
    }
}

mod erased {
    /// Writes a value as compact JSON.
    pub trait Json {
        fn write(&self, out: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Json for T {
        fn write(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(out, self).expect("decision values serialize");
        }
    }
}

impl From<wit::Check> for Check {
    fn from(c: wit::Check) -> Self {
        Check { name: c.name, passed: c.passed, detail: c.detail }
    }
}

impl From<wit::Refusal> for Refusal {
    fn from(r: wit::Refusal) -> Self {
        Refusal {
            reason: r.reason,
            checks: r.checks.into_iter().map(Check::from).collect(),
            missing: r.missing.into_iter().map(|m| MissingPrerequisite { name: m.name, status: m.status }).collect(),
            next_lawful_step: r.next_lawful_step,
            policy_reference: r.policy_reference,
        }
    }
}

impl From<wit::Plan> for Plan {
    fn from(p: wit::Plan) -> Self {
        Plan {
            recipe_id: p.recipe_id,
            steps: p
                .steps
                .into_iter()
                .map(|s| Step {
                    action: s.action,
                    parameters: s.parameters.into_iter().map(|p| Param { name: p.name, value: p.value }).collect(),
                })
                .collect(),
            expected_outcomes: p.expected_outcomes,
            quality_checks: p.quality_checks,
            checks: p.checks.into_iter().map(Check::from).collect(),
        }
    }
}

impl From<wit::GateVerdict> for Decision {
    fn from(v: wit::GateVerdict) -> Self {
        match v {
            wit::GateVerdict::Pass(checks) => Decision::Pass { checks: checks.into_iter().map(Check::from).collect() },
            wit::GateVerdict::Refuse(r) => Decision::Refused { refusal: r.into() },
        }
    }
}

impl From<wit::RecipeVerdict> for Decision {
    fn from(v: wit::RecipeVerdict) -> Self {
        match v {
            wit::RecipeVerdict::Plan(p) => Decision::Plan { plan: p.into() },
            wit::RecipeVerdict::Refuse(r) => Decision::Refused { refusal: r.into() },
        }
    }
}
