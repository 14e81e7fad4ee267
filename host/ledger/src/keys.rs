//! Key files: the HMAC-SHA256 key that signs receipts and the Ed25519 key pair that
//! signs checkpoints (and publisher bundles).
//!
//! Three JSON files, written by [`generate`] (`andon keys generate --out DIR`):
//!
//! | file          | mode | content |
//! |---------------|------|---------|
//! | `hmac.key`    | 0600 | `{"algorithm":"hmac-sha256","key":"<64 hex>","key_id":"hmac-<16 hex>"}` |
//! | `ed25519.key` | 0600 | `{"algorithm":"ed25519","key_id":"ed25519-<16 hex>","secret":"<64 hex seed>"}` |
//! | `ed25519.pub` | 0644 | `{"algorithm":"ed25519","key_id":"ed25519-<16 hex>","public":"<64 hex>"}` |
//!
//! Key ids are derived, never chosen: `hmac-` + the first 16 hex digits of SHA-256 of
//! the 32 key bytes, `ed25519-` + the first 16 hex digits of SHA-256 of the 32
//! public-key bytes. Loading recomputes the id and refuses a file whose id does not
//! match, so a key id in a receipt names exactly one key.
//!
//! Secret files are created with `O_CREAT|O_EXCL` and mode 0600 in the same `open`
//! call (never readable by others, not even briefly), and loading refuses a secret
//! file that group or others can read. Secret bytes are zeroized when dropped and
//! never appear in `Debug` output.
//!
//! # Example
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let generated = andon_ledger::keys::generate(&dir.path().join("keys"))?;
//! let hmac = andon_ledger::keys::load_hmac_key(&generated.hmac_path)?;
//! assert_eq!(hmac.key_id(), generated.hmac_key_id);
//! assert!(!format!("{hmac:?}").contains(&hex::encode(hmac.mac(b"x"))));
//! let (id, verifying) = andon_ledger::keys::load_verifying_key(&generated.public_path)?;
//! let (_, signing) = andon_ledger::keys::load_signing_key(&generated.signing_path)?;
//! assert_eq!(id, generated.ed25519_key_id);
//! assert_eq!(signing.verifying_key(), verifying);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use hmac::{KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize as _, Zeroizing};

use andon_core::evidence::sha256_hex;

/// HMAC-SHA256 as used for receipts.
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Most bytes of a key file read (key files are tiny; a wrong path, a device or a
/// huge file, stays harmless).
pub const MAX_KEY_FILE_BYTES: u64 = 64 << 10;
/// File name of the HMAC key written by [`generate`].
pub const HMAC_FILE: &str = "hmac.key";
/// File name of the Ed25519 secret key written by [`generate`].
pub const SIGNING_FILE: &str = "ed25519.key";
/// File name of the Ed25519 public key written by [`generate`].
pub const PUBLIC_FILE: &str = "ed25519.pub";

/// Algorithm name of HMAC key files.
pub const HMAC_ALGORITHM: &str = "hmac-sha256";
/// Algorithm name of Ed25519 key files.
pub const ED25519_ALGORITHM: &str = "ed25519";

/// Result alias of this module.
pub type Result<T, E = KeyError> = std::result::Result<T, E>;

/// Why a key file could not be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a key file failed.
    #[error("cannot {action} key file {}", path.display())]
    Io {
        /// `read`, `create`...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The key file is not what it should be (bad JSON, wrong algorithm, bad hex,
    /// wrong length, key id that does not match the key).
    #[error("invalid key file {}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A secret key file that group or others may read.
    #[error("secret key file {} is readable by group or others (mode {mode:04o}); run `chmod 600` on it", path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The operating system's random number generator failed.
    #[error("cannot draw random key material: {0}")]
    Random(String),
}

/// The HMAC-SHA256 key that signs receipts, with its derived key id.
///
/// `Debug` shows only the key id; the key bytes are zeroized on drop.
#[derive(Clone)]
pub struct HmacKey {
    id: String,
    key: Zeroizing<[u8; 32]>,
    /// The keyed MAC state, cloned per message so the key schedule runs once.
    keyed: HmacSha256,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacKey").field("key_id", &self.id).field("key", &"<redacted>").finish()
    }
}

impl HmacKey {
    /// Wraps 32 key bytes, deriving the key id.
    pub fn from_bytes(bytes: [u8; 32]) -> HmacKey {
        let key = Zeroizing::new(bytes);
        let id = hmac_key_id(&key[..]);
        let keyed = HmacSha256::new_from_slice(&key[..]).expect("hmac accepts keys of any length");
        HmacKey { id, key, keyed }
    }

    /// The derived key id, `hmac-<16 hex>`.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA256 of `message` under this key.
    pub fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Checks `tag` against HMAC-SHA256 of `message`, in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }

    /// The raw key bytes (for writing the key file).
    fn bytes(&self) -> &[u8; 32] {
        &self.key
    }
}

/// Key id of an HMAC key: `hmac-` + first 16 hex digits of SHA-256 of the key.
pub fn hmac_key_id(key: &[u8]) -> String {
    format!("hmac-{}", &sha256_hex(key)[..16])
}

/// Key id of an Ed25519 key: `ed25519-` + first 16 hex digits of SHA-256 of the
/// 32-byte public key.
pub fn ed25519_key_id(public: &VerifyingKey) -> String {
    format!("ed25519-{}", &sha256_hex(public.as_bytes())[..16])
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedKeys {
    /// Key id of the HMAC key.
    pub hmac_key_id: String,
    /// Key id of the Ed25519 key pair.
    pub ed25519_key_id: String,
    /// Path of `hmac.key`.
    pub hmac_path: PathBuf,
    /// Path of `ed25519.key`.
    pub signing_path: PathBuf,
    /// Path of `ed25519.pub`.
    pub public_path: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HmacFile {
    key_id: String,
    algorithm: String,
    key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningFile {
    key_id: String,
    algorithm: String,
    secret: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicFile {
    key_id: String,
    algorithm: String,
    public: String,
}

/// Creates `dir` (mode 0700, if missing) and writes a fresh HMAC key and Ed25519 key
/// pair into it. Existing key files are never overwritten.
///
/// # Errors
/// [`KeyError::Io`] when the directory or a file cannot be created (including when a
/// key file already exists), [`KeyError::Random`] when the OS random generator fails.
pub fn generate(dir: &Path) -> Result<GeneratedKeys> {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + use<> {
        let path = path.to_path_buf();
        move |source| KeyError::Io { action, path, source }
    }
    if !dir.is_dir() {
        DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io("create", dir))?;
    }
    let hmac_path = dir.join(HMAC_FILE);
    let signing_path = dir.join(SIGNING_FILE);
    let public_path = dir.join(PUBLIC_FILE);
    for path in [&hmac_path, &signing_path, &public_path] {
        if path.exists() {
            return Err(KeyError::Io {
                action: "create",
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "refusing to overwrite an existing key"),
            });
        }
    }

    let mut hmac_bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut hmac_bytes[..]).map_err(|e| KeyError::Random(e.to_string()))?;
    let hmac = HmacKey::from_bytes(*hmac_bytes);
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut seed[..]).map_err(|e| KeyError::Random(e.to_string()))?;
    let signing = SigningKey::from_bytes(&seed);
    let public = signing.verifying_key();
    let ed_id = ed25519_key_id(&public);

    let hmac_json = Zeroizing::new(to_json(&HmacFile {
        key_id: hmac.key_id().to_string(),
        algorithm: HMAC_ALGORITHM.into(),
        key: hex::encode(hmac.bytes()),
    }));
    let signing_json = Zeroizing::new(to_json(&SigningFile {
        key_id: ed_id.clone(),
        algorithm: ED25519_ALGORITHM.into(),
        secret: hex::encode(&seed[..]),
    }));
    let public_json = to_json(&PublicFile {
        key_id: ed_id.clone(),
        algorithm: ED25519_ALGORITHM.into(),
        public: hex::encode(public.as_bytes()),
    });

    write_new(&hmac_path, hmac_json.as_bytes(), 0o600)?;
    write_new(&signing_path, signing_json.as_bytes(), 0o600)?;
    write_new(&public_path, public_json.as_bytes(), 0o644)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("sync", dir))?;
    Ok(GeneratedKeys {
        hmac_key_id: hmac.key_id().to_string(),
        ed25519_key_id: ed_id,
        hmac_path,
        signing_path,
        public_path,
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("key files serialize");
    text.push('\n');
    text
}

/// Writes a new file with `mode` set in the `open` call itself, then fsyncs it.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let io = |source| KeyError::Io { action: "create", path: path.to_path_buf(), source };
    let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// The kinds of key file, for telling a user which one they gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hmac,
    Secret,
    Public,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Hmac => "the HMAC receipt key file (hmac.key)",
            Kind::Secret => "the Ed25519 secret key file (ed25519.key)",
            Kind::Public => "the Ed25519 public key file (ed25519.pub)",
        }
    }

    /// The kind a key file's JSON looks like, if any.
    fn sniff(bytes: &[u8]) -> Option<Kind> {
        // Only the member names and the algorithm: no key material is kept.
        #[derive(Deserialize)]
        struct Sniff {
            algorithm: Option<String>,
            secret: Option<serde::de::IgnoredAny>,
            public: Option<serde::de::IgnoredAny>,
        }
        let sniff: Sniff = serde_json::from_slice(bytes).ok()?;
        match (sniff.algorithm.as_deref(), sniff.secret.is_some(), sniff.public.is_some()) {
            (Some(HMAC_ALGORITHM), _, _) => Some(Kind::Hmac),
            (Some(ED25519_ALGORITHM), true, false) => Some(Kind::Secret),
            (Some(ED25519_ALGORITHM), false, true) => Some(Kind::Public),
            _ => None,
        }
    }
}

/// Reads a key file of kind `want`: a file of another kind is named as such (before
/// its mode is judged: a public key may be readable by all); a secret file readable
/// by group or others is refused.
fn read_key_file(path: &Path, want: Kind) -> Result<Zeroizing<Vec<u8>>> {
    let io = |source| KeyError::Io { action: "read", path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io)?;
    let mut bytes = Zeroizing::new(Vec::new());
    // Key files are tiny; the cap keeps a wrong path (a device, a huge file) harmless.
    (&file).take(MAX_KEY_FILE_BYTES).read_to_end(&mut bytes).map_err(io)?;
    if let Some(found) = Kind::sniff(&bytes)
        && found != want
    {
        return Err(invalid(path, format!("this is {}; {} is needed here", found.describe(), want.describe())));
    }
    if want != Kind::Public {
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions { path: path.to_path_buf(), mode });
        }
    }
    Ok(bytes)
}

fn invalid(path: &Path, problem: impl Into<String>) -> KeyError {
    KeyError::Invalid { path: path.to_path_buf(), problem: problem.into() }
}

fn parse<'a, T: Deserialize<'a>>(path: &Path, bytes: &'a [u8]) -> Result<T> {
    // serde_json's message may quote the input; it never contains the key material
    // because the error is raised before or instead of reading a value.
    serde_json::from_slice(bytes).map_err(|e| invalid(path, format!("not a key file of the expected kind ({e})")))
}

fn decode32(path: &Path, field: &str, text: &str) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(invalid(path, format!("`{field}` must be 64 lowercase hex digits (32 bytes)")));
    }
    hex::decode_to_slice(text, &mut out[..]).map_err(|_| invalid(path, format!("`{field}` is not hex")))?;
    Ok(out)
}

fn check_algorithm(path: &Path, found: &str, expected: &str) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(invalid(path, format!("algorithm is `{found}`, expected `{expected}`")))
    }
}

fn check_id(path: &Path, found: &str, derived: &str) -> Result<()> {
    if found == derived {
        Ok(())
    } else {
        Err(invalid(path, format!("key id `{found}` does not match the key (its id is `{derived}`)")))
    }
}

/// Loads `hmac.key`.
///
/// # Errors
/// [`KeyError::Io`], [`KeyError::Permissions`] (readable by group or others) or
/// [`KeyError::Invalid`] (bad JSON, algorithm, hex, length or key id).
pub fn load_hmac_key(path: &Path) -> Result<HmacKey> {
    let bytes = read_key_file(path, Kind::Hmac)?;
    let mut file: HmacFile = parse(path, &bytes)?;
    let result = (|| {
        check_algorithm(path, &file.algorithm, HMAC_ALGORITHM)?;
        let key = HmacKey::from_bytes(*decode32(path, "key", &file.key)?);
        check_id(path, &file.key_id, key.key_id())?;
        Ok(key)
    })();
    file.key.zeroize();
    result
}

/// Loads `ed25519.key`: the key id and the signing key.
///
/// # Errors
/// [`KeyError::Io`], [`KeyError::Permissions`] or [`KeyError::Invalid`].
pub fn load_signing_key(path: &Path) -> Result<(String, SigningKey)> {
    let bytes = read_key_file(path, Kind::Secret)?;
    let mut file: SigningFile = parse(path, &bytes)?;
    let result = (|| {
        check_algorithm(path, &file.algorithm, ED25519_ALGORITHM)?;
        let signing = SigningKey::from_bytes(&*decode32(path, "secret", &file.secret)?);
        let id = ed25519_key_id(&signing.verifying_key());
        check_id(path, &file.key_id, &id)?;
        Ok((id, signing))
    })();
    file.secret.zeroize();
    result
}

/// Loads `ed25519.pub`: the key id and the verifying key.
///
/// # Errors
/// [`KeyError::Io`] or [`KeyError::Invalid`] (including a point that is not a valid
/// Ed25519 public key).
pub fn load_verifying_key(path: &Path) -> Result<(String, VerifyingKey)> {
    let bytes = read_key_file(path, Kind::Public)?;
    let file: PublicFile = parse(path, &bytes)?;
    check_algorithm(path, &file.algorithm, ED25519_ALGORITHM)?;
    let raw = decode32(path, "public", &file.public)?;
    let public =
        VerifyingKey::from_bytes(&raw).map_err(|_| invalid(path, "`public` is not a valid Ed25519 public key"))?;
    let id = ed25519_key_id(&public);
    check_id(path, &file.key_id, &id)?;
    Ok((id, public))
}
