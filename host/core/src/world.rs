//! The two Andon worlds and the names a component's exports must carry.

use serde::Serialize;

/// The WIT package name and version of the contract this host speaks.
pub const WIT_PACKAGE: &str = "andon:policy@0.1.0";
/// Export name of the gate interface.
pub const GATE_EXPORT: &str = "andon:policy/policy-gate@0.1.0";
/// Export name of the recipe interface.
pub const RECIPE_EXPORT: &str = "andon:policy/remediation-recipe@0.1.0";

/// Which Andon world a component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    /// `andon:policy/gate@0.1.0`.
    Gate,
    /// `andon:policy/recipe@0.1.0`.
    Recipe,
}

impl World {
    /// Fully qualified world name.
    pub fn qualified(self) -> &'static str {
        match self {
            World::Gate => "andon:policy/gate@0.1.0",
            World::Recipe => "andon:policy/recipe@0.1.0",
        }
    }

    /// `gate` or `recipe`.
    pub fn as_str(self) -> &'static str {
        match self {
            World::Gate => "gate",
            World::Recipe => "recipe",
        }
    }
}
