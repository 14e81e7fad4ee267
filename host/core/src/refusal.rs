//! The refusal catalogue: every refusal the host itself makes (as opposed to a
//! guest's own verdict), each with its reason, policy reference and next lawful
//! step, in one table. A refusal is a value, never a partial plan: see
//! `docs/receipts.md` for how each appears in a receipt.

use crate::decision::{Check, MissingPrerequisite, Refusal};

/// One kind of refusal the host makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRefusal {
    /// The refusal's `reason`.
    pub reason: &'static str,
    /// Its `policy_reference`.
    pub policy: &'static str,
    /// Its `next_lawful_step` (a template for [`ONTOLOGY`], which names the recipe).
    pub next_lawful_step: &'static str,
}

impl HostRefusal {
    /// The refusal with these `checks` and `missing` prerequisites.
    pub fn refusal(&self, checks: Vec<Check>, missing: Vec<MissingPrerequisite>) -> Refusal {
        Refusal {
            reason: self.reason.into(),
            checks,
            missing,
            next_lawful_step: self.next_lawful_step.into(),
            policy_reference: self.policy.into(),
        }
    }
}

/// A guest trapped, ran out of fuel or memory, overflowed its stack, passed its
/// deadline, returned too much, or could not be loaded.
pub const GUEST_FAULT: HostRefusal = HostRefusal {
    reason: "indeterminate",
    policy: "ANDON-FAULT-CONTAINMENT",
    next_lawful_step: "escalate to a human owner; the component must be fixed and re-published before this incident is decided",
};

/// No route of the loaded bundle matches the incident kind.
pub const NO_STANDARD_WORK: HostRefusal = HostRefusal {
    reason: "no_standard_work",
    policy: "ANDON-NO-IMPROVISATION",
    next_lawful_step: "escalate to a human owner and propose a standard recipe for this incident class; do not improvise",
};

/// The evidence does not satisfy the recipe's evidence schema (no guest ran). The
/// next lawful step names the recipe: see [`ontology_next_step`].
pub const ONTOLOGY: HostRefusal = HostRefusal {
    reason: "evidence_schema_violation",
    policy: "ANDON-ONTOLOGY-GATE",
    next_lawful_step: "correct the listed evidence fields to match the evidence schema of recipe `{recipe}` and resubmit; no guest ran",
};

/// The governed service's queue was full.
pub const OVERLOADED: HostRefusal = HostRefusal {
    reason: "overloaded",
    policy: "ANDON-GOVERNANCE-CAPACITY",
    next_lawful_step: "submit the same evidence again once the queue drains (see the andon_queue_depth metric); for a critical incident, escalate to the on-call owner now",
};

/// The governed service stopped before a queued submission was evaluated.
pub const SHUTTING_DOWN: HostRefusal = HostRefusal {
    reason: "shutting_down",
    policy: "ANDON-GOVERNANCE-CAPACITY",
    next_lawful_step: "submit the same evidence again to a running Andon host; nothing was evaluated",
};

/// Every refusal the host makes, for docs and tests.
pub const CATALOGUE: [HostRefusal; 5] = [GUEST_FAULT, NO_STANDARD_WORK, ONTOLOGY, OVERLOADED, SHUTTING_DOWN];

/// The ontology refusal's next lawful step for `recipe`.
pub fn ontology_next_step(recipe: &str) -> String {
    ONTOLOGY.next_lawful_step.replace("{recipe}", recipe)
}
