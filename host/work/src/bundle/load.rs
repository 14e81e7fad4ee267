//! Loading a bundle: every hash, the signature under the trust policy, the rollback
//! guard, then components, schemas and golden cases.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::archive::{self, ArchiveLimits, BundleFiles};
use super::manifest::{ComponentEntry, GoldenEntry, MANIFEST_FILE, Manifest, SIGNATURE_FILE};
use super::ontology::EvidenceSchema;
use super::trust::{BundleSignature, TrustPolicy, VersionGuard};
use super::{BundleError, Result};
use andon_core::LoadedComponent;
use andon_core::cache::CodeCache;
use andon_core::engine::AndonEngine;
use andon_core::evidence::{parse_strict, sha256_hex};

/// The rollback guard's state file, kept in the ledger folder: the highest version
/// of each bundle name that decided incidents on that ledger.
pub const VERSIONS_FILE: &str = "bundle-versions.json";

/// How strictly to load.
#[derive(Default)]
pub struct LoadOptions<'a> {
    /// The trust policy. When present, an unsigned bundle, a bad signature or an
    /// untrusted key is refused; there is no way to skip verification.
    pub trust: Option<&'a TrustPolicy>,
    /// The rollback guard; when present, lower versions are refused and the loaded
    /// version is recorded.
    pub versions: Option<&'a mut VersionGuard>,
    /// Compiled-code cache.
    pub cache: Option<&'a CodeCache>,
}

/// A loaded component with its manifest entry.
#[derive(Debug, Clone)]
pub struct BundleComponent {
    /// Its manifest entry (limits, policies, version).
    pub entry: ComponentEntry,
    /// The compiled, pre-instantiated component.
    pub loaded: LoadedComponent,
}

/// A verified, loaded bundle.
#[derive(Debug)]
pub struct Bundle {
    /// The manifest.
    pub manifest: Manifest,
    /// SHA-256 of the RFC 8785 manifest bytes.
    pub digest: String,
    /// Key id of the verified publisher signature, if one was verified.
    pub signer: Option<String>,
    /// Components by id.
    pub components: BTreeMap<String, BundleComponent>,
    /// Evidence schemas by recipe id.
    pub schemas: BTreeMap<String, EvidenceSchema>,
    /// Golden cases with their parsed contents.
    pub golden: Vec<(GoldenEntry, Value)>,
}

impl Bundle {
    /// The `bundle` member of a receipt: name, version, manifest digest, signer.
    pub fn receipt_ref(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.manifest.name,
            "version": self.manifest.version.to_string(),
            "digest": self.digest,
            "signer": self.signer,
        })
    }
}

/// Reads a bundle from a directory (through a capability handle on it) or from a
/// `.tar.gz` archive (into memory), with the archive caps.
///
/// # Errors
/// [`BundleError::Io`] or [`BundleError::Archive`].
pub fn read_files(path: &Path) -> Result<BundleFiles> {
    let limits = ArchiveLimits::default();
    let meta = std::fs::metadata(path).map_err(|e| BundleError::io(path, e))?;
    if meta.is_dir() {
        let dir = cap_std::fs::Dir::open_ambient_dir(path, cap_std::ambient_authority())
            .map_err(|e| BundleError::io(path, e))?;
        Ok(archive::read_dir_files(&dir, &limits)?)
    } else {
        let file = std::fs::File::open(path).map_err(|e| BundleError::io(path, e))?;
        Ok(archive::unpack(std::io::BufReader::new(file), &limits)?)
    }
}

/// Verifies a bundle's files without compiling anything: the manifest, the exact
/// file set, every hash, and the signature (always when present; required when a
/// trust policy is given). Returns the manifest and the verified signer key id.
///
/// # Errors
/// The [`BundleError`] naming the first problem.
pub fn verify_files(files: &BundleFiles, trust: Option<&TrustPolicy>) -> Result<(Manifest, Option<String>)> {
    let manifest_bytes = files.get(MANIFEST_FILE).ok_or_else(|| BundleError::MissingFile(MANIFEST_FILE.into()))?;
    let manifest = Manifest::parse(manifest_bytes)?;

    let signer = match (files.get(SIGNATURE_FILE), trust) {
        (None, Some(_)) => return Err(BundleError::Unsigned(manifest.name.clone())),
        (None, None) => None,
        (Some(bytes), trust) => {
            let signature = BundleSignature::parse(bytes)?;
            let key = match trust {
                Some(policy) => policy.key_for(&signature.key_id, &manifest.name)?,
                // Without a policy the signature is checked against the key it names
                // only for integrity; nobody is trusted.
                None => return Ok((check_file_set(files, manifest)?, None)),
            };
            signature.verify(&manifest, &key)?;
            if signature.key_id != manifest.publisher_key_id {
                return Err(BundleError::BadSignature {
                    bundle: manifest.name.clone(),
                    reason: format!(
                        "signed by `{}` but the manifest names publisher `{}`",
                        signature.key_id, manifest.publisher_key_id
                    ),
                });
            }
            Some(signature.key_id)
        }
    };
    Ok((check_file_set(files, manifest)?, signer))
}

fn check_file_set(files: &BundleFiles, manifest: Manifest) -> Result<Manifest> {
    let listed = manifest.listed_files();
    for (file, expected, what) in &listed {
        let bytes = files.get(file).ok_or_else(|| BundleError::MissingFile(file.clone()))?;
        let actual = sha256_hex(bytes);
        if &actual != expected {
            return Err(BundleError::HashMismatch {
                what: what.clone(),
                file: file.clone(),
                expected: expected.clone(),
                actual,
            });
        }
    }
    for name in files.keys() {
        if name != MANIFEST_FILE && name != SIGNATURE_FILE && !listed.iter().any(|(file, _, _)| file == name) {
            return Err(BundleError::ExtraFile(name.clone()));
        }
    }
    Ok(manifest)
}

impl Bundle {
    /// Loads a bundle from a directory or archive path.
    ///
    /// # Errors
    /// See [`Bundle::load`].
    pub fn load_path(engine: &AndonEngine, path: &Path, options: LoadOptions<'_>) -> Result<Bundle> {
        Bundle::load(engine, &read_files(path)?, options)
    }

    /// Loads the bundle at `path` (folder or `.tar.gz`) for use on the ledger at
    /// `ledger_dir`, under the rollback guard kept beside that ledger
    /// ([`VERSIONS_FILE`]): a version lower than one this ledger already used is
    /// refused, and the version loaded is recorded. Every command that decides
    /// incidents on a ledger loads its bundles this way.
    ///
    /// # Errors
    /// See [`Bundle::load`]; [`BundleError::Rollback`] for a lower version;
    /// [`BundleError::Io`] when the ledger folder or the state file cannot be written.
    pub fn load_for_ledger(
        engine: &AndonEngine,
        path: &Path,
        trust: Option<&TrustPolicy>,
        ledger_dir: &Path,
    ) -> Result<Bundle> {
        std::fs::create_dir_all(ledger_dir).map_err(|e| BundleError::io(ledger_dir, e))?;
        let mut guard = VersionGuard::open(&ledger_dir.join(VERSIONS_FILE))?;
        Bundle::load_path(engine, path, LoadOptions { trust, versions: Some(&mut guard), cache: None })
    }

    /// Verifies and loads a bundle from its files.
    ///
    /// # Errors
    /// The [`BundleError`] naming the first problem: manifest, signature, trust,
    /// missing or extra file, hash mismatch (naming the component), rollback, a
    /// component that fails to load (refused import, wrong world), or a bad schema.
    pub fn load(engine: &AndonEngine, files: &BundleFiles, options: LoadOptions<'_>) -> Result<Bundle> {
        let (manifest, signer) = verify_files(files, options.trust)?;
        if let Some(guard) = options.versions.as_deref() {
            guard.check(&manifest.name, &manifest.version)?;
        }
        let mut components = BTreeMap::new();
        for entry in &manifest.components {
            let bytes = &files[&entry.file];
            let loaded = match options.cache {
                Some(cache) => cache.load(engine, bytes).map(|(loaded, _)| loaded),
                None => LoadedComponent::load(engine, bytes),
            }
            .and_then(|loaded| loaded.expect_world(entry.role.world()).map(|()| loaded))
            .map_err(|source| BundleError::Component { id: entry.id.clone(), source })?;
            components.insert(entry.id.clone(), BundleComponent { entry: entry.clone(), loaded });
        }
        let mut schemas = BTreeMap::new();
        for (recipe, spec) in &manifest.recipes {
            let schema_err = |reason: String| BundleError::Schema { recipe: recipe.clone(), reason };
            let value = parse_strict("evidence schema", &files[&spec.evidence_schema.file], 1 << 20)
                .map_err(|e| schema_err(e.to_string()))?;
            schemas.insert(recipe.clone(), EvidenceSchema::compile(&value).map_err(schema_err)?);
        }
        let mut golden = Vec::new();
        for entry in &manifest.golden {
            let value = parse_strict("golden case", &files[&entry.file], 1 << 20)
                .map_err(|e| BundleError::Manifest(format!("golden case `{}`: {e}", entry.name)))?;
            golden.push((entry.clone(), value));
        }
        if let Some(guard) = options.versions {
            guard.record(&manifest.name, &manifest.version)?;
        }
        Ok(Bundle { digest: manifest.digest(), manifest, signer, components, schemas, golden })
    }

    /// A loaded component by id.
    pub fn component(&self, id: &str) -> Option<&BundleComponent> {
        self.components.get(id)
    }
}
