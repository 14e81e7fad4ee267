//! The decision a gate or recipe returns, as the host records it.
//!
//! These mirror the WIT values one to one, with serde names in snake_case; the
//! RFC 8785 form of a [`Decision`] is the output whose SHA-256 a receipt carries.

use serde::{Deserialize, Serialize};

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
