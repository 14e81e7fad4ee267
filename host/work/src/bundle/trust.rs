//! Publisher signatures, the trust policy and the rollback guard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::manifest::Manifest;
use super::{BundleError, Result};
use andon_core::evidence::{parse_strict, sha256_hex};
use andon_ledger::keys::ed25519_key_id;

/// Format tag of `signature.json`.
pub const SIGNATURE_FORMAT: &str = "andon.bundle-signature/1";
/// Format tag of trust policy files.
pub const TRUST_FORMAT: &str = "andon.trust/1";

/// `signature.json`: the publisher's Ed25519 signature over the RFC 8785 bytes of
/// the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    /// Always `andon.bundle-signature/1`.
    pub format: String,
    /// Bundle name (must equal the manifest's).
    pub bundle: String,
    /// Bundle version (must equal the manifest's).
    pub version: String,
    /// Key id of the signing key.
    pub key_id: String,
    /// SHA-256 of the RFC 8785 manifest bytes.
    pub manifest_sha256: String,
    /// Ed25519 signature (hex, 64 bytes) over the RFC 8785 manifest bytes.
    pub signature: String,
}

/// Signs the manifest in `files` as its publisher: names `key` as the manifest's
/// `publisher_key_id` (the publisher declares itself in what it signs), rewrites
/// `manifest.json` and adds `signature.json`. The one place a bundle is signed.
///
/// # Errors
/// [`BundleError`] when `files` holds no valid manifest.
pub fn sign_files(files: &mut super::archive::BundleFiles, key: &SigningKey) -> Result<(Manifest, BundleSignature)> {
    use super::manifest::{MANIFEST_FILE, SIGNATURE_FILE};
    let bytes =
        files.get(MANIFEST_FILE).ok_or_else(|| BundleError::Build(format!("the bundle has no {MANIFEST_FILE}")))?;
    let mut manifest = Manifest::parse(bytes)?;
    manifest.publisher_key_id = ed25519_key_id(&key.verifying_key());
    let signature = sign(&manifest, key);
    files.insert(MANIFEST_FILE.into(), super::build::manifest_json(&manifest));
    files.insert(SIGNATURE_FILE.into(), serde_json::to_vec_pretty(&signature).expect("signature serializes"));
    Ok((manifest, signature))
}

/// Signs the bundle folder `dir` in place with [`sign_files`], writing
/// `manifest.json` and `signature.json` durably.
///
/// # Errors
/// [`BundleError::Io`] when a file cannot be read or written; see [`sign_files`].
pub fn sign_dir(dir: &Path, key: &SigningKey) -> Result<(Manifest, BundleSignature)> {
    use super::manifest::{MANIFEST_FILE, SIGNATURE_FILE};
    let path = dir.join(MANIFEST_FILE);
    let bytes = super::read_file(&path, super::MAX_DOCUMENT_BYTES)?;
    let mut files = super::archive::BundleFiles::from([(MANIFEST_FILE.to_string(), bytes)]);
    let signed = sign_files(&mut files, key)?;
    for name in [MANIFEST_FILE, SIGNATURE_FILE] {
        let path = dir.join(name);
        super::write_atomic(&path, &files[name]).map_err(|e| BundleError::io(&path, e))?;
    }
    Ok(signed)
}

/// Signs a manifest.
pub fn sign(manifest: &Manifest, key: &SigningKey) -> BundleSignature {
    let bytes = manifest.canonical_bytes();
    BundleSignature {
        format: SIGNATURE_FORMAT.into(),
        bundle: manifest.name.clone(),
        version: manifest.version.to_string(),
        key_id: ed25519_key_id(&key.verifying_key()),
        manifest_sha256: sha256_hex(&bytes),
        signature: hex::encode(key.sign(&bytes).to_bytes()),
    }
}

impl BundleSignature {
    /// Parses `signature.json` strictly.
    ///
    /// # Errors
    /// [`BundleError::Policy`] naming the problem.
    pub fn parse(bytes: &[u8]) -> Result<BundleSignature> {
        let value = parse_strict("signature.json", bytes, 64 << 10)
            .map_err(|e| BundleError::Policy { file: "signature.json".into(), reason: e.to_string() })?;
        serde_path_to_error::deserialize(value).map_err(|e| BundleError::Policy {
            file: "signature.json".into(),
            reason: format!("at `{}`: {}", e.path(), e.inner()),
        })
    }

    /// Verifies this signature over `manifest` with `key`.
    ///
    /// # Errors
    /// [`BundleError::BadSignature`] naming what does not match.
    pub fn verify(&self, manifest: &Manifest, key: &VerifyingKey) -> Result<()> {
        let fail = |reason: String| BundleError::BadSignature { bundle: manifest.name.clone(), reason };
        if self.format != SIGNATURE_FORMAT {
            return Err(fail(format!("unknown signature format `{}`", self.format)));
        }
        if self.bundle != manifest.name || self.version != manifest.version.to_string() {
            return Err(fail(format!(
                "signature is for {} {}, the manifest is {} {}",
                self.bundle, self.version, manifest.name, manifest.version
            )));
        }
        if self.key_id != ed25519_key_id(key) {
            return Err(fail(format!("signature names key `{}`, not `{}`", self.key_id, ed25519_key_id(key))));
        }
        let bytes = manifest.canonical_bytes();
        if self.manifest_sha256 != sha256_hex(&bytes) {
            return Err(fail("the manifest was changed after signing (its sha256 differs)".into()));
        }
        let raw: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| fail("signature is not 64 bytes of hex".into()))?;
        key.verify_strict(&bytes, &Signature::from_bytes(&raw))
            .map_err(|_| fail("the Ed25519 signature does not verify over the manifest".into()))
    }
}

/// One trusted publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedPublisher {
    /// Key id (must match the public key).
    pub key_id: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Bundle names this key may publish; `*` allows any.
    pub bundles: Vec<String>,
}

/// A trust policy: which publisher keys are trusted for which bundle names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustPolicy {
    /// Always `andon.trust/1`.
    pub format: String,
    /// The trusted publishers.
    pub publishers: Vec<TrustedPublisher>,
}

impl TrustPolicy {
    /// Reads and validates a trust policy file.
    ///
    /// # Errors
    /// [`BundleError::Policy`] or [`BundleError::Io`].
    pub fn load(path: &Path) -> Result<TrustPolicy> {
        let bytes = super::read_file(path, super::MAX_DOCUMENT_BYTES)?;
        let file = path.display().to_string();
        let value = parse_strict("trust policy", &bytes, 1 << 20)
            .map_err(|e| BundleError::Policy { file: file.clone(), reason: e.to_string() })?;
        let policy: TrustPolicy = serde_path_to_error::deserialize(value).map_err(|e| BundleError::Policy {
            file: file.clone(),
            reason: format!("at `{}`: {}", e.path(), e.inner()),
        })?;
        if policy.format != TRUST_FORMAT {
            return Err(BundleError::Policy { file, reason: format!("format must be `{TRUST_FORMAT}`") });
        }
        for publisher in &policy.publishers {
            let key = parse_public_key(&publisher.public_key)
                .map_err(|reason| BundleError::Policy { file: file.clone(), reason })?;
            if ed25519_key_id(&key) != publisher.key_id {
                return Err(BundleError::Policy {
                    file,
                    reason: format!("key id `{}` does not match its public key", publisher.key_id),
                });
            }
        }
        Ok(policy)
    }

    /// A policy trusting one key for the given bundle names.
    pub fn single(key: &VerifyingKey, bundles: &[&str]) -> TrustPolicy {
        TrustPolicy {
            format: TRUST_FORMAT.into(),
            publishers: vec![TrustedPublisher {
                key_id: ed25519_key_id(key),
                public_key: hex::encode(key.as_bytes()),
                bundles: bundles.iter().map(|s| s.to_string()).collect(),
            }],
        }
    }

    /// The verifying key trusted under `key_id` for `bundle`.
    ///
    /// # Errors
    /// [`BundleError::UntrustedKey`].
    pub fn key_for(&self, key_id: &str, bundle: &str) -> Result<VerifyingKey> {
        self.publishers
            .iter()
            .find(|p| p.key_id == key_id && p.bundles.iter().any(|b| b == bundle || b == "*"))
            .and_then(|p| parse_public_key(&p.public_key).ok())
            .ok_or_else(|| BundleError::UntrustedKey { key_id: key_id.into(), bundle: bundle.into() })
    }
}

/// Parses a hex Ed25519 public key.
///
/// # Errors
/// A message when it is not 32 bytes of hex or not a valid point.
pub fn parse_public_key(hex_key: &str) -> std::result::Result<VerifyingKey, String> {
    let raw: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| "public key is not 32 bytes of hex".to_string())?;
    VerifyingKey::from_bytes(&raw).map_err(|e| format!("public key is not a valid Ed25519 key: {e}"))
}

/// The highest version loaded so far per bundle name, kept in a small JSON file so a
/// lower version is refused (rollback) even across restarts.
#[derive(Debug)]
pub struct VersionGuard {
    path: PathBuf,
    loaded: BTreeMap<String, semver::Version>,
}

impl VersionGuard {
    /// Opens (or starts) the state file.
    ///
    /// # Errors
    /// [`BundleError::Io`] or [`BundleError::Policy`] when it is unreadable.
    pub fn open(path: &Path) -> Result<VersionGuard> {
        let loaded = match super::read_file(path, super::MAX_DOCUMENT_BYTES) {
            Ok(bytes) => {
                let value = parse_strict("bundle version state", &bytes, 1 << 20)
                    .map_err(|e| BundleError::Policy { file: path.display().to_string(), reason: e.to_string() })?;
                serde_json::from_value(value)
                    .map_err(|e| BundleError::Policy { file: path.display().to_string(), reason: e.to_string() })?
            }
            Err(BundleError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(VersionGuard { path: path.to_path_buf(), loaded })
    }

    /// Refuses `version` of `bundle` if a higher one was loaded before.
    ///
    /// # Errors
    /// [`BundleError::Rollback`].
    pub fn check(&self, bundle: &str, version: &semver::Version) -> Result<()> {
        match self.loaded.get(bundle) {
            Some(loaded) if version < loaded => Err(BundleError::Rollback {
                bundle: bundle.into(),
                offered: version.to_string(),
                loaded: loaded.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Records `version` as loaded (durably: temp file, fsync, rename).
    ///
    /// # Errors
    /// [`BundleError::Io`].
    pub fn record(&mut self, bundle: &str, version: &semver::Version) -> Result<()> {
        let entry = self.loaded.entry(bundle.to_string()).or_insert_with(|| version.clone());
        if version > entry {
            *entry = version.clone();
        }
        let bytes = serde_json::to_vec_pretty(&self.loaded).expect("versions serialize");
        super::write_atomic(&self.path, &bytes).map_err(|e| BundleError::io(&self.path, e))
    }
}
