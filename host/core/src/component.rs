//! Loading components: hash, validate against the Andon worlds, refuse imports,
//! compile once and pre-instantiate.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Linker};

use crate::bindings::{gate::GatePre, recipe::RecipePre};
use crate::engine::AndonEngine;
use crate::errors::{Error, Result};
use crate::evidence::sha256_hex;
use crate::state::StoreState;
pub use crate::world::{GATE_EXPORT, RECIPE_EXPORT, WIT_PACKAGE, World};

mod signature;

/// What `inspect` shows about a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentInfo {
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The Andon world it implements, if any.
    pub world: Option<String>,
    /// Top-level imports that carry anything but types (functions, resources,
    /// modules, instances with functions). Any entry here is refused at load.
    pub imports: Vec<String>,
    /// Top-level imports of instances that export only types (such as the Andon
    /// `types` interface): they grant no capability.
    pub type_imports: Vec<String>,
    /// Top-level export names.
    pub exports: Vec<String>,
}

/// The import names the Andon worlds allow: only type-only interfaces of the
/// `andon:policy` package itself, derived from the embedded WIT.
pub fn allowed_imports() -> &'static BTreeSet<String> {
    static ALLOWED: OnceLock<BTreeSet<String>> = OnceLock::new();
    ALLOWED.get_or_init(|| {
        let signature::Contract { resolve, package } = signature::contract();
        let mut allowed = BTreeSet::new();
        for (_, world_id) in &resolve.packages[*package].worlds {
            let world = &resolve.worlds[*world_id];
            for (key, item) in &world.imports {
                if let wit_parser::WorldItem::Interface { id, .. } = item {
                    // Only interfaces without functions: a function import would be a
                    // channel to host state.
                    if resolve.interfaces[*id].functions.is_empty() {
                        allowed.insert(resolve.name_world_key(key));
                    }
                }
            }
        }
        allowed
    })
}

/// Cheap header checks run before compiling: wasm magic, and a component rather
/// than a core module. Shared with the compiled-code cache, which must refuse the
/// same bytes on a hit as [`LoadedComponent::load`] does.
pub(crate) fn precheck(bytes: &[u8]) -> Result<()> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(Error::InvalidComponent {
            reason: "not a WebAssembly binary (the `\\0asm` magic header is missing)".into(),
        });
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(Error::InvalidComponent {
            reason: "this is a core WebAssembly module, not a component; turn it into a component with wit-component"
                .into(),
        });
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(Error::InvalidComponent { reason: "unknown WebAssembly binary version or layer".into() });
    }
    Ok(())
}

fn compile(engine: &AndonEngine, bytes: &[u8]) -> Result<Component> {
    precheck(bytes)?;
    Component::new(engine.wasmtime(), bytes).map_err(|e| Error::InvalidComponent { reason: format!("{e:#}") })
}

fn describe(engine: &AndonEngine, component: &Component, bytes: &[u8]) -> ComponentInfo {
    let ty = component.component_type();
    let mut imports = Vec::new();
    let mut type_imports = Vec::new();
    for (name, item) in ty.imports(engine.wasmtime()) {
        let types_only = match &item.ty {
            ComponentItem::ComponentInstance(instance) => {
                instance.exports(engine.wasmtime()).all(|(_, export)| matches!(export.ty, ComponentItem::Type(_)))
            }
            ComponentItem::Type(_) => true,
            _ => false,
        };
        if types_only {
            type_imports.push(name.to_string());
        } else {
            imports.push(name.to_string());
        }
    }
    let exports: Vec<String> = ty.exports(engine.wasmtime()).map(|(name, _)| name.to_string()).collect();
    let world = world_of(&exports).map(|w| w.qualified().to_string());
    ComponentInfo { sha256: sha256_hex(bytes), size: bytes.len() as u64, world, imports, type_imports, exports }
}

fn world_of(exports: &[String]) -> Option<World> {
    if exports.iter().any(|e| e == GATE_EXPORT) {
        Some(World::Gate)
    } else if exports.iter().any(|e| e == RECIPE_EXPORT) {
        Some(World::Recipe)
    } else {
        None
    }
}

/// Compiles `bytes` and describes them without refusing anything but invalid bytes.
///
/// # Errors
/// [`Error::InvalidComponent`] when the bytes are not a component.
pub fn inspect(engine: &AndonEngine, bytes: &[u8]) -> Result<ComponentInfo> {
    let component = compile(engine, bytes)?;
    Ok(describe(engine, &component, bytes))
}

#[derive(Clone)]
pub(crate) enum Pre {
    Gate(GatePre<StoreState>),
    Recipe(RecipePre<StoreState>),
}

/// A validated, compiled and pre-instantiated component, ready to evaluate many
/// times, each time in a fresh store and instance.
#[derive(Clone)]
pub struct LoadedComponent {
    info: Arc<ComponentInfo>,
    world: World,
    bytes: Arc<[u8]>,
    pub(crate) pre: Pre,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("sha256", &self.info.sha256)
            .field("world", &self.world)
            .finish_non_exhaustive()
    }
}

impl LoadedComponent {
    /// Hashes, validates, compiles and pre-instantiates `bytes`.
    ///
    /// # Errors
    /// - [`Error::InvalidComponent`]: not a component, malformed, does not export
    ///   an Andon world, or exports one of its names with another type (the export,
    ///   the function and the first difference are named);
    /// - [`Error::RefusedImport`]: imports anything outside the Andon worlds (named).
    pub fn load(engine: &AndonEngine, bytes: &[u8]) -> Result<LoadedComponent> {
        let component = compile(engine, bytes)?;
        LoadedComponent::from_compiled(engine, component, bytes)
    }

    /// Like [`LoadedComponent::load`] but from an already compiled component (for
    /// the compiled-code cache). `bytes` must be the bytes it was compiled from.
    ///
    /// # Errors
    /// As [`LoadedComponent::load`].
    pub fn from_compiled(engine: &AndonEngine, component: Component, bytes: &[u8]) -> Result<LoadedComponent> {
        let info = describe(engine, &component, bytes);
        let allowed = allowed_imports();
        if let Some(import) = info.imports.first() {
            return Err(Error::RefusedImport { import: import.clone() });
        }
        if let Some(import) = info.type_imports.iter().find(|name| !allowed.contains(*name)) {
            return Err(Error::RefusedImport { import: import.clone() });
        }
        let world = world_of(&info.exports).ok_or_else(|| Error::InvalidComponent {
            reason: format!(
                "it exports neither `{GATE_EXPORT}` nor `{RECIPE_EXPORT}` (exports: [{}])",
                info.exports.join(", ")
            ),
        })?;
        // The bindings below look exports up by name only; wasmtime would check
        // their types at the first instantiation, as a guest fault.
        signature::check_exports(engine, &component)?;
        let linker: Linker<StoreState> = Linker::new(engine.wasmtime());
        let instance_pre: InstancePre<StoreState> =
            linker.instantiate_pre(&component).map_err(|e| Error::InvalidComponent { reason: format!("{e:#}") })?;
        let pre = match world {
            World::Gate => {
                Pre::Gate(GatePre::new(instance_pre).map_err(|e| Error::InvalidComponent { reason: format!("{e:#}") })?)
            }
            World::Recipe => Pre::Recipe(
                RecipePre::new(instance_pre).map_err(|e| Error::InvalidComponent { reason: format!("{e:#}") })?,
            ),
        };
        Ok(LoadedComponent { info: Arc::new(info), world, bytes: bytes.into(), pre })
    }

    /// SHA-256 of the component bytes (lowercase hex).
    pub fn sha256(&self) -> &str {
        &self.info.sha256
    }

    /// The world it implements.
    pub fn world(&self) -> World {
        self.world
    }

    /// What `inspect` shows.
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }

    /// The exact bytes that were loaded.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Fails with [`Error::WrongWorld`] unless the component implements `expected`.
    ///
    /// # Errors
    /// [`Error::WrongWorld`].
    pub fn expect_world(&self, expected: World) -> Result<()> {
        if self.world == expected {
            Ok(())
        } else {
            Err(Error::WrongWorld { expected: expected.as_str(), actual: self.world.as_str() })
        }
    }
}
