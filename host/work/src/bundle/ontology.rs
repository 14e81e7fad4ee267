//! The ontology gate: evidence is validated against the recipe's JSON Schema before
//! any guest runs. A failure is a refusal listing every failing field.

use serde_json::Value;

use andon_core::decision::{Check, MissingPrerequisite, Refusal};

/// Policy reference of ontology-gate refusals (see [`andon_core::refusal`]).
pub const ONTOLOGY_POLICY: &str = andon_core::refusal::ONTOLOGY.policy;
/// Refusal reason of ontology-gate refusals.
pub const ONTOLOGY_REASON: &str = andon_core::refusal::ONTOLOGY.reason;

/// A compiled evidence schema.
pub struct EvidenceSchema {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for EvidenceSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceSchema").finish_non_exhaustive()
    }
}

impl EvidenceSchema {
    /// Compiles a JSON Schema. Remote references are not resolved (the build has no
    /// network features), so a schema cannot reach outside the bundle.
    ///
    /// # Errors
    /// The validator's message when the schema is invalid.
    pub fn compile(schema: &Value) -> Result<EvidenceSchema, String> {
        jsonschema::validator_for(schema).map(|validator| EvidenceSchema { validator }).map_err(|e| e.to_string())
    }

    /// Validates the `evidence` object: `None` when valid, otherwise the refusal.
    pub fn check(&self, recipe: &str, evidence: &Value) -> Option<Refusal> {
        let mut checks = Vec::new();
        let mut missing = Vec::new();
        for error in self.validator.iter_errors(evidence) {
            let pointer = error.instance_path().to_string();
            let field = if pointer.is_empty() { "/".to_string() } else { pointer };
            let message = error.to_string();
            if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind() {
                let name = property.as_str().map(str::to_string).unwrap_or_else(|| property.to_string());
                missing.push(MissingPrerequisite {
                    name: format!("evidence{field}{}{name}", if field.ends_with('/') { "" } else { "/" }),
                    status: "not_found".into(),
                });
            }
            checks.push(Check { name: format!("schema:evidence{field}"), passed: false, detail: message });
        }
        if checks.is_empty() {
            return None;
        }
        checks.sort_by(|a, b| a.name.cmp(&b.name).then(a.detail.cmp(&b.detail)));
        missing.sort_by(|a, b| a.name.cmp(&b.name));
        let mut refusal = andon_core::refusal::ONTOLOGY.refusal(checks, missing);
        refusal.next_lawful_step = andon_core::refusal::ontology_next_step(recipe);
        Some(refusal)
    }
}
