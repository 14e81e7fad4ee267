//! The bundle manifest (`manifest.json`), parsed strictly and validated.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::archive::validate_relative_path;
use super::{BundleError, Result};
use andon_core::Limits;
use andon_core::component::WIT_PACKAGE;

/// Format tag of manifests this host reads.
pub const MANIFEST_FORMAT: &str = "andon.bundle/1";
/// Name of the manifest file inside a bundle.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Name of the signature file inside a bundle.
pub const SIGNATURE_FILE: &str = "signature.json";

/// Role of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A policy gate.
    Gate,
    /// A remediation recipe.
    Recipe,
}

impl Role {
    /// The world a component of this role must implement.
    pub fn world(self) -> andon_core::World {
        match self {
            Role::Gate => andon_core::World::Gate,
            Role::Recipe => andon_core::World::Recipe,
        }
    }
}

/// One component of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentEntry {
    /// Component id, e.g. `insurance-active`.
    pub id: String,
    /// Gate or recipe.
    pub role: Role,
    /// Version of this component (semantic version).
    pub version: semver::Version,
    /// Relative path of the `.wasm` inside the bundle.
    pub file: String,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// Resource limits of every evaluation.
    pub limits: Limits,
    /// Policy references this component enforces.
    pub policies: Vec<String>,
}

/// A gate on a route, with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRef {
    /// Component id of the gate.
    pub component: String,
    /// Settings handed to the gate (a JSON object).
    #[serde(default = "empty_object")]
    pub settings: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// Routing of one incident kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The incident kind (recognition pattern), e.g. `config_hash_mismatch`.
    pub kind: String,
    /// Human description of the pattern.
    #[serde(default)]
    pub description: String,
    /// Gates, in the order they run.
    pub gates: Vec<GateRef>,
    /// The recipe.
    pub recipe: String,
    /// Settings handed to the recipe (a JSON object).
    #[serde(default = "empty_object")]
    pub settings: Value,
}

/// A file with its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Relative path inside the bundle.
    pub file: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// What a recipe needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeSpec {
    /// Prerequisites (names the gates check), e.g. `insurance_cert`.
    pub prerequisites: Vec<String>,
    /// JSON Schema of the `evidence` object the recipe accepts.
    pub evidence_schema: FileRef,
}

/// A golden case: evidence → expected decision, for one component or one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenEntry {
    /// Case name.
    pub name: String,
    /// Relative path of the case file.
    pub file: String,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// The component it exercises (component cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The incident kind whose whole route it exercises (route cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `andon.bundle/1`.
    pub format: String,
    /// Bundle name, e.g. `tai-standard-work`.
    pub name: String,
    /// Bundle version.
    pub version: semver::Version,
    /// Key id of the publisher's Ed25519 key.
    pub publisher_key_id: String,
    /// The WIT package the components were built for.
    pub wit_package: String,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// Components.
    pub components: Vec<ComponentEntry>,
    /// Routing from incident kinds to gates and one recipe.
    pub routes: Vec<Route>,
    /// Per recipe: prerequisites and evidence schema.
    pub recipes: BTreeMap<String, RecipeSpec>,
    /// Golden cases.
    pub golden: Vec<GoldenEntry>,
}

fn bad(message: impl Into<String>) -> BundleError {
    BundleError::Manifest(message.into())
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.')
}

impl Manifest {
    /// Parses manifest bytes strictly (no duplicate keys, unknown fields or wrong
    /// types; errors name the field) and validates the whole.
    ///
    /// # Errors
    /// [`BundleError::Manifest`] naming the problem.
    pub fn parse(bytes: &[u8]) -> Result<Manifest> {
        let value =
            andon_core::evidence::parse_strict("manifest.json", bytes, 4 << 20).map_err(|e| bad(e.to_string()))?;
        let manifest: Manifest = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            bad(format!("at `{path}`: {}", e.inner()))
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks everything the types cannot: format, names, hashes, paths, unique ids,
    /// routing to existing components of the right role, schemas and golden cases.
    ///
    /// # Errors
    /// [`BundleError::Manifest`] naming the first problem.
    pub fn validate(&self) -> Result<()> {
        if self.format != MANIFEST_FORMAT {
            return Err(bad(format!("format is `{}`, expected `{MANIFEST_FORMAT}`", self.format)));
        }
        if !is_name(&self.name) {
            return Err(bad(format!("bundle name `{}` must be lowercase letters, digits, `-`, `_`, `.`", self.name)));
        }
        if self.wit_package != WIT_PACKAGE {
            return Err(bad(format!(
                "wit_package `{}` is not supported by this host (it speaks `{WIT_PACKAGE}`)",
                self.wit_package
            )));
        }
        let mut ids = BTreeMap::new();
        let mut files = BTreeSet::new();
        let mut check_file = |file: &str, sha256: &str, what: &str| -> Result<()> {
            let normalized = validate_relative_path(file).map_err(|e| bad(format!("{what}: {e}")))?;
            if normalized != file {
                return Err(bad(format!("{what}: path `{file}` is not in canonical form (`{normalized}`)")));
            }
            if !is_hex64(sha256) {
                return Err(bad(format!("{what}: sha256 `{sha256}` is not 64 lowercase hex digits")));
            }
            if [MANIFEST_FILE, super::manifest::SIGNATURE_FILE].contains(&file) || !files.insert(file.to_string()) {
                return Err(bad(format!("{what}: file `{file}` is listed twice or reserved")));
            }
            Ok(())
        };
        for c in &self.components {
            if !is_name(&c.id) {
                return Err(bad(format!("component id `{}` is not a valid name", c.id)));
            }
            if ids.insert(c.id.clone(), c.role).is_some() {
                return Err(bad(format!("duplicate component id `{}`", c.id)));
            }
            check_file(&c.file, &c.sha256, &format!("component `{}`", c.id))?;
            let l = &c.limits;
            if l.fuel == 0 || l.memory_bytes == 0 || l.deadline_ms == 0 || l.max_output_bytes == 0 {
                return Err(bad(format!("component `{}`: every limit must be greater than zero", c.id)));
            }
        }
        let role_of = |id: &str, expected: Role, ctx: &str| -> Result<()> {
            match ids.get(id) {
                None => Err(bad(format!("{ctx} names component `{id}`, which is not in this bundle"))),
                Some(role) if *role != expected => {
                    Err(bad(format!("{ctx} names `{id}`, which is a {role:?}, not a {expected:?}").to_lowercase()))
                }
                Some(_) => Ok(()),
            }
        };
        let mut kinds = BTreeSet::new();
        for route in &self.routes {
            if route.kind.is_empty() || !kinds.insert(route.kind.clone()) {
                return Err(bad(format!("route kind `{}` is empty or listed twice", route.kind)));
            }
            let ctx = format!("route `{}`", route.kind);
            for gate in &route.gates {
                role_of(&gate.component, Role::Gate, &ctx)?;
                if !gate.settings.is_object() {
                    return Err(bad(format!("{ctx}: settings of gate `{}` must be a JSON object", gate.component)));
                }
            }
            role_of(&route.recipe, Role::Recipe, &ctx)?;
            if !route.settings.is_object() {
                return Err(bad(format!("{ctx}: recipe settings must be a JSON object")));
            }
        }
        for (recipe, spec) in &self.recipes {
            role_of(recipe, Role::Recipe, "recipes")?;
            check_file(&spec.evidence_schema.file, &spec.evidence_schema.sha256, &format!("schema of `{recipe}`"))?;
        }
        for (id, role) in &ids {
            if *role == Role::Recipe && !self.recipes.contains_key(id) {
                return Err(bad(format!(
                    "recipe `{id}` has no entry in `recipes` (prerequisites and evidence schema)"
                )));
            }
        }
        let mut golden_names = BTreeSet::new();
        for case in &self.golden {
            check_file(&case.file, &case.sha256, &format!("golden case `{}`", case.name))?;
            if !golden_names.insert((case.component.clone(), case.route.clone(), case.name.clone())) {
                return Err(bad(format!("golden case `{}` is listed twice", case.name)));
            }
            match (&case.component, &case.route) {
                (Some(id), None) if ids.contains_key(id) => {}
                (Some(id), None) => {
                    return Err(bad(format!(
                        "golden case `{}` names component `{id}`, which is not in this bundle",
                        case.name
                    )));
                }
                (None, Some(kind)) if kinds.contains(kind) => {}
                (None, Some(kind)) => {
                    return Err(bad(format!("golden case `{}` names route `{kind}`, which is not routed", case.name)));
                }
                _ => {
                    return Err(bad(format!(
                        "golden case `{}` must name exactly one of component or route",
                        case.name
                    )));
                }
            }
        }
        for (id, role) in &ids {
            if *role == Role::Recipe && !self.golden.iter().any(|g| g.component.as_deref() == Some(id)) {
                return Err(bad(format!("recipe `{id}` has no golden case")));
            }
        }
        Ok(())
    }

    /// Every file the manifest lists, with its hash and a description.
    pub fn listed_files(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for c in &self.components {
            out.push((c.file.clone(), c.sha256.clone(), format!("component {}", c.id)));
        }
        for (recipe, spec) in &self.recipes {
            out.push((
                spec.evidence_schema.file.clone(),
                spec.evidence_schema.sha256.clone(),
                format!("evidence schema of {recipe}"),
            ));
        }
        for g in &self.golden {
            out.push((g.file.clone(), g.sha256.clone(), format!("golden case {}", g.name)));
        }
        out
    }

    /// The route of an incident kind.
    pub fn route(&self, kind: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.kind == kind)
    }

    /// A component entry by id.
    pub fn component(&self, id: &str) -> Option<&ComponentEntry> {
        self.components.iter().find(|c| c.id == id)
    }

    /// RFC 8785 bytes of the manifest: what the publisher signs.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        andon_core::evidence::canonical_bytes_of(self).expect("manifest serializes")
    }

    /// SHA-256 of [`Manifest::canonical_bytes`]: the bundle digest in receipts.
    pub fn digest(&self) -> String {
        andon_core::evidence::sha256_hex(&self.canonical_bytes())
    }
}
