//! The Andon guest SDK: what a recipe author depends on to write a policy gate or a
//! remediation recipe in plain Rust and build it into a WebAssembly component.
//!
//! The SDK owns the `wit-bindgen` bindings of the `andon:policy@0.1.0` WIT package,
//! so a guest is one trait impl plus one export line. Verdicts are values: a gate
//! passes with the checks it analyzed or returns a [`Refusal`]; a recipe returns a
//! [`Plan`] or a [`Refusal`]. Only genuine faults trap.
//!
//! Guests get no clock, no randomness and no WASI: the worlds import nothing, and the
//! host refuses any component that imports anything. Evidence arrives as canonical
//! JSON text beside a typed [`Envelope`]; [`Request::evidence`] reads it with serde.
//!
//! # Example
//!
//! A gate that requires an active insurance certificate:
//!
//! ```
//! use andon_guest_sdk::gate::{Gate, GateVerdict, Request};
//! use andon_guest_sdk::{Check, Refusal};
//!
//! #[derive(serde::Deserialize)]
//! struct Evidence {
//!     insurance_cert: Option<String>,
//! }
//!
//! struct InsuranceActive;
//!
//! impl Gate for InsuranceActive {
//!     fn check(request: Request) -> GateVerdict {
//!         let evidence: Evidence = match request.evidence() {
//!             Ok(evidence) => evidence,
//!             Err(refusal) => return GateVerdict::Refuse(refusal),
//!         };
//!         match evidence.insurance_cert.as_deref() {
//!             Some("active") => GateVerdict::Pass(vec![Check::pass(
//!                 "insurance_cert_active",
//!                 "certificate status is active",
//!             )]),
//!             other => GateVerdict::Refuse(
//!                 Refusal::new("insurance_not_active")
//!                     .check(Check::fail("insurance_cert_active", format!("status {other:?}")))
//!                     .missing("insurance_cert", "not_found")
//!                     .next_lawful_step("obtain a current insurance certificate")
//!                     .policy("POL-OPS-INS-001"),
//!             ),
//!         }
//!     }
//! }
//!
//! andon_guest_sdk::export_gate!(InsuranceActive);
//!
//! # fn main() {
//! let request = Request::for_test("INC-1", "field_work", andon_guest_sdk::Severity::High,
//!     r#"{"insurance_cert":"active"}"#);
//! assert!(matches!(InsuranceActive::check(request), GateVerdict::Pass(_)));
//! # }
//! ```

// Lets the generated code name this crate the same way from inside and outside.
extern crate self as andon_guest_sdk;

#[doc(hidden)]
pub mod bindings {
    //! Generated bindings; use the re-exports in [`crate::gate`] and [`crate::recipe`].
    #![allow(missing_docs)]

    /// Bindings of the `gate` world.
    pub mod gate {
        wit_bindgen::generate!({
            world: "andon:policy/gate@0.1.0",
            path: "../wit",
            pub_export_macro: true,
            export_macro_name: "export_gate_bindings",
            default_bindings_module: "andon_guest_sdk::bindings::gate",
            additional_derives: [PartialEq],
            runtime_path: "andon_guest_sdk::__rt",
        });
    }

    /// Bindings of the `recipe` world; types are shared with the gate world.
    pub mod recipe {
        wit_bindgen::generate!({
            world: "andon:policy/recipe@0.1.0",
            path: "../wit",
            pub_export_macro: true,
            export_macro_name: "export_recipe_bindings",
            default_bindings_module: "andon_guest_sdk::bindings::recipe",
            additional_derives: [PartialEq],
            runtime_path: "andon_guest_sdk::__rt",
            with: {
                "andon:policy/types@0.1.0": crate::bindings::gate::andon::policy::types,
            },
        });
    }
}

#[doc(hidden)]
pub use wit_bindgen::rt as __rt;

#[cfg(feature = "testing")]
pub mod testing;

pub use bindings::gate::andon::policy::types::{
    Check, Envelope, GateVerdict, MissingPrerequisite, Param, Plan, RecipeVerdict, Refusal, Request, Severity, Step,
};

/// Everything a gate author needs.
pub mod gate {
    pub use crate::bindings::gate::exports::andon::policy::policy_gate::Guest as Gate;
    pub use crate::{Check, Envelope, GateVerdict, Refusal, Request, Severity};
}

/// Everything a recipe author needs.
pub mod recipe {
    pub use crate::bindings::recipe::exports::andon::policy::remediation_recipe::Guest as Recipe;
    pub use crate::{Check, Envelope, Param, Plan, RecipeVerdict, Refusal, Request, Severity, Step};
}

/// Exports a type implementing [`gate::Gate`] as the component's `policy-gate`.
///
/// On non-wasm targets (native unit tests) this expands to nothing.
#[macro_export]
macro_rules! export_gate {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::gate::export_gate_bindings!($ty);
    };
}

/// Exports a type implementing [`recipe::Recipe`] as the component's `remediation-recipe`.
///
/// On non-wasm targets (native unit tests) this expands to nothing.
#[macro_export]
macro_rules! export_recipe {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::recipe::export_recipe_bindings!($ty);
    };
}

/// Policy reference used when evidence cannot be read at all.
pub const EVIDENCE_CONTRACT_POLICY: &str = "ANDON-EVIDENCE-CONTRACT";

impl Severity {
    /// Rank in the doctrine's order: low 0, medium 1, high 2, critical 3.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        }
    }

    /// The lowercase name used in evidence documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parse a lowercase or uppercase severity name.
    pub fn parse(name: &str) -> Option<Severity> {
        match name.to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl Request {
    /// Reads the evidence document into `T`.
    ///
    /// # Errors
    /// A [`Refusal`] with reason `evidence_unreadable` naming the serde error, ready to
    /// be returned as the verdict: a guest never guesses about evidence it cannot read.
    pub fn evidence<T: serde::de::DeserializeOwned>(&self) -> Result<T, Refusal> {
        serde_json::from_str(&self.evidence).map_err(|err| {
            Refusal::new("evidence_unreadable")
                .check(Check::fail("evidence_shape", err.to_string()))
                .next_lawful_step("resubmit the incident with evidence matching the recipe's schema")
                .policy(EVIDENCE_CONTRACT_POLICY)
        })
    }

    /// Reads the route settings from the bundle manifest into `T`.
    ///
    /// # Errors
    /// A [`Refusal`] with reason `settings_unreadable`.
    pub fn settings<T: serde::de::DeserializeOwned>(&self) -> Result<T, Refusal> {
        serde_json::from_str(&self.settings).map_err(|err| {
            Refusal::new("settings_unreadable")
                .check(Check::fail("settings_shape", err.to_string()))
                .next_lawful_step("fix the route settings in the bundle manifest")
                .policy(EVIDENCE_CONTRACT_POLICY)
        })
    }

    /// Builds a request for native unit tests (settings `{}`).
    pub fn for_test(incident_id: &str, kind: &str, severity: Severity, evidence: &str) -> Request {
        Request {
            envelope: Envelope { incident_id: incident_id.to_string(), kind: kind.to_string(), severity },
            evidence: evidence.to_string(),
            settings: String::from("{}"),
        }
    }

    /// Replaces the settings JSON (builder style, for tests).
    pub fn with_settings(mut self, settings: &str) -> Request {
        self.settings = settings.to_string();
        self
    }
}

impl Check {
    /// A passed check.
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), passed: true, detail: detail.into() }
    }

    /// A failed check.
    pub fn fail(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), passed: false, detail: detail.into() }
    }

    /// A check whose outcome is `passed`.
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Check {
        Check { name: name.into(), passed, detail: detail.into() }
    }
}

impl Refusal {
    /// Starts a refusal with `reason`; add checks, missing prerequisites, the next
    /// lawful step and the policy reference with the builder methods.
    pub fn new(reason: impl Into<String>) -> Refusal {
        Refusal {
            reason: reason.into(),
            checks: Vec::new(),
            missing: Vec::new(),
            next_lawful_step: String::new(),
            policy_reference: String::new(),
        }
    }

    /// Adds an analyzed check.
    pub fn check(mut self, check: Check) -> Refusal {
        self.checks.push(check);
        self
    }

    /// Adds several analyzed checks.
    pub fn checks(mut self, checks: impl IntoIterator<Item = Check>) -> Refusal {
        self.checks.extend(checks);
        self
    }

    /// Adds a missing prerequisite, e.g. `("insurance_cert", "not_found")`.
    pub fn missing(mut self, name: impl Into<String>, status: impl Into<String>) -> Refusal {
        self.missing.push(MissingPrerequisite { name: name.into(), status: status.into() });
        self
    }

    /// Sets the next lawful step.
    pub fn next_lawful_step(mut self, step: impl Into<String>) -> Refusal {
        self.next_lawful_step = step.into();
        self
    }

    /// Sets the policy reference.
    pub fn policy(mut self, reference: impl Into<String>) -> Refusal {
        self.policy_reference = reference.into();
        self
    }
}

impl Plan {
    /// Starts an empty plan for `recipe_id`.
    pub fn new(recipe_id: impl Into<String>) -> Plan {
        Plan {
            recipe_id: recipe_id.into(),
            steps: Vec::new(),
            expected_outcomes: Vec::new(),
            quality_checks: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Appends a step with `(name, value)` parameters.
    pub fn step<'a>(
        mut self,
        action: impl Into<String>,
        parameters: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Plan {
        self.steps.push(Step {
            action: action.into(),
            parameters: parameters.into_iter().map(|(name, value)| Param { name: name.to_string(), value }).collect(),
        });
        self
    }

    /// Appends an expected outcome.
    pub fn expect(mut self, outcome: impl Into<String>) -> Plan {
        self.expected_outcomes.push(outcome.into());
        self
    }

    /// Appends a quality check that proves the outcome.
    pub fn quality_check(mut self, check: impl Into<String>) -> Plan {
        self.quality_checks.push(check.into());
        self
    }

    /// Records an analyzed check.
    pub fn check(mut self, check: Check) -> Plan {
        self.checks.push(check);
        self
    }

    /// The actions of the steps, in order (handy in tests).
    pub fn actions(&self) -> Vec<&str> {
        self.steps.iter().map(|step| step.action.as_str()).collect()
    }
}

impl Step {
    /// The value of parameter `name`, if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|p| p.name == name).map(|p| p.value.as_str())
    }
}

/// Formats an amount with thousands separators, e.g. `1,200,000` (deterministic, no locale).
pub fn group_thousands(amount: u64) -> String {
    let digits = format!("{amount}");
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
