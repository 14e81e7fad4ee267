//! Type-checking a component's exports against the Andon worlds at load.
//!
//! The bindings' `GatePre::new` / `RecipePre::new` only look the exports up by name;
//! wasmtime checks their types when an instance is created, that is, at the first
//! evaluation, where a mismatch would surface as a guest fault. So every export the
//! component carries under a world's name is compared here, structurally, with the
//! embedded WIT before the component counts as loaded.
//!
//! The comparison is as strict as wasmtime's typed calls: same number and types of
//! parameters and results, record fields and variant cases with the same names in
//! the same order, enum and flags names equal. Parameter names are not compared
//! (wasmtime does not either), and an instance may export more than the interface,
//! as component subtyping allows: this host never calls the extra items.

use std::sync::OnceLock;

use wasmtime::component::Component;
use wasmtime::component::types::{self as found, ComponentFunc, ComponentItem};
use wit_parser::{Function, Resolve, Type as WitType, TypeDefKind, WorldItem};

use crate::bindings::WIT_SOURCES;
use crate::engine::AndonEngine;
use crate::errors::{Error, Result};

/// The embedded Andon WIT package, resolved once.
pub(crate) struct Contract {
    pub(crate) resolve: Resolve,
    pub(crate) package: wit_parser::PackageId,
}

/// The parsed and resolved embedded WIT.
pub(crate) fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let mut resolve = Resolve::default();
        // The files of one package are parsed as one source group.
        let mut map = wit_parser::SourceMap::new();
        for (name, text) in WIT_SOURCES {
            map.push(std::path::Path::new(name), *text);
        }
        let group = map.parse().expect("the embedded Andon WIT parses");
        let package = resolve.push_group(group).expect("the embedded Andon WIT resolves");
        Contract { resolve, package }
    })
}

/// Refuses, as [`Error::InvalidComponent`], a component that carries an export
/// named by an Andon world whose type differs from the world's (a missing function,
/// a function with other parameters or results, an item of another kind), naming
/// the export, the function and the first difference.
pub(crate) fn check_exports(engine: &AndonEngine, component: &Component) -> Result<()> {
    let Contract { resolve, package } = contract();
    let engine = engine.wasmtime();
    let ty = component.component_type();
    for world_id in resolve.packages[*package].worlds.values() {
        let world = &resolve.worlds[*world_id];
        for (key, item) in &world.exports {
            let name = resolve.name_world_key(key);
            let Some(export) = ty.get_export(engine, &name) else { continue };
            let mismatch = |what: String| Error::InvalidComponent {
                reason: format!(
                    "export `{name}` does not match the world `{}`: {what}",
                    world_qualified(resolve, world)
                ),
            };
            match (item, export.ty) {
                (WorldItem::Interface { id, .. }, ComponentItem::ComponentInstance(instance)) => {
                    let interface = &resolve.interfaces[*id];
                    for (func_name, func) in &interface.functions {
                        match instance.get_export(engine, func_name).map(|e| e.ty) {
                            Some(ComponentItem::ComponentFunc(found)) => {
                                compare_func(resolve, func, &found)
                                    .map_err(|e| mismatch(format!("function `{func_name}` {e}")))?;
                            }
                            Some(other) => {
                                return Err(mismatch(format!("`{func_name}` is {}, not a function", kind(&other))));
                            }
                            None => return Err(mismatch(format!("it has no function `{func_name}`"))),
                        }
                    }
                }
                (WorldItem::Function(func), ComponentItem::ComponentFunc(found)) => {
                    compare_func(resolve, func, &found).map_err(|e| mismatch(format!("the function {e}")))?;
                }
                (WorldItem::Interface { .. }, other) => {
                    return Err(mismatch(format!("it is {}, not an instance", kind(&other))));
                }
                (WorldItem::Function(_), other) => {
                    return Err(mismatch(format!("it is {}, not a function", kind(&other))));
                }
                (WorldItem::Type { .. }, _) => {}
            }
        }
    }
    Ok(())
}

fn world_qualified(resolve: &Resolve, world: &wit_parser::World) -> String {
    match world.package {
        Some(package) => resolve.packages[package].name.interface_id(&world.name),
        None => world.name.clone(),
    }
}

fn kind(item: &ComponentItem) -> &'static str {
    match item {
        ComponentItem::ComponentFunc(_) => "a function",
        ComponentItem::CoreFunc(_) => "a core function",
        ComponentItem::Module(_) => "a core module",
        ComponentItem::Component(_) => "a component",
        ComponentItem::ComponentInstance(_) => "an instance",
        ComponentItem::Type(_) => "a type",
        ComponentItem::Resource(_) => "a resource",
    }
}

/// Compares one function; the error completes "function `check` …".
fn compare_func(resolve: &Resolve, expected: &Function, found: &ComponentFunc) -> Result<(), String> {
    let shape = || format!("is `{}`, the world says `{}`", show_found_func(found), show_wit_func(resolve, expected));
    if found.async_() != expected.kind.is_async() {
        return Err(format!("{}: one is async and the other is not", shape()));
    }
    let params: Vec<_> = found.params().collect();
    if params.len() != expected.params.len() {
        return Err(shape());
    }
    for (param, (_, ty)) in expected.params.iter().zip(&params) {
        compare(resolve, &param.ty, ty).map_err(|e| format!("{}: parameter `{}`: {e}", shape(), param.name))?;
    }
    let results: Vec<_> = found.results().collect();
    match (expected.result.as_ref(), results.as_slice()) {
        (None, []) => Ok(()),
        (Some(expected), [ty]) => compare(resolve, expected, ty).map_err(|e| format!("{}: result: {e}", shape())),
        _ => Err(shape()),
    }
}

/// Compares a value type; the error names the path to the first difference.
fn compare(resolve: &Resolve, expected: &WitType, found: &found::Type) -> Result<(), String> {
    use found::Type as F;
    let differ = || Err(format!("expected `{}`, found `{}`", show_wit(resolve, expected), show_found(found)));
    let id = match expected {
        WitType::Bool => return if matches!(found, F::Bool) { Ok(()) } else { differ() },
        WitType::U8 => return if matches!(found, F::U8) { Ok(()) } else { differ() },
        WitType::U16 => return if matches!(found, F::U16) { Ok(()) } else { differ() },
        WitType::U32 => return if matches!(found, F::U32) { Ok(()) } else { differ() },
        WitType::U64 => return if matches!(found, F::U64) { Ok(()) } else { differ() },
        WitType::S8 => return if matches!(found, F::S8) { Ok(()) } else { differ() },
        WitType::S16 => return if matches!(found, F::S16) { Ok(()) } else { differ() },
        WitType::S32 => return if matches!(found, F::S32) { Ok(()) } else { differ() },
        WitType::S64 => return if matches!(found, F::S64) { Ok(()) } else { differ() },
        WitType::F32 => return if matches!(found, F::Float32) { Ok(()) } else { differ() },
        WitType::F64 => return if matches!(found, F::Float64) { Ok(()) } else { differ() },
        WitType::Char => return if matches!(found, F::Char) { Ok(()) } else { differ() },
        WitType::String => return if matches!(found, F::String) { Ok(()) } else { differ() },
        WitType::ErrorContext => return if matches!(found, F::ErrorContext) { Ok(()) } else { differ() },
        WitType::Id(id) => *id,
    };
    let inner = |expected: &WitType, found: &found::Type, at: String| {
        compare(resolve, expected, found).map_err(|e| format!("{at}: {e}"))
    };
    match (&resolve.types[id].kind, found) {
        (TypeDefKind::Type(alias), _) => compare(resolve, alias, found),
        (TypeDefKind::Record(record), F::Record(r)) => {
            let fields: Vec<_> = r.fields().collect();
            let names_match =
                fields.len() == record.fields.len() && record.fields.iter().zip(&fields).all(|(e, f)| e.name == f.name);
            if !names_match {
                return differ();
            }
            for (e, f) in record.fields.iter().zip(&fields) {
                inner(&e.ty, &f.ty, format!("field `{}`", e.name))?;
            }
            Ok(())
        }
        (TypeDefKind::Variant(variant), F::Variant(v)) => {
            let cases: Vec<_> = v.cases().collect();
            let names_match =
                cases.len() == variant.cases.len() && variant.cases.iter().zip(&cases).all(|(e, f)| e.name == f.name);
            if !names_match {
                return differ();
            }
            for (e, f) in variant.cases.iter().zip(&cases) {
                match (&e.ty, &f.ty) {
                    (None, None) => {}
                    (Some(e_ty), Some(f_ty)) => inner(e_ty, f_ty, format!("case `{}`", e.name))?,
                    _ => return Err(format!("case `{}`: the payloads differ", e.name)),
                }
            }
            Ok(())
        }
        (TypeDefKind::Enum(e), F::Enum(f)) => {
            if e.cases.iter().map(|c| c.name.as_str()).eq(f.names()) {
                Ok(())
            } else {
                differ()
            }
        }
        (TypeDefKind::Flags(e), F::Flags(f)) => {
            if e.flags.iter().map(|c| c.name.as_str()).eq(f.names()) {
                Ok(())
            } else {
                differ()
            }
        }
        (TypeDefKind::List(e), F::List(f)) => inner(e, &f.ty(), "list element".into()),
        (TypeDefKind::Option(e), F::Option(f)) => inner(e, &f.ty(), "option payload".into()),
        (TypeDefKind::Tuple(e), F::Tuple(f)) => {
            let types: Vec<_> = f.types().collect();
            if types.len() != e.types.len() {
                return differ();
            }
            for (i, (e, f)) in e.types.iter().zip(&types).enumerate() {
                inner(e, f, format!("tuple member {i}"))?;
            }
            Ok(())
        }
        (TypeDefKind::Result(e), F::Result(f)) => {
            for (what, e, f) in [("ok", e.ok.as_ref(), f.ok()), ("err", e.err.as_ref(), f.err())] {
                match (e, f) {
                    (None, None) => {}
                    (Some(e), Some(f)) => inner(e, &f, format!("result {what}"))?,
                    _ => return differ(),
                }
            }
            Ok(())
        }
        // Resources, handles, maps, futures and streams are not part of the Andon
        // worlds; a world that grows them needs this function to grow too.
        (
            TypeDefKind::Resource
            | TypeDefKind::Handle(_)
            | TypeDefKind::Map(..)
            | TypeDefKind::FixedLengthList(..)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Unknown,
            _,
        ) => Err(format!("the host cannot check `{}` (not used by the Andon worlds)", show_wit(resolve, expected))),
        _ => differ(),
    }
}

fn show_wit_func(resolve: &Resolve, func: &Function) -> String {
    let params: Vec<String> = func.params.iter().map(|p| format!("{}: {}", p.name, show_wit(resolve, &p.ty))).collect();
    let result = func.result.as_ref().map(|ty| format!(" -> {}", show_wit(resolve, ty))).unwrap_or_default();
    format!("func({}){result}", params.join(", "))
}

fn show_found_func(func: &ComponentFunc) -> String {
    let params: Vec<String> = func.params().map(|(name, ty)| format!("{name}: {}", show_found(&ty))).collect();
    let results: Vec<String> = func.results().map(|ty| show_found(&ty)).collect();
    let result = if results.is_empty() { String::new() } else { format!(" -> {}", results.join(", ")) };
    format!("func({}){result}", params.join(", "))
}

/// A WIT type as written in the WIT: named types by name.
fn show_wit(resolve: &Resolve, ty: &WitType) -> String {
    match ty {
        WitType::Id(id) => {
            let def = &resolve.types[*id];
            if let Some(name) = &def.name {
                return name.clone();
            }
            match &def.kind {
                TypeDefKind::List(e) => format!("list<{}>", show_wit(resolve, e)),
                TypeDefKind::Option(e) => format!("option<{}>", show_wit(resolve, e)),
                TypeDefKind::Type(e) => show_wit(resolve, e),
                TypeDefKind::Tuple(t) => {
                    let types: Vec<String> = t.types.iter().map(|t| show_wit(resolve, t)).collect();
                    format!("tuple<{}>", types.join(", "))
                }
                TypeDefKind::Result(r) => {
                    let side = |t: Option<&WitType>| t.map_or("_".to_string(), |t| show_wit(resolve, t));
                    format!("result<{}, {}>", side(r.ok.as_ref()), side(r.err.as_ref()))
                }
                other => other.as_str().to_string(),
            }
        }
        primitive => primitive_name(primitive).to_string(),
    }
}

fn primitive_name(ty: &WitType) -> &'static str {
    match ty {
        WitType::Bool => "bool",
        WitType::U8 => "u8",
        WitType::U16 => "u16",
        WitType::U32 => "u32",
        WitType::U64 => "u64",
        WitType::S8 => "s8",
        WitType::S16 => "s16",
        WitType::S32 => "s32",
        WitType::S64 => "s64",
        WitType::F32 => "f32",
        WitType::F64 => "f64",
        WitType::Char => "char",
        WitType::String => "string",
        WitType::ErrorContext => "error-context",
        WitType::Id(_) => "type",
    }
}

/// A component's type, shallowly: component types carry no names, so compound
/// types show their kind and their field or case names.
fn show_found(ty: &found::Type) -> String {
    use found::Type as F;
    match ty {
        F::Bool => "bool".into(),
        F::S8 => "s8".into(),
        F::U8 => "u8".into(),
        F::S16 => "s16".into(),
        F::U16 => "u16".into(),
        F::S32 => "s32".into(),
        F::U32 => "u32".into(),
        F::S64 => "s64".into(),
        F::U64 => "u64".into(),
        F::Float32 => "f32".into(),
        F::Float64 => "f64".into(),
        F::Char => "char".into(),
        F::String => "string".into(),
        F::List(l) => format!("list<{}>", show_found(&l.ty())),
        F::Option(o) => format!("option<{}>", show_found(&o.ty())),
        F::Record(r) => format!("record {{ {} }}", r.fields().map(|f| f.name).collect::<Vec<_>>().join(", ")),
        F::Variant(v) => format!("variant {{ {} }}", v.cases().map(|c| c.name).collect::<Vec<_>>().join(", ")),
        F::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        F::Flags(f) => format!("flags {{ {} }}", f.names().collect::<Vec<_>>().join(", ")),
        F::Tuple(t) => format!("tuple<{}>", t.types().map(|t| show_found(&t)).collect::<Vec<_>>().join(", ")),
        F::Result(r) => {
            let side = |t: Option<found::Type>| t.map_or("_".to_string(), |t| show_found(&t));
            format!("result<{}, {}>", side(r.ok()), side(r.err()))
        }
        F::Own(_) => "own<resource>".into(),
        F::Borrow(_) => "borrow<resource>".into(),
        F::Map(_) => "map".into(),
        F::Future(_) => "future".into(),
        F::Stream(_) => "stream".into(),
        F::ErrorContext => "error-context".into(),
        F::FixedLengthList(_) => "fixed-length list".into(),
    }
}
