//! The content-addressed component store: `sha256/<64 lowercase hex>.wasm` under the
//! ledger directory, opened through a capability handle so no name can reach
//! outside it.
//!
//! Names are validated as 64 lowercase hex digits before use. Writes go to a
//! temporary file that is fsynced, renamed into place and followed by an fsync of
//! the directory; reads verify the hash, so an altered file is reported, never used.
//!
//! # Example
//!
//! ```
//! use andon_ledger::store::ComponentStore;
//!
//! let dir = tempfile::tempdir()?;
//! let store = ComponentStore::open(dir.path(), true)?;
//! let hash = store.put(b"\0asm component bytes")?;
//! assert_eq!(store.get(&hash)?, b"\0asm component bytes");
//! assert!(store.get("../../etc/passwd").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write as _;
use std::path::Path;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

use andon_core::evidence::sha256_hex;

/// Name of the store directory inside a ledger directory.
pub const STORE_DIR: &str = "sha256";

/// Why the store could not deliver or keep a component.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Not 64 lowercase hex digits.
    #[error("`{0}` is not a component hash (64 lowercase hex digits)")]
    BadName(String),
    /// No such component in the store.
    #[error("component {0} is not in the store")]
    Missing(String),
    /// The stored bytes hash to something else.
    #[error("component bytes do not match their hash: {name}.wasm hashes to {actual}")]
    HashMismatch {
        /// The expected hash (the file name).
        name: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// An I/O error.
    #[error("component store: cannot {action}")]
    Io {
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let action = action.into();
    move |source| StoreError::Io { action, source }
}

/// True when `name` is 64 lowercase hex digits.
pub fn is_hash(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Opens `name` in `dir` for reading, only when it is a regular file: a FIFO or a
/// device would block or never end, and a reader must not hang on a ledger it was
/// handed.
pub(crate) fn open_regular(dir: &Dir, name: impl AsRef<std::path::Path>) -> std::io::Result<cap_std::fs::File> {
    let name = name.as_ref();
    if !dir.symlink_metadata(name)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", name.display()),
        ));
    }
    dir.open(name)
}

/// fsyncs a directory through its capability handle.
pub(crate) fn sync_dir(dir: &Dir) -> std::io::Result<()> {
    // The capability handle itself may be an `O_PATH` descriptor, which cannot be
    // fsynced; `.` opened through it is the same directory, readable.
    dir.open(".")?.sync_all()
}

/// A content-addressed store of component bytes.
#[derive(Debug)]
pub struct ComponentStore {
    dir: Dir,
}

impl ComponentStore {
    /// Opens the store inside the ledger directory `ledger_dir`, creating `sha256/`
    /// when `create` is true.
    ///
    /// # Errors
    /// [`StoreError::Io`].
    pub fn open(ledger_dir: &Path, create: bool) -> Result<ComponentStore, StoreError> {
        let parent = Dir::open_ambient_dir(ledger_dir, ambient_authority())
            .map_err(io(format!("open {}", ledger_dir.display())))?;
        ComponentStore::open_in(&parent, create)
    }

    /// Opens the store inside an already opened ledger directory.
    ///
    /// # Errors
    /// [`StoreError::Io`].
    pub fn open_in(parent: &Dir, create: bool) -> Result<ComponentStore, StoreError> {
        if create && !parent.is_dir(STORE_DIR) {
            parent.create_dir(STORE_DIR).map_err(io("create sha256/"))?;
            sync_dir(parent).map_err(io("sync the ledger directory"))?;
        }
        let dir = parent.open_dir(STORE_DIR).map_err(io("open sha256/"))?;
        Ok(ComponentStore { dir })
    }

    fn file_name(hash: &str) -> Result<String, StoreError> {
        if is_hash(hash) { Ok(format!("{hash}.wasm")) } else { Err(StoreError::BadName(hash.into())) }
    }

    /// Whether a file for `hash` exists (its bytes are not checked).
    pub fn contains(&self, hash: &str) -> bool {
        ComponentStore::file_name(hash).map(|name| self.dir.is_file(name)).unwrap_or(false)
    }

    /// Stores `bytes` durably and returns their hash. Already stored intact bytes
    /// are not rewritten; a stored file that no longer matches is replaced.
    ///
    /// # Errors
    /// [`StoreError::Io`].
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let hash = sha256_hex(bytes);
        let name = format!("{hash}.wasm");
        if self.get(&hash).is_ok() {
            return Ok(hash);
        }
        let temp = format!(".tmp-{hash}-{}", std::process::id());
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        let mut file = self.dir.open_with(&temp, &options).map_err(io(format!("create {temp}")))?;
        file.write_all(bytes).map_err(io(format!("write {temp}")))?;
        file.sync_all().map_err(io(format!("sync {temp}")))?;
        drop(file);
        self.dir.rename(&temp, &self.dir, &name).map_err(io(format!("rename {temp} to {name}")))?;
        sync_dir(&self.dir).map_err(io("sync sha256/"))?;
        Ok(hash)
    }

    /// Reads the component with `hash`, verifying that the bytes hash to it.
    ///
    /// # Errors
    /// [`StoreError::BadName`], [`StoreError::Missing`], [`StoreError::HashMismatch`] or
    /// [`StoreError::Io`].
    pub fn get(&self, hash: &str) -> Result<Vec<u8>, StoreError> {
        let name = ComponentStore::file_name(hash)?;
        let bytes = match self.dir.read(&name) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::Missing(hash.into())),
            Err(e) => return Err(io(format!("read {name}"))(e)),
        };
        let actual = sha256_hex(&bytes);
        if actual != hash {
            return Err(StoreError::HashMismatch { name: hash.into(), actual });
        }
        Ok(bytes)
    }
}
