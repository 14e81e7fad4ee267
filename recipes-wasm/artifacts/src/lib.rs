//! The shipped Andon gates and recipes, built from source by this crate's build script
//! into WebAssembly components (`wasm32-unknown-unknown` + `wit-component`).
//!
//! Nothing here is a committed binary: every byte in [`SHIPPED`] was compiled from
//! `recipes-wasm/gates/*` and `recipes-wasm/recipes/*` in this build.
//!
//! # Example
//!
//! ```
//! let gate = andon_recipes::shipped("insurance-active").unwrap();
//! assert_eq!(gate.role, andon_recipes::Role::Gate);
//! assert_eq!(&gate.bytes[..4], b"\0asm");
//! ```

/// Whether a component is a policy gate or a remediation recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Exports `andon:policy/policy-gate`.
    Gate,
    /// Exports `andon:policy/remediation-recipe`.
    Recipe,
}

/// One shipped component.
#[derive(Debug, Clone, Copy)]
pub struct ShippedComponent {
    /// Component id, e.g. `insurance-active` (the directory name).
    pub id: &'static str,
    /// The guest crate's package name.
    pub package: &'static str,
    /// Gate or recipe.
    pub role: Role,
    /// Where the build wrote the component (inside this build's `OUT_DIR`).
    pub path: &'static str,
    /// The component bytes.
    pub bytes: &'static [u8],
}

/// A test guest (hostile or otherwise), not shipped.
#[derive(Debug, Clone, Copy)]
pub struct TestGuest {
    /// Guest id (directory name under `tests/guests/`).
    pub id: &'static str,
    /// Path of the built component.
    pub path: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/components.rs"));

/// Looks up a shipped component by id.
pub fn shipped(id: &str) -> Option<&'static ShippedComponent> {
    SHIPPED.iter().find(|c| c.id == id)
}

/// Looks up a test guest by id.
pub fn test_guest(id: &str) -> Option<&'static TestGuest> {
    TEST_GUESTS.iter().find(|g| g.id == id)
}
