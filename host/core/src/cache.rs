//! The compiled-code cache: compile a component once, load it from disk afterwards,
//! and never deserialize bytes this cache did not itself produce and authenticate.
//!
//! Deserializing compiled code is `unsafe` in wasmtime: the bytes are machine code
//! that is mapped executable and trusted. So every entry carries an HMAC-SHA256 under
//! a random 32-byte secret, `cache.key`, created with the cache directory (mode 0600)
//! and never leaving it. An entry is `MAC || serialized`, where
//!
//! ```text
//! MAC = HMAC-SHA256(secret, key_digest || component_sha256 || serialized)
//! ```
//!
//! with both digests as 64 lowercase hex ASCII characters. The entry's file name is
//! `<component_sha256>-<key_digest>.cwasm`, where `key_digest` is the SHA-256 of the
//! cache format version, the engine's config digest
//! ([`AndonEngine::config_digest`]) and wasmtime's
//! [`precompile_compatibility_hash`](wasmtime::Engine::precompile_compatibility_hash):
//! an engine configured differently looks for a different file, and an entry renamed
//! to another component or configuration fails the MAC. An entry that is truncated,
//! modified, written under another cache's key or refused by wasmtime is reported as
//! [`CacheOutcome::Rejected`], recompiled and overwritten; it is never trusted.
//!
//! On a hit as on a miss the component goes through
//! [`LoadedComponent::from_compiled`], so the import check runs every time.
//!
//! # Example
//!
//! ```
//! use andon_core::cache::{CacheOutcome, CodeCache};
//! use andon_core::AndonEngine;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let cache = CodeCache::open(dir.path()).unwrap();
//! let engine = AndonEngine::new()?;
//! let bytes = andon_recipes::shipped("approval-threshold").unwrap().bytes;
//! let (_, first) = cache.load(&engine, bytes)?;
//! let (gate, second) = cache.load(&engine, bytes)?;
//! assert_eq!((first, second), (CacheOutcome::Miss, CacheOutcome::Hit));
//! assert_eq!(gate.sha256(), andon_core::evidence::sha256_hex(bytes));
//! # Ok::<(), andon_core::Error>(())
//! ```

use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use cap_std::fs::{Dir, OpenOptions};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::component::{LoadedComponent, precheck};
use crate::engine::AndonEngine;
use crate::errors::{Error, Result};
use crate::evidence::sha256_hex;

/// Name of the secret key file inside the cache directory.
pub const KEY_FILE: &str = "cache.key";

/// Extension of cache entries.
pub const ENTRY_EXTENSION: &str = "cwasm";

/// Version of the entry format and key derivation, part of every key digest.
const FORMAT: &str = "andon-code-cache-v1";

const SECRET_LEN: usize = 32;
const MAC_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Why the cache directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Creating or reading the cache directory or its key failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The directory or file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The key file exists but cannot be trusted or used.
    #[error("code cache key {} is unusable: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The operating system could not provide randomness for a new key.
    #[error("cannot generate a code cache key: {0}")]
    Random(String),
}

/// What the cache did for one [`CodeCache::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// An authenticated entry was deserialized; nothing was compiled.
    Hit,
    /// There was no entry: the component was compiled and stored.
    Miss,
    /// An entry existed but was not trusted: the component was compiled and the
    /// entry overwritten.
    Rejected {
        /// Why the entry was rejected.
        reason: String,
    },
}

/// Counts of outcomes since the cache was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Loads served from an authenticated entry.
    pub hits: u64,
    /// Loads that found no entry.
    pub misses: u64,
    /// Loads that found an entry and refused to trust it.
    pub rejected: u64,
}

/// A compiled-code cache in one directory, opened through a capability handle.
///
/// It is `Sync`: loads from several threads may share it. Concurrent writers of the
/// same entry (threads or processes) each write a private temporary file and rename
/// it into place, so readers see a whole entry or none.
pub struct CodeCache {
    dir: Dir,
    path: PathBuf,
    secret: [u8; SECRET_LEN],
    hits: AtomicU64,
    misses: AtomicU64,
    rejected: AtomicU64,
}

impl std::fmt::Debug for CodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("CodeCache").field("path", &self.path).field("stats", &self.stats()).finish_non_exhaustive()
    }
}

enum Lookup {
    Hit(Component),
    Miss,
    Rejected(String),
}

/// Serialized code whose MAC has been verified; only [`CodeCache::authenticate`]
/// makes one.
struct Authenticated<'a>(&'a [u8]);

impl CodeCache {
    /// Opens the cache in `dir`, creating the directory (mode 0700, with its parents)
    /// and a fresh random key (mode 0600) if they are missing.
    ///
    /// An existing directory is used as it is; an existing key must be a regular file
    /// of 32 bytes that only its owner can read or write.
    ///
    /// # Errors
    /// [`CacheError::Io`] when the directory cannot be created or opened or the key
    /// cannot be read or written; [`CacheError::Key`] for a key that is a link, has
    /// the wrong size or is accessible to other users; [`CacheError::Random`].
    pub fn open(dir: &Path) -> Result<CodeCache, CacheError> {
        let io = |action| move |source| CacheError::Io { action, path: dir.to_path_buf(), source };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io("create the code cache directory"))?;
        let handle =
            Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map_err(io("open the code cache directory"))?;
        let secret = load_or_create_key(&handle, dir)?;
        Ok(CodeCache {
            dir: handle,
            path: dir.to_path_buf(),
            secret,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        })
    }

    /// The cache directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Outcome counts since [`CodeCache::open`].
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Where the entry for `bytes` compiled by `engine` lives (it may not exist).
    pub fn entry_path(&self, engine: &AndonEngine, bytes: &[u8]) -> PathBuf {
        self.path.join(entry_name(&sha256_hex(bytes), &key_digest(engine)))
    }

    /// Loads a component through the cache: on a hit, deserializes the authenticated
    /// entry; otherwise compiles `bytes` and stores the result. Either way the
    /// component then goes through [`LoadedComponent::from_compiled`] (import check,
    /// world, pre-instantiation), exactly as [`LoadedComponent::load`] would.
    ///
    /// Compiled code is stored before the import check, so a refused component is
    /// refused again, by the same check, on every later hit.
    ///
    /// # Errors
    /// - what [`LoadedComponent::load`] returns for the bytes
    ///   ([`Error::InvalidComponent`], [`Error::RefusedImport`]);
    /// - [`Error::Io`] when the cache directory cannot be read or written (a broken
    ///   cache is reported, not silently bypassed);
    /// - [`Error::Engine`] when compiled code cannot be serialized or no randomness
    ///   is available for a temporary file name.
    pub fn load(&self, engine: &AndonEngine, bytes: &[u8]) -> Result<(LoadedComponent, CacheOutcome)> {
        precheck(bytes)?;
        let sha256 = sha256_hex(bytes);
        let key = key_digest(engine);
        let name = entry_name(&sha256, &key);
        let (component, outcome) = match self.lookup(engine, &name, &key, &sha256)? {
            Lookup::Hit(component) => (component, CacheOutcome::Hit),
            Lookup::Miss => (self.compile_and_store(engine, bytes, &name, &key, &sha256)?, CacheOutcome::Miss),
            Lookup::Rejected(reason) => {
                tracing::warn!(entry = %name, %reason, "rejected a compiled-code cache entry");
                let component = self.compile_and_store(engine, bytes, &name, &key, &sha256)?;
                (component, CacheOutcome::Rejected { reason })
            }
        };
        match outcome {
            CacheOutcome::Hit => &self.hits,
            CacheOutcome::Miss => &self.misses,
            CacheOutcome::Rejected { .. } => &self.rejected,
        }
        .fetch_add(1, Ordering::Relaxed);
        let loaded = LoadedComponent::from_compiled(engine, component, bytes)?;
        Ok((loaded, outcome))
    }

    fn io_error(&self, name: &str) -> impl FnOnce(io::Error) -> Error {
        let path = self.path.join(name);
        move |source| Error::Io { path, source }
    }

    fn mac(&self, key: &str, sha256: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes a key of any size");
        mac.update(key.as_bytes());
        mac.update(sha256.as_bytes());
        mac
    }

    /// Verifies an entry's MAC (in constant time) and returns its serialized part.
    fn authenticate<'a>(&self, entry: &'a [u8], key: &str, sha256: &str) -> Option<Authenticated<'a>> {
        let (tag, serialized) = entry.split_at_checked(MAC_LEN)?;
        let mut mac = self.mac(key, sha256);
        mac.update(serialized);
        mac.verify_slice(tag).ok()?;
        Some(Authenticated(serialized))
    }

    fn lookup(&self, engine: &AndonEngine, name: &str, key: &str, sha256: &str) -> Result<Lookup> {
        let meta = match self.dir.symlink_metadata(name) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(self.io_error(name)(e)),
        };
        if !meta.is_file() {
            return Ok(Lookup::Rejected("the entry is not a regular file".into()));
        }
        let entry = match self.dir.read(name) {
            Ok(entry) => entry,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(self.io_error(name)(e)),
        };
        if entry.len() < MAC_LEN {
            return Ok(Lookup::Rejected(format!("the entry is truncated ({} bytes)", entry.len())));
        }
        let Some(authenticated) = self.authenticate(&entry, key, sha256) else {
            return Ok(Lookup::Rejected(
                "the entry's MAC does not verify: it was modified, or written by another cache, \
                 for another component or for another engine configuration"
                    .into(),
            ));
        };
        Ok(match deserialize(engine, authenticated) {
            Ok(component) => Lookup::Hit(component),
            Err(e) => Lookup::Rejected(format!("wasmtime refused the authenticated entry: {e:#}")),
        })
    }

    fn compile_and_store(
        &self,
        engine: &AndonEngine,
        bytes: &[u8],
        name: &str,
        key: &str,
        sha256: &str,
    ) -> Result<Component> {
        let component = Component::new(engine.wasmtime(), bytes)
            .map_err(|e| Error::InvalidComponent { reason: format!("{e:#}") })?;
        let serialized =
            component.serialize().map_err(|e| Error::Engine(format!("cannot serialize compiled code: {e:#}")))?;
        let mut mac = self.mac(key, sha256);
        mac.update(&serialized);
        let tag = mac.finalize().into_bytes();
        self.store(name, &tag, &serialized)?;
        Ok(component)
    }

    /// Writes `tag || serialized` to a private temporary file, syncs it and renames it
    /// over `name`, so that a crash or a concurrent writer never leaves a torn entry.
    fn store(&self, name: &str, tag: &[u8], serialized: &[u8]) -> Result<()> {
        let suffix = getrandom::u64().map_err(|e| Error::Engine(format!("cannot name a temporary file: {e}")))?;
        let temp = format!(".{name}.{suffix:016x}.tmp");
        let written =
            write_new_file(&self.dir, &temp, &[tag, serialized]).and_then(|()| self.dir.rename(&temp, &self.dir, name));
        if let Err(e) = written {
            let _ = self.dir.remove_file(&temp);
            return Err(self.io_error(name)(e));
        }
        sync_dir(&self.dir);
        Ok(())
    }
}

/// Deserializes compiled code that this cache wrote and authenticated.
#[expect(unsafe_code, reason = "deserializing compiled code is unsafe; the bytes are authenticated first")]
fn deserialize(engine: &AndonEngine, code: Authenticated<'_>) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize` requires bytes produced by
    // `Component::serialize` (of a compatible engine) and not modified since. An
    // `Authenticated` exists only once the HMAC-SHA256 over these exact bytes, the
    // component's SHA-256 and the engine key digest has verified under this cache's
    // 32-byte secret, which is random, owner-only and never leaves the directory; the
    // cache computes that MAC only over the output of `Component::serialize` (see
    // `compile_and_store`). So these are bytes this cache produced for this
    // component and an engine with the same config digest and compatibility hash,
    // unchanged. The bytes are in memory, so they cannot change after the check.
    unsafe { Component::deserialize(engine.wasmtime(), code.0) }
}

fn entry_name(sha256: &str, key: &str) -> String {
    format!("{sha256}-{key}.{ENTRY_EXTENSION}")
}

/// SHA-256 (hex) of the format version, the engine config digest and wasmtime's
/// precompile compatibility hash.
fn key_digest(engine: &AndonEngine) -> String {
    let mut compat = Sha256Hasher(Sha256::new());
    engine.wasmtime().precompile_compatibility_hash().hash(&mut compat);
    let compat = hex::encode(compat.0.finalize());
    let mut key = Sha256::new();
    for part in [FORMAT, engine.config_digest(), &compat] {
        key.update(part.as_bytes());
        key.update(b"\n");
    }
    hex::encode(key.finalize())
}

/// Feeds a [`Hash`] implementation into SHA-256, which is stable where std's
/// `DefaultHasher` is not promised to be.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Unused: the digest is read from the inner SHA-256.
    fn finish(&self) -> u64 {
        0
    }
}

/// Creates `name` (it must not exist) with mode 0600, writes `parts` and syncs it.
fn write_new_file(dir: &Dir, name: &str, parts: &[&[u8]]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    cap_std::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = dir.open_with(name, &options)?;
    for part in parts {
        file.write_all(part)?;
    }
    file.sync_all()
}

/// Best effort: makes a rename durable. A rename lost in a crash only costs a
/// recompilation, so a filesystem that cannot sync directories is not an error.
fn sync_dir(dir: &Dir) {
    if let Ok(clone) = dir.try_clone() {
        let _ = clone.into_std_file().sync_all();
    }
}

fn load_or_create_key(dir: &Dir, path: &Path) -> Result<[u8; SECRET_LEN], CacheError> {
    if let Some(secret) = read_key(dir, path)? {
        return Ok(secret);
    }
    let mut secret = [0u8; SECRET_LEN];
    getrandom::fill(&mut secret).map_err(|e| CacheError::Random(e.to_string()))?;
    let suffix = getrandom::u64().map_err(|e| CacheError::Random(e.to_string()))?;
    let temp = format!(".{KEY_FILE}.{suffix:016x}.tmp");
    let key_path = path.join(KEY_FILE);
    let io = |source| CacheError::Io { action: "write the code cache key", path: key_path.clone(), source };
    write_new_file(dir, &temp, &[&secret]).map_err(io)?;
    // A hard link publishes the complete key atomically and, unlike a rename, never
    // replaces one: if another process created the key first, theirs is kept and
    // read back below.
    let linked = dir.hard_link(&temp, dir, KEY_FILE);
    let _ = dir.remove_file(&temp);
    match linked {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    read_key(dir, path)?
        .ok_or_else(|| CacheError::Key { path: key_path, reason: "it vanished while being created".into() })
}

fn read_key(dir: &Dir, path: &Path) -> Result<Option<[u8; SECRET_LEN]>, CacheError> {
    let key_path = path.join(KEY_FILE);
    let bad = |reason: String| CacheError::Key { path: key_path.clone(), reason };
    let io = |source| CacheError::Io { action: "read the code cache key", path: key_path.clone(), source };
    let meta = match dir.symlink_metadata(KEY_FILE) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    if !meta.is_file() {
        return Err(bad("it is not a regular file".into()));
    }
    #[cfg(unix)]
    {
        use cap_std::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(bad(format!("other users can access it (mode {mode:o}); it must be 600")));
        }
    }
    let bytes = dir.read(KEY_FILE).map_err(io)?;
    let secret: [u8; SECRET_LEN] =
        bytes.try_into().map_err(|b: Vec<u8>| bad(format!("it is {} bytes, expected {SECRET_LEN}", b.len())))?;
    Ok(Some(secret))
}
