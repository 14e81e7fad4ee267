//! Bundles: the signed, versioned "standard work library".
//!
//! A bundle is a directory (or a `.tar.gz` of one) holding `manifest.json`, an
//! optional `signature.json`, and exactly the files the manifest lists: components,
//! evidence schemas and golden cases, each with its SHA-256. Loading reads every file
//! through a capability handle on the bundle directory (or from memory for an
//! archive), verifies every hash and, once a trust policy exists, the publisher's
//! Ed25519 signature, and refuses rollbacks. See `docs/bundles.md`.

pub mod archive;
pub mod build;
pub mod load;
pub mod manifest;
pub mod ontology;
pub mod trust;

pub use load::{Bundle, BundleComponent, LoadOptions};
pub use manifest::{ComponentEntry, GoldenEntry, Manifest, Role, Route};

use std::path::PathBuf;

/// Result alias of the bundle subsystem.
pub type Result<T, E = BundleError> = std::result::Result<T, E>;

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The manifest is malformed (names the field).
    #[error("malformed manifest: {0}")]
    Manifest(String),
    /// A file listed in the manifest is absent.
    #[error("missing file `{0}` listed in the manifest")]
    MissingFile(String),
    /// A file is present but not listed in the manifest.
    #[error("extra unlisted file `{0}` in the bundle")]
    ExtraFile(String),
    /// A file's bytes do not match the manifest's hash.
    #[error("{what} `{file}` does not match its sha256: manifest says {expected}, bytes hash to {actual}")]
    HashMismatch {
        /// `component insurance-active`, `schema`, `golden case`.
        what: String,
        /// The file.
        file: String,
        /// Hash in the manifest.
        expected: String,
        /// Hash of the bytes.
        actual: String,
    },
    /// A trust policy exists and the bundle carries no signature.
    #[error("bundle `{0}` is unsigned, and a trust policy is in force: refusing to load it")]
    Unsigned(String),
    /// The signature does not verify.
    #[error("bad signature on bundle `{bundle}`: {reason}")]
    BadSignature {
        /// Bundle name.
        bundle: String,
        /// Why.
        reason: String,
    },
    /// The signing key is not trusted for this bundle.
    #[error("untrusted key `{key_id}`: the trust policy does not allow it to publish bundle `{bundle}`")]
    UntrustedKey {
        /// Key id of the signature.
        key_id: String,
        /// Bundle name.
        bundle: String,
    },
    /// The bundle's version is lower than the one already loaded.
    #[error("rollback refused: bundle `{bundle}` version {offered} is lower than the already loaded {loaded}")]
    Rollback {
        /// Bundle name.
        bundle: String,
        /// Offered version.
        offered: String,
        /// Highest version loaded before.
        loaded: String,
    },
    /// A component failed to load.
    #[error("component `{id}`")]
    Component {
        /// Component id.
        id: String,
        /// The host error.
        #[source]
        source: andon_core::Error,
    },
    /// An evidence schema is not a valid JSON Schema.
    #[error("evidence schema of recipe `{recipe}` is invalid: {reason}")]
    Schema {
        /// Recipe id.
        recipe: String,
        /// Why.
        reason: String,
    },
    /// Archive or directory reading failed.
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    /// A trust policy, key or signature file is malformed.
    #[error("{file}: {reason}")]
    Policy {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// Building a bundle failed.
    #[error("bundle build: {0}")]
    Build(String),
    /// A file is larger than its cap (reading stopped at the cap).
    #[error("{} is over the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap.
        limit: usize,
    },
    /// I/O on a named path.
    #[error("cannot access {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Largest manifest, signature, trust policy, schema, golden case or state file
/// read whole (1 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Writes `bytes` to `path` durably and atomically: a temporary file beside it,
/// fsync, rename over `path`, fsync the folder. A crash leaves the old file or the
/// whole new one; concurrent writers never share a temporary file.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    // Mode 0666 before the umask, as `File::create` gives (a temporary file would
    // otherwise stay 0600 after the rename).
    let mut file =
        tempfile::Builder::new().permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666)).tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Reads the file at `path`, never more than `limit` bytes.
pub(crate) fn read_file(path: &std::path::Path, limit: usize) -> Result<Vec<u8>> {
    andon_core::evidence::read_file_capped(path, limit).map_err(|e| match e {
        andon_core::Error::Io { source, .. } => BundleError::Io { path: path.into(), source },
        _ => BundleError::TooLarge { path: path.into(), limit },
    })
}

impl BundleError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> BundleError {
        BundleError::Io { path: path.into(), source }
    }
}
