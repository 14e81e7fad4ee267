//! The append-only, crash-safe receipt ledger (specified in `docs/ledger.md`).
//!
//! A ledger is a directory, opened through a `cap-std` capability handle:
//!
//! | entry               | content |
//! |---------------------|---------|
//! | `receipts.jsonl`    | one RFC 8785 receipt per line, seq 1, 2, 3… |
//! | `checkpoints.jsonl` | one Ed25519-signed checkpoint per line |
//! | `LOCK`              | held with an exclusive file lock by the one writer |
//! | `sha256/<hex>.wasm` | the content-addressed component store |
//!
//! Durability: an append writes its line(s) with one `write`, then `fdatasync`s the
//! file; only then is the receipt acknowledged (its seq returned). Files are created
//! with `O_EXCL` and the directory is fsynced after each creation. A failed write is
//! cut back before the error is returned, so a later append never lands after
//! garbage. [`Ledger::append_batch`] is group commit: many receipts, one fsync;
//! [`group::GroupWriter`] does that for concurrent callers.
//!
//! Recovery: opening for writing scans the whole file. A torn tail (the bytes after
//! the last whole, self-consistent receipt, when no later self-consistent receipt
//! exists) is cut, and a `ledger_repaired` receipt recording the cut is appended.
//! Damage followed by a self-consistent receipt is not a crash artifact: opening
//! refuses with [`LedgerError::Damaged`], naming the seq. A receipt that a signed
//! checkpoint covers was acknowledged, so it is never cut automatically either:
//! opening refuses with [`LedgerError::DamagedUnderCheckpoint`], and only the
//! operator's explicit [`Ledger::open_cutting_checkpointed`] cuts it, with a receipt
//! saying so.
//!
//! Readers ([`all_receipts`], [`receipts_of`], [`receipt()`], [`each_receipt`]) check
//! every line they read as `verify` does (without MACs) and refuse a damaged one
//! with [`LedgerError::Unreadable`], naming its seq and line.
//!
//! # Example
//!
//! ```
//! use andon_ledger::keys::HmacKey;
//! use andon_ledger::ledger::{Ledger, Options};
//! use andon_ledger::receipt::{Draft, Kind};
//!
//! let dir = tempfile::tempdir()?;
//! let key = HmacKey::from_bytes([3; 32]);
//! let mut ledger = Ledger::open(dir.path(), key.clone(), Options::default())?;
//! let mut draft = Draft::new(Kind::Reported);
//! draft.incident_id = Some("INC-1".into());
//! let first = ledger.append(draft)?;
//! assert_eq!(first.seq, 1);
//! drop(ledger);
//!
//! let report = andon_ledger::ledger::verify::verify(dir.path(), &andon_ledger::ledger::verify::VerifyOptions {
//!     keys: vec![key],
//!     ..Default::default()
//! }, &mut |_, _| {})?;
//! assert!(report.ok);
//! assert_eq!(report.head_hash, first.hash);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checkpoints;
pub mod group;
pub mod index;
pub mod log;
mod read;
mod repair;
pub mod scan;
mod strict;
mod tree;
mod tree_worker;
pub mod verify;
mod verify_log;
mod verify_tiles;

pub use checkpoints::SUPERSEDED_FILE;
pub use read::{all_receipts, each_receipt, live_checkpoints, receipt, receipts_of, record_checkpoint};
pub use tree::{LATEST_CHECKPOINT, LOG_CHECKPOINTS_DIR, ORIGIN_FILE, ORIGIN_PREFIX, origin};
pub use verify_log::LogReport;

use std::collections::{BTreeSet, HashMap};
use std::io::Read as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use ed25519_dalek::SigningKey;

use crate::checkpoint::Checkpoint;
use crate::keys::HmacKey;
use crate::receipt::{self, Body, Draft, Links, Repair};
use crate::store::{self, ComponentStore, sync_dir};
use scan::{Chain, ProblemKind, ScanOptions};

/// Receipt file name.
pub const RECEIPTS_FILE: &str = "receipts.jsonl";
/// Checkpoint file name.
pub const CHECKPOINTS_FILE: &str = "checkpoints.jsonl";
/// Writer lock file name.
pub const LOCK_FILE: &str = "LOCK";
/// A good [`Options::preallocate`] step: 4 MiB of zero padding at a time.
pub const PREALLOCATE: u64 = 4 << 20;
/// How long opening waits for the writer lock before reporting [`LedgerError::Busy`].
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// Default number of receipts between automatic checkpoints.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// Default longest time a durable receipt waits for a checkpoint while appends go on.
pub const DEFAULT_CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Result alias of this module.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Why the ledger could not be opened, read or appended to.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A file operation failed.
    #[error("ledger {}: cannot {action}", path.display())]
    Io {
        /// The ledger directory.
        path: PathBuf,
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another writer holds the lock.
    #[error("ledger {} is locked by another writer", path.display())]
    Busy {
        /// The ledger directory.
        path: PathBuf,
    },
    /// The directory is not a ledger (no `receipts.jsonl`).
    #[error("{} is not a ledger (it has no {RECEIPTS_FILE})", path.display())]
    NotALedger {
        /// The directory.
        path: PathBuf,
    },
    /// Damage that is not a torn tail: the ledger refuses to write after it.
    #[error("ledger {} is damaged at seq {seq} (line {line}): {kind:?}: {message}; it is not a torn tail, so it is not repaired (run `andon verify`)", path.display())]
    Damaged {
        /// The ledger directory.
        path: PathBuf,
        /// The seq of the bad place.
        seq: u64,
        /// Its line number.
        line: u64,
        /// What is wrong.
        kind: ProblemKind,
        /// Details.
        message: String,
    },
    /// Damage at or below the seq a signed checkpoint covers: those receipts were
    /// acknowledged, so they are never cut automatically.
    #[error("ledger {} is damaged at seq {seq} (line {line}): {kind:?}: {message}; checkpoint seq {checkpoint_seq} covers it, so it is never cut automatically (run `andon verify`; to cut it anyway, with a receipt saying so: `andon ledger repair {} --key … --signing-key … --cut-checkpointed-from {seq}`)", path.display(), path.display())]
    DamagedUnderCheckpoint {
        /// The ledger directory.
        path: PathBuf,
        /// The seq of the first damaged or missing receipt.
        seq: u64,
        /// Its line number.
        line: u64,
        /// What is wrong.
        kind: ProblemKind,
        /// Details.
        message: String,
        /// The highest seq a signed checkpoint covers.
        checkpoint_seq: u64,
    },
    /// A reader met a damaged line: nothing at or after it is read.
    #[error("ledger {} is damaged at seq {seq} (line {line}): {kind:?}: {message}; it is not read (run `andon verify`)", path.display())]
    Unreadable {
        /// The ledger directory.
        path: PathBuf,
        /// The seq the line should hold.
        seq: u64,
        /// Its line number.
        line: u64,
        /// What is wrong.
        kind: ProblemKind,
        /// Details.
        message: String,
    },
    /// An operator's cut of checkpointed receipts does not match the ledger (the
    /// seq given is not where the damage starts, or nothing is damaged).
    #[error("ledger {}: nothing is cut from seq {asked}: {reason}", path.display())]
    CutRefused {
        /// The ledger directory.
        path: PathBuf,
        /// The seq the operator gave.
        asked: u64,
        /// Why nothing was cut.
        reason: String,
    },
    /// A previous write failed and could not be cut back; the ledger refuses writes.
    #[error("ledger {} refuses writes after a failed write that could not be undone", path.display())]
    Poisoned {
        /// The ledger directory.
        path: PathBuf,
    },
    /// The receipt could not be built.
    #[error(transparent)]
    Receipt(#[from] receipt::ReceiptError),
    /// The component store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A checkpoint could not be read.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// The log (tree, tiles, checkpoint notes, proofs) does not check out, or a
    /// proof cannot be made.
    #[error("log: {0}")]
    Log(String),
    /// The group-commit writer failed or stopped (the message of the shared error).
    #[error("group commit: {0}")]
    GroupCommit(String),
}

/// How a ledger writes.
#[derive(Debug, Clone)]
pub struct Options {
    /// Write a checkpoint after this many receipts (0: never automatically, not
    /// even when the ledger is closed).
    pub checkpoint_every: u64,
    /// Write a checkpoint at the first append this long after the last one; the
    /// writer also checkpoints what is not yet covered when it is closed (dropped).
    pub checkpoint_interval: std::time::Duration,
    /// The Ed25519 key (id, key) that signs checkpoints; none: no checkpoints.
    pub signing_key: Option<(String, SigningKey)>,
    /// Zero-fill `receipts.jsonl` this many bytes ahead of the last receipt (0: off,
    /// the default). Appends then overwrite initialized blocks inside the file, so
    /// their `fdatasync` need not commit a size change (the trick SQLite's WAL gets
    /// from reusing its file), at the price of NUL padding at the end of the file,
    /// which readers must ignore (see docs/ledger.md).
    pub preallocate: u64,
    /// Keep the Merkle tree's tiles while appending (the default). Off, the tiles fall
    /// behind and are brought up to the receipts when a writer with it on opens the
    /// ledger, or at the next checkpoint; benchmarks use it as the baseline.
    pub tree: bool,
    /// The clock that stamps receipts (RFC 3339, UTC, milliseconds). The default is
    /// the system clock; a fixed clock makes a ledger byte-reproducible (the golden
    /// ledger test pins one).
    pub clock: fn() -> String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
            signing_key: None,
            preallocate: 0,
            tree: true,
            clock: receipt::rfc3339_now,
        }
    }
}

/// An acknowledged (durable) receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Appended {
    /// Its seq.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

/// The single writer of a ledger directory.
pub struct Ledger {
    path: PathBuf,
    dir: Dir,
    _lock: std::fs::File,
    receipts: std::fs::File,
    checkpoints: std::fs::File,
    /// End of the last whole receipt.
    len: u64,
    /// Size of the file: `len` plus zero padding (preallocated space).
    allocated: u64,
    chain: Chain,
    key: HmacKey,
    options: Options,
    last_checkpoint_seq: u64,
    last_checkpoint_at: std::time::Instant,
    last_note: Option<crate::note::Note>,
    tree: Option<tree_worker::TreeWorker>,
    store: ComponentStore,
    repaired: Option<Repair>,
    poisoned: bool,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.path)
            .field("seq", &self.chain.seq)
            .field("key_id", &self.key.key_id())
            .finish_non_exhaustive()
    }
}

pub(crate) fn open_dir(path: &Path) -> Result<Dir> {
    Dir::open_ambient_dir(path, ambient_authority()).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => LedgerError::NotALedger { path: path.into() },
        _ => LedgerError::Io { path: path.into(), action: "open the ledger directory".into(), source },
    })
}

impl Ledger {
    fn io(&self, action: impl Into<String>) -> impl FnOnce(std::io::Error) -> LedgerError {
        let (path, action) = (self.path.clone(), action.into());
        move |source| LedgerError::Io { path, action, source }
    }

    /// Opens (creating if needed) the ledger in `path` for writing receipts signed
    /// with `key`, repairing a torn tail that no checkpoint covers.
    ///
    /// # Errors
    /// [`LedgerError::Busy`] when another writer holds it, [`LedgerError::Damaged`] on damage that
    /// is not a torn tail, [`LedgerError::DamagedUnderCheckpoint`] on damage (or missing
    /// receipts) at a seq a checkpoint covers, [`LedgerError::Io`] and the others on failure.
    pub fn open(path: &Path, key: HmacKey, options: Options) -> Result<Ledger> {
        Ledger::open_with(path, key, options, repair::Cut::Never)
    }

    fn open_with(path: &Path, key: HmacKey, options: Options, cut: repair::Cut) -> Result<Ledger> {
        let io = |action: &str| {
            let (path, action) = (path.to_path_buf(), action.to_string());
            move |source| LedgerError::Io { path, action, source }
        };
        std::fs::create_dir_all(path).map_err(io("create the ledger directory"))?;
        let dir = open_dir(path)?;
        let lock = dir
            .open_with(LOCK_FILE, OpenOptions::new().read(true).write(true).create(true))
            .map_err(io("open LOCK"))?
            .into_std();
        // A writer that is closing (or a child process forked by another thread of
        // this process that has not exec'd yet, which briefly shares the lock) lets
        // go within moments: wait a little before reporting the ledger busy.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(LedgerError::Busy { path: path.into() }),
                Err(std::fs::TryLockError::Error(e)) => return Err(io("lock LOCK")(e)),
            }
        }
        let created = create_if_missing(&dir, RECEIPTS_FILE).map_err(io("create receipts.jsonl"))?
            | create_if_missing(&dir, CHECKPOINTS_FILE).map_err(io("create checkpoints.jsonl"))?;
        if created {
            sync_dir(&dir).map_err(io("sync the ledger directory"))?;
        }
        let store = ComponentStore::open_in(&dir, true)?;
        let mut append = OpenOptions::new();
        append.read(true).append(true);
        // Receipts are written at explicit offsets into preallocated space.
        let receipts = dir
            .open_with(RECEIPTS_FILE, OpenOptions::new().read(true).write(true))
            .map_err(io("open receipts.jsonl"))?
            .into_std();
        let checkpoints = dir.open_with(CHECKPOINTS_FILE, &append).map_err(io("open checkpoints.jsonl"))?.into_std();
        let allocated = receipts.metadata().map_err(io("stat receipts.jsonl"))?.len();
        let logical = scan::logical_len(&receipts).map_err(io("read receipts.jsonl"))?;

        let mut scan = scan::scan(
            (&receipts).take(logical),
            &ScanOptions { keys: None, wanted: &BTreeSet::new(), look_past_problem: true },
            &mut |_| {},
        )
        .map_err(io("read receipts.jsonl"))?;
        let listing = checkpoints::repair(&dir, &checkpoints).map_err(io("read checkpoints.jsonl"))?;
        let mut ledger = Ledger {
            path: path.into(),
            dir,
            _lock: lock,
            receipts,
            checkpoints,
            len: scan.good_len,
            allocated,
            chain: std::mem::take(&mut scan.chain),
            key,
            options,
            last_checkpoint_seq: listing.covered(),
            last_checkpoint_at: std::time::Instant::now(),
            last_note: None,
            tree: None,
            store,
            repaired: None,
            poisoned: false,
        };
        ledger.settle(&scan, &listing, cut)?;
        if ledger.options.tree {
            // Derived data: tiles that cannot be opened never stop the receipts.
            ledger.tree = match tree::Tree::open(&ledger.dir, path, ledger.chain.seq)
                .and_then(|tree| tree_worker::TreeWorker::spawn(tree, &ledger.dir, path))
            {
                Ok(worker) => Some(worker),
                Err(e) => {
                    tracing::warn!(
                        "ledger {}: the tiles cannot be kept ({e}); receipts are written, checkpoints will fail until `andon ledger repair`",
                        path.display()
                    );
                    None
                }
            };
        }
        Ok(ledger)
    }

    /// The ledger directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Seq of the last receipt (0 when empty).
    pub fn seq(&self) -> u64 {
        self.chain.seq
    }

    /// Hash of the last receipt ([`receipt::ZERO_HASH`] when empty).
    pub fn head_hash(&self) -> &str {
        &self.chain.head
    }

    /// Hash of the last receipt of `incident_id`, if any.
    pub fn incident_head(&self, incident_id: &str) -> Option<&str> {
        self.chain.incidents.get(incident_id).map(String::as_str)
    }

    /// The component store beside the receipts.
    pub fn store(&self) -> &ComponentStore {
        &self.store
    }

    /// The HMAC key id receipts are signed with.
    pub fn key_id(&self) -> &str {
        self.key.key_id()
    }

    /// What opening repaired, if anything.
    pub fn repaired(&self) -> Option<&Repair> {
        self.repaired.as_ref()
    }

    /// Appends one receipt and returns once it is durable.
    ///
    /// # Errors
    /// [`LedgerError::Receipt`] when the draft cannot be sealed, [`LedgerError::Io`] when the
    /// write or the fsync fails (nothing is acknowledged then), [`LedgerError::Poisoned`].
    pub fn append(&mut self, draft: Draft) -> Result<Appended> {
        Ok(self.append_batch(vec![draft])?.pop().expect("one receipt appended"))
    }

    /// Appends many receipts with one write and one fsync (group commit), in order.
    /// Either all are acknowledged or none is.
    ///
    /// # Errors
    /// As [`Ledger::append`].
    pub fn append_batch(&mut self, drafts: Vec<Draft>) -> Result<Vec<Appended>> {
        if self.poisoned {
            return Err(LedgerError::Poisoned { path: self.path.clone() });
        }
        let timestamp = (self.options.clock)();
        let mut seq = self.chain.seq;
        let mut head = self.chain.head.clone();
        let mut overlay: HashMap<String, String> = HashMap::new();
        let mut bytes = Vec::new();
        let mut appended = Vec::with_capacity(drafts.len());
        for draft in drafts {
            let incident_prev_hash = draft
                .incident_id
                .as_ref()
                .and_then(|id| overlay.get(id).or_else(|| self.chain.incidents.get(id)).cloned());
            let incident_id = draft.incident_id.clone();
            seq += 1;
            let body = Body::from_draft(
                draft,
                Links { seq, prev_hash: head, incident_prev_hash },
                self.key.key_id().into(),
                timestamp.clone(),
            );
            let sealed = receipt::seal(&body, &self.key)?;
            bytes.extend_from_slice(&sealed.line);
            head = sealed.hash.clone();
            if let Some(id) = incident_id {
                overlay.insert(id, sealed.hash.clone());
            }
            appended.push(Appended { seq, hash: sealed.hash });
        }
        let end = self.len + bytes.len() as u64;
        if end > self.allocated && self.options.preallocate > 0 {
            self.preallocate(end)?;
        }
        let written = self.receipts.write_all_at(&bytes, self.len).and_then(|()| self.receipts.sync_data());
        if let Err(source) = written {
            // Cut back whatever part of the batch reached the file.
            self.allocated = self.len;
            if self.receipts.set_len(self.len).and_then(|()| self.receipts.sync_all()).is_err() {
                self.poisoned = true;
            }
            return Err(LedgerError::Io { path: self.path.clone(), action: "append to receipts.jsonl".into(), source });
        }
        self.len += bytes.len() as u64;
        self.allocated = self.allocated.max(self.len);
        self.chain.seq = seq;
        self.chain.head = head;
        self.chain.incidents.extend(overlay);
        if let Some(tree) = &self.tree {
            // Durable now: the tree thread hashes and tiles them off this path.
            tree.push(bytes);
        }
        let behind = self.chain.seq.saturating_sub(self.last_checkpoint_seq);
        if self.options.checkpoint_every > 0
            && self.options.signing_key.is_some()
            && (behind >= self.options.checkpoint_every
                || (behind > 0 && self.last_checkpoint_at.elapsed() >= self.options.checkpoint_interval))
        {
            // The batch is durable already: a failed checkpoint must not make its
            // callers believe otherwise. The next batch tries again.
            if let Err(e) = self.checkpoint() {
                tracing::warn!("automatic checkpoint failed (the receipts are durable): {e}");
            }
        }
        Ok(appended)
    }

    /// Zero-fills the file up to at least `end` (in [`Options::preallocate`] steps) and syncs
    /// it, so appends overwrite initialized blocks inside the file and their
    /// `fdatasync` need not commit a size change.
    fn preallocate(&mut self, end: u64) -> Result<()> {
        let target = end.max(self.allocated + self.options.preallocate).next_multiple_of(4096);
        let zeros = vec![0u8; 1 << 20];
        let mut at = self.allocated;
        let mut fill = || -> std::io::Result<()> {
            while at < target {
                let n = (target - at).min(zeros.len() as u64) as usize;
                self.receipts.write_all_at(&zeros[..n], at)?;
                at += n as u64;
            }
            self.receipts.sync_all()
        };
        fill().map_err(self.io("preallocate receipts.jsonl"))?;
        self.allocated = target;
        Ok(())
    }

    /// Writes a checkpoint of the current head now and returns it: the chain-head
    /// checkpoint (`checkpoints.jsonl`) and the log's checkpoint note (tree size and
    /// root, `log-checkpoints/<size>` and `tiles/checkpoint`; see
    /// [`Ledger::last_note`]).
    ///
    /// # Errors
    /// [`LedgerError::Io`]; [`LedgerError::Checkpoint`] when no signing key was given.
    pub fn checkpoint(&mut self) -> Result<Checkpoint> {
        let Some((id, key)) = &self.options.signing_key else {
            return Err(crate::checkpoint::CheckpointError::Malformed(
                "no Ed25519 signing key was given to the ledger".into(),
            )
            .into());
        };
        let checkpoint = Checkpoint::sign(self.chain.seq, self.chain.head.clone(), id, key);
        // The note first: a chain-head checkpoint protects its receipts from any
        // automatic cut, so it is written once everything else of it is durable.
        let tree = match &mut self.tree {
            Some(tree) => tree,
            None => {
                let tree = tree::Tree::open(&self.dir, &self.path, self.chain.seq)?;
                self.tree.insert(tree_worker::TreeWorker::spawn(tree, &self.dir, &self.path)?)
            }
        };
        let extension = index::IncidentIndex::new(self.chain.incidents.iter()).extension();
        self.last_note = Some(tree.sign(self.chain.seq, key, vec![extension])?);
        if !self.options.tree {
            self.tree = None;
        }
        if let Err(source) = checkpoints::append(&self.checkpoints, &checkpoint.to_line()) {
            return Err(LedgerError::Io {
                path: self.path.clone(),
                action: "append to checkpoints.jsonl".into(),
                source,
            });
        }
        self.last_checkpoint_seq = self.chain.seq;
        self.last_checkpoint_at = std::time::Instant::now();
        Ok(checkpoint)
    }

    /// Compares every stored tile with the receipts and rebuilds the tiles when any
    /// differs or they cannot be read (the wrong ones are kept as
    /// `tiles.superseded-<n>`); `andon ledger repair` runs it. Returns whether it
    /// rebuilt.
    ///
    /// # Errors
    /// [`LedgerError::Io`] when the tiles cannot be moved or written.
    pub fn rebuild_tiles(&mut self) -> Result<bool> {
        // The thread finishes what it was sent before the tiles are judged.
        self.tree = None;
        let rebuilt = tree::rebuild_if_wrong(&self.dir, &self.path, self.chain.seq)?;
        let tree = tree::Tree::open(&self.dir, &self.path, self.chain.seq)?;
        self.tree = Some(tree_worker::TreeWorker::spawn(tree, &self.dir, &self.path)?);
        Ok(rebuilt)
    }

    /// The checkpoint note signed by the last [`Ledger::checkpoint`] of this writer.
    pub fn last_note(&self) -> Option<&crate::note::Note> {
        self.last_note.as_ref()
    }

    /// The HMAC key the receipts are sealed with.
    pub fn key(&self) -> &HmacKey {
        &self.key
    }

    /// The directory handle (for siblings such as exports).
    pub fn dir(&self) -> &Dir {
        &self.dir
    }
}

impl Drop for Ledger {
    /// Checkpoints what no checkpoint covers yet (with a signing key and automatic
    /// checkpoints on), so a closed ledger is never more than its last receipts
    /// behind its signed head.
    fn drop(&mut self) {
        if self.options.checkpoint_every > 0
            && self.options.signing_key.is_some()
            && !self.poisoned
            && self.chain.seq > self.last_checkpoint_seq
            && let Err(e) = self.checkpoint()
        {
            tracing::warn!("closing checkpoint failed (the receipts are durable): {e}");
        }
    }
}

/// Creates an empty file if it is missing; true when it was created.
fn create_if_missing(dir: &Dir, name: &str) -> std::io::Result<bool> {
    match dir.open_with(name, OpenOptions::new().write(true).create_new(true)) {
        Ok(file) => {
            file.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Longest receipt line any reader accepts (16 MiB): a receipt holds at most the
/// evidence (1 MiB), a decision (1 MiB of output per run) and its records.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Iterates the lines of a ledger's `receipts.jsonl` (each without its `\n`);
/// an unterminated last fragment is not returned.
///
/// # Errors
/// [`LedgerError::NotALedger`] or [`LedgerError::Io`].
pub fn read_lines(path: &Path) -> Result<impl Iterator<Item = Result<Vec<u8>>>> {
    let dir = open_dir(path)?;
    let file = match crate::store::open_regular(&dir, RECEIPTS_FILE) {
        Ok(file) => file.into_std(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LedgerError::NotALedger { path: path.into() });
        }
        Err(source) => return Err(LedgerError::Io { path: path.into(), action: "open receipts.jsonl".into(), source }),
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let path = path.to_path_buf();
    Ok(std::iter::from_fn(move || {
        let mut line = Vec::new();
        // Bounded: a line longer than any receipt can be is refused, not buffered.
        let mut limited = std::io::Read::take(&mut reader, MAX_LINE_BYTES as u64 + 1);
        match std::io::BufRead::read_until(&mut limited, b'\n', &mut line) {
            Ok(_) if line.len() > MAX_LINE_BYTES => Some(Err(LedgerError::Io {
                path: path.clone(),
                action: format!("read receipts.jsonl: a line is longer than {MAX_LINE_BYTES} bytes"),
                source: std::io::Error::from(std::io::ErrorKind::InvalidData),
            })),
            Ok(0) => None,
            Ok(_) if line.last() == Some(&b'\n') => {
                line.pop();
                Some(Ok(line))
            }
            Ok(_) => None,
            Err(source) => {
                Some(Err(LedgerError::Io { path: path.clone(), action: "read receipts.jsonl".into(), source }))
            }
        }
    }))
}
