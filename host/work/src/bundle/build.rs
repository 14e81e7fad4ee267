//! Building a bundle from a source folder (`recipes-wasm/`): the source manifest
//! `bundle.json`, evidence schemas, golden cases per component
//! (`golden/<id>/*.json`) and per route (`scenarios/<kind>/*.json`), plus the
//! component bytes built from source.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::archive::BundleFiles;
use super::manifest::{
    ComponentEntry, FileRef, GoldenEntry, MANIFEST_FILE, MANIFEST_FORMAT, Manifest, RecipeSpec, Role, Route,
};
use super::{BundleError, Result};
use andon_core::Limits;
use andon_core::component::WIT_PACKAGE;
use andon_core::evidence::{parse_strict, sha256_hex};

/// Key id written into a manifest that has not been signed yet.
pub const UNSIGNED_KEY_ID: &str = "unsigned";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceComponent {
    version: semver::Version,
    policies: Vec<String>,
    #[serde(default)]
    limits: Option<Limits>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceRecipe {
    prerequisites: Vec<String>,
    evidence_schema: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    name: String,
    version: semver::Version,
    #[serde(default)]
    description: String,
    components: BTreeMap<String, SourceComponent>,
    limits: Limits,
    routes: Vec<Route>,
    recipes: BTreeMap<String, SourceRecipe>,
}

/// A component built from source: id, role and bytes.
#[derive(Debug, Clone, Copy)]
pub struct BuiltComponent<'a> {
    /// Component id.
    pub id: &'a str,
    /// Gate or recipe.
    pub role: Role,
    /// Component bytes.
    pub bytes: &'a [u8],
}

/// The shipped components embedded in this build (from `andon-recipes`, built from
/// `recipes-wasm/` by its build script). Needs the `shipped` feature.
#[cfg(feature = "shipped")]
pub fn shipped() -> Vec<BuiltComponent<'static>> {
    andon_recipes::SHIPPED
        .iter()
        .map(|c| BuiltComponent {
            id: c.id,
            role: if c.role == andon_recipes::Role::Gate { Role::Gate } else { Role::Recipe },
            bytes: c.bytes,
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>> {
    super::read_file(path, andon_core::MAX_COMPONENT_BYTES)
}

fn json_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(BundleError::io(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| BundleError::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            out.push((stem, read(&path)?));
        }
    }
    out.sort();
    Ok(out)
}

/// Builds the files of a bundle (unsigned: `publisher_key_id` = `publisher`).
///
/// # Errors
/// [`BundleError::Build`] when the source manifest is malformed or names a
/// component that was not built; [`BundleError::Manifest`] when the result does not
/// validate.
pub fn build(source_dir: &Path, built: &[BuiltComponent<'_>], publisher: &str) -> Result<(Manifest, BundleFiles)> {
    let source_path = source_dir.join("bundle.json");
    let value = parse_strict("bundle.json", &read(&source_path)?, 1 << 20)
        .map_err(|e| BundleError::Build(format!("{}: {e}", source_path.display())))?;
    let source: Source = serde_path_to_error::deserialize(value)
        .map_err(|e| BundleError::Build(format!("{}: at `{}`: {}", source_path.display(), e.path(), e.inner())))?;

    let mut files = BundleFiles::new();
    let mut components = Vec::new();
    let mut golden = Vec::new();
    for (id, spec) in &source.components {
        let component = built
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| BundleError::Build(format!("component `{id}` is in bundle.json but was not built")))?;
        let file = format!("components/{id}.wasm");
        files.insert(file.clone(), component.bytes.to_vec());
        components.push(ComponentEntry {
            id: id.clone(),
            role: component.role,
            version: spec.version.clone(),
            file,
            sha256: sha256_hex(component.bytes),
            limits: spec.limits.unwrap_or(source.limits),
            policies: spec.policies.clone(),
        });
        for (name, bytes) in json_files(&source_dir.join("golden").join(id))? {
            let file = format!("golden/{id}/{name}.json");
            golden.push(GoldenEntry {
                name,
                sha256: sha256_hex(&bytes),
                file: file.clone(),
                component: Some(id.clone()),
                route: None,
            });
            files.insert(file, bytes);
        }
    }
    for route in &source.routes {
        for (name, bytes) in json_files(&source_dir.join("scenarios").join(&route.kind))? {
            let file = format!("scenarios/{}/{name}.json", route.kind);
            golden.push(GoldenEntry {
                name,
                sha256: sha256_hex(&bytes),
                file: file.clone(),
                component: None,
                route: Some(route.kind.clone()),
            });
            files.insert(file, bytes);
        }
    }
    let mut recipes = BTreeMap::new();
    for (id, spec) in &source.recipes {
        let bytes = read(&source_dir.join(&spec.evidence_schema))?;
        let file = format!("schemas/{id}.schema.json");
        recipes.insert(
            id.clone(),
            RecipeSpec {
                prerequisites: spec.prerequisites.clone(),
                evidence_schema: FileRef { file: file.clone(), sha256: sha256_hex(&bytes) },
            },
        );
        files.insert(file, bytes);
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        name: source.name,
        version: source.version,
        publisher_key_id: publisher.into(),
        wit_package: WIT_PACKAGE.into(),
        description: source.description,
        components,
        routes: source.routes,
        recipes,
        golden,
    };
    manifest.validate()?;
    files.insert(MANIFEST_FILE.into(), manifest_json(&manifest));
    Ok((manifest, files))
}

/// The manifest as written to `manifest.json` (pretty JSON; the signature is over
/// the RFC 8785 form, so formatting does not matter).
pub fn manifest_json(manifest: &Manifest) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    bytes.push(b'\n');
    bytes
}

/// Writes bundle files into `dir` (which must not exist, or be empty).
///
/// # Errors
/// [`BundleError::Io`] or [`BundleError::Build`] when `dir` is not empty.
pub fn write_dir(files: &BundleFiles, dir: &Path) -> Result<()> {
    if dir.exists() && std::fs::read_dir(dir).map_err(|e| BundleError::io(dir, e))?.next().is_some() {
        return Err(BundleError::Build(format!("output folder {} is not empty", dir.display())));
    }
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BundleError::io(parent, e))?;
        }
        super::write_atomic(&path, bytes).map_err(|e| BundleError::io(&path, e))?;
    }
    Ok(())
}
