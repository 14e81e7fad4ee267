//! The ledger's Merkle tree (C2SP tiles under `tiles/`) and its signed checkpoint
//! notes (under `log-checkpoints/`), kept by the writer (specified in `docs/log.md`).
//!
//! Leaves are pushed after the receipts' `fdatasync`: the receipts are the truth and
//! the tiles are derived from them. Full tiles are written when a leaf completes
//! them; partial tiles only when a checkpoint note is signed, so the tree costs the
//! append path a SHA-256 per receipt and two small durable writes per 256 receipts.
//! Opening brings the tiles up to the receipts (resume at the stored size, push the
//! missing lines); tiles that do not match the receipts (a cut below them) are moved
//! aside and rebuilt. A failed tile write never fails an append: the tree is
//! reopened from the store at the next checkpoint.

use std::path::Path;

use cap_std::fs::{Dir, OpenOptions};
use ed25519_dalek::SigningKey;

use super::{LedgerError, Result, read_lines};
use crate::note::{LogCheckpoint, Note, NoteSigner};
use crate::store::sync_dir;
use crate::tlog::{self, FileTileStore, Hash, TILES_DIR, TileReader, TileWriter};

/// Folder of a ledger holding every checkpoint note signed, one file per tree size
/// (`log-checkpoints/<size>`, decimal).
pub const LOG_CHECKPOINTS_DIR: &str = "log-checkpoints";
/// File of a ledger naming its log: the origin line of its checkpoints and the key
/// name of its signatures (one line, written once when the ledger is created).
pub const ORIGIN_FILE: &str = "origin";
/// The newest checkpoint note, inside `tiles/` (the C2SP tlog-tiles `<prefix>/checkpoint`).
pub const LATEST_CHECKPOINT: &str = "checkpoint";
/// The lock file of `log-checkpoints/` (held while a note is recorded).
const NOTES_LOCK: &str = ".lock";
/// Prefix of every generated origin; a random 16-hex-digit id follows.
pub const ORIGIN_PREFIX: &str = "andon.local/ledger-";
/// Most bytes of an origin file read.
const MAX_ORIGIN_BYTES: u64 = 256;

fn io(path: &Path, action: impl Into<String>) -> impl FnOnce(std::io::Error) -> LedgerError {
    let (path, action) = (path.to_path_buf(), action.into());
    move |source| LedgerError::Io { path, action, source }
}

fn tree_error(path: &Path, action: &str) -> impl FnOnce(tlog::TlogError) -> LedgerError {
    let (path, action) = (path.to_path_buf(), action.to_string());
    move |e| LedgerError::Io { path, action, source: std::io::Error::other(e) }
}

/// Reads the ledger's origin, creating it (random id) when `create` and missing.
///
/// # Errors
/// [`LedgerError::Io`] when it cannot be read or written, or is not a valid key name.
pub fn origin(dir: &Dir, path: &Path, create: bool) -> Result<String> {
    match crate::store::open_regular(dir, ORIGIN_FILE) {
        Ok(file) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_ORIGIN_BYTES + 1), &mut text)
                .map_err(io(path, "read origin"))?;
            let origin = text.strip_suffix('\n').unwrap_or(&text).to_string();
            if text.len() as u64 > MAX_ORIGIN_BYTES || !crate::note::is_key_name(&origin) {
                return Err(LedgerError::Log(format!(
                    "{}/{ORIGIN_FILE} is not a log origin (one line of at most {MAX_ORIGIN_BYTES} bytes, no spaces or `+`)",
                    path.display()
                )));
            }
            Ok(origin)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            // Notes already signed name the log: a lost origin file is restored from
            // the newest, never replaced by a new name.
            let origin = match newest_note_origin(dir) {
                Some(origin) => {
                    tracing::warn!(
                        "ledger {}: the origin file was missing; restored `{origin}` from the newest checkpoint note",
                        path.display()
                    );
                    origin
                }
                None => {
                    let mut id = [0u8; 8];
                    getrandom::fill(&mut id)
                        .map_err(|e| io(path, "draw a log id")(std::io::Error::other(e.to_string())))?;
                    format!("{ORIGIN_PREFIX}{}", hex::encode(id))
                }
            };
            write_atomic(dir, ORIGIN_FILE, format!("{origin}\n").as_bytes()).map_err(io(path, "write origin"))?;
            Ok(origin)
        }
        Err(e) => Err(io(path, "open origin")(e)),
    }
}

/// The origin line of the newest note in `log-checkpoints/`, if any.
pub(crate) fn newest_note_origin(dir: &Dir) -> Option<String> {
    let notes = dir.open_dir(LOG_CHECKPOINTS_DIR).ok()?;
    let file = crate::store::open_regular(&notes, newest_size(&notes)?.to_string()).ok()?;
    let note = Note::parse(&read_note_bytes(file).ok()?).ok()?;
    note.text().lines().next().filter(|o| crate::note::is_key_name(o)).map(str::to_string)
}

/// The tree size of the newest note in `log-checkpoints/` (opened as `notes`).
fn newest_size(notes: &Dir) -> Option<u64> {
    notes.entries().ok()?.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok()).max()
}

/// Reads an opened note file, at most [`crate::note::MAX_NOTE_BYTES`].
fn read_note_bytes(file: cap_std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, crate::note::MAX_NOTE_BYTES as u64), &mut bytes)?;
    Ok(bytes)
}

/// Writes `name` in `dir` durably and atomically (temporary file, fsync, rename,
/// directory fsync).
pub(crate) fn write_atomic(dir: &Dir, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = format!(".tmp-{name}-{}", std::process::id());
    let mut file = dir.open_with(&tmp, OpenOptions::new().write(true).create(true).truncate(true))?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.sync_all()?;
    dir.rename(&tmp, dir, name)?;
    sync_dir(dir)
}

/// The tree of a ledger being written.
pub(crate) struct Tree {
    path: std::path::PathBuf,
    writer: Option<TileWriter<FileTileStore>>,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("size", &self.writer.as_ref().map(TileWriter::size)).finish()
    }
}

impl Tree {
    /// Opens the tiles of the ledger at `path` and brings them up to its first
    /// `size` receipts.
    pub(crate) fn open(dir: &Dir, path: &Path, size: u64) -> Result<Tree> {
        let writer = open_writer(dir, path, size)?;
        sync_latest(dir, path)?;
        Ok(Tree { path: path.to_path_buf(), writer: Some(writer) })
    }

    /// Pushes the leaves of durable receipts. A tile write that fails is logged and
    /// the tree is reopened at the next checkpoint: the receipts are durable anyway.
    pub(crate) fn push(&mut self, leaves: &[Hash]) {
        let Some(writer) = self.writer.as_mut() else { return };
        for leaf in leaves {
            if let Err(e) = writer.push_leaf_hash(*leaf) {
                tracing::warn!("ledger {}: tile write failed (the receipts are durable): {e}", self.path.display());
                self.writer = None;
                return;
            }
        }
    }

    /// Flushes the tiles of the first `size` receipts and signs a checkpoint note of
    /// them (with `extensions`: the incident index) with `key` under the ledger's
    /// origin; records it in `log-checkpoints/` and as `tiles/checkpoint`.
    pub(crate) fn sign(&mut self, dir: &Dir, size: u64, key: &SigningKey, extensions: Vec<String>) -> Result<Note> {
        let writer = match &mut self.writer {
            Some(writer) if writer.size() == size => writer,
            _ => self.writer.insert(open_writer(dir, &self.path, size)?),
        };
        if let Err(e) = writer.flush() {
            self.writer = None;
            return Err(tree_error(&self.path, "write the tiles")(e));
        }
        let mut reader = TileReader::new(writer.store(), size);
        let root = tlog::root(&mut reader, size).map_err(tree_error(&self.path, "compute the tree root"))?;
        let origin = origin(dir, &self.path, true)?;
        let signer = NoteSigner::new(&origin, key.clone())
            .map_err(|e| io(&self.path, "sign a checkpoint note")(std::io::Error::other(e)))?;
        let note = LogCheckpoint { extensions, ..LogCheckpoint::new(&origin, size, root) }
            .sign(&signer)
            .map_err(|e| io(&self.path, "sign a checkpoint note")(std::io::Error::other(e)))?;
        record_note(dir, &self.path, size, &note, &origin)?;
        let tiles = dir.open_dir(TILES_DIR).map_err(io(&self.path, "open tiles"))?;
        write_atomic(&tiles, LATEST_CHECKPOINT, &note.to_bytes()).map_err(io(&self.path, "write tiles/checkpoint"))?;
        Ok(note)
    }
}

/// Makes `tiles/checkpoint` the newest stored note (a writer killed between
/// recording a note and replacing it left an older one there).
fn sync_latest(dir: &Dir, path: &Path) -> Result<()> {
    let Ok(notes) = dir.open_dir(LOG_CHECKPOINTS_DIR) else { return Ok(()) };
    let Some(newest) = newest_size(&notes) else { return Ok(()) };
    let Ok(file) = crate::store::open_regular(&notes, newest.to_string()) else { return Ok(()) };
    let bytes = read_note_bytes(file).map_err(io(path, "read the newest checkpoint note"))?;
    let tiles = dir.open_dir(TILES_DIR).map_err(io(path, "open tiles"))?;
    let current = crate::store::open_regular(&tiles, LATEST_CHECKPOINT).ok().and_then(|f| read_note_bytes(f).ok());
    if current.as_deref() != Some(&bytes[..]) {
        write_atomic(&tiles, LATEST_CHECKPOINT, &bytes).map_err(io(path, "write tiles/checkpoint"))?;
    }
    Ok(())
}

/// Records a checkpoint note of `size` in `log-checkpoints/`. A note of that size
/// already there must be of the same tree (same checkpoint text): the signatures
/// of `note` it lacks (witness cosignatures) are added to it.
pub(crate) fn record_note(dir: &Dir, path: &Path, size: u64, note: &Note, origin: &str) -> Result<()> {
    ensure_dir(dir, LOG_CHECKPOINTS_DIR).map_err(io(path, "create log-checkpoints"))?;
    let notes = dir.open_dir(LOG_CHECKPOINTS_DIR).map_err(io(path, "open log-checkpoints"))?;
    // Writers, exports and `andon cosigned` merge into the same files: one at a time.
    let lock = notes
        .open_with(NOTES_LOCK, OpenOptions::new().write(true).create(true).truncate(false))
        .map_err(io(path, "open log-checkpoints/.lock"))?
        .into_std();
    lock.lock().map_err(io(path, "lock log-checkpoints"))?;
    let name = size.to_string();
    LogCheckpoint::from_note(note, origin)
        .map_err(|e| io(path, "record a checkpoint note")(std::io::Error::other(e)))?;
    let Ok(existing) = notes.read(&name) else {
        return write_atomic(&notes, &name, &note.to_bytes()).map_err(io(path, "record a checkpoint note"));
    };
    let mut stored = match Note::parse(&existing) {
        Ok(stored) if stored.text() == note.text() => stored,
        _ => {
            return Err(LedgerError::Log(format!(
                "{LOG_CHECKPOINTS_DIR}/{name} holds a note of size {size} with another checkpoint: two trees of one size (the log forked; run `andon verify`)"
            )));
        }
    };
    let mut changed = false;
    for signature in note.signatures() {
        if !stored.signatures().contains(signature) {
            stored
                .add_signature(signature.clone())
                .map_err(|e| io(path, "merge cosignatures")(std::io::Error::other(e)))?;
            changed = true;
        }
    }
    if changed {
        write_atomic(&notes, &name, &stored.to_bytes()).map_err(io(path, "record a checkpoint note"))?;
    }
    Ok(())
}

/// Folder the checkpoint notes of sizes an operator's cut removed are moved to.
pub const SUPERSEDED_NOTES_DIR: &str = "log-checkpoints-superseded";

/// Moves the notes of trees larger than `size` (receipts an operator cut) to
/// [`SUPERSEDED_NOTES_DIR`]: they no longer describe this log, and a note of the
/// same size will be signed again over other receipts.
pub(crate) fn supersede_notes(dir: &Dir, size: u64) -> std::io::Result<()> {
    let notes = match dir.open_dir(LOG_CHECKPOINTS_DIR) {
        Ok(notes) => notes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    ensure_dir(dir, SUPERSEDED_NOTES_DIR)?;
    let aside = dir.open_dir(SUPERSEDED_NOTES_DIR)?;
    for entry in notes.entries()? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.parse::<u64>().is_ok_and(|n| n > size) {
            let target = (0..).map(|k| format!("{name}.{k}")).find(|t| !aside.exists(t)).expect("a free name");
            notes.rename(&name, &aside, &target)?;
        }
    }
    sync_dir(&aside)?;
    sync_dir(&notes)
}

fn ensure_dir(dir: &Dir, name: &str) -> std::io::Result<()> {
    match dir.create_dir(name) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Compares every stored tile with the first `size` receipts and, when any differs
/// (or the tiles cannot be read at all), moves them aside to `tiles.superseded-<n>`
/// and rebuilds them. Returns whether it rebuilt.
pub(crate) fn rebuild_if_wrong(dir: &Dir, path: &Path, size: u64) -> Result<bool> {
    let clean = FileTileStore::open_in(dir, path, true).ok().and_then(|store| {
        let lines = read_lines(path).ok()?.take(size as usize);
        let report = tlog::check(&store, lines).ok()?;
        // Tiles behind the receipts are written at the next checkpoint, not wrong.
        Some(report.problems.iter().all(|p| matches!(p.kind, tlog::TileProblemKind::Behind { .. })))
    });
    if clean == Some(true) {
        return Ok(false);
    }
    move_aside(dir, path)?;
    let store = FileTileStore::open_in(dir, path, true).map_err(tree_error(path, "open tiles"))?;
    let lines = read_lines(path)?.take(size as usize);
    tlog::rebuild(&store, lines).map_err(tree_error(path, "rebuild the tiles"))?;
    Ok(true)
}

/// Moves `tiles/` (file or folder) aside to the first free `tiles.superseded-<n>`.
fn move_aside(dir: &Dir, path: &Path) -> Result<()> {
    if !dir.exists(TILES_DIR) && dir.symlink_metadata(TILES_DIR).is_err() {
        return Ok(());
    }
    let aside =
        (1..).map(|n| format!("{TILES_DIR}.superseded-{n}")).find(|name| !dir.exists(name)).expect("a free name");
    tracing::warn!(
        "ledger {}: the stored tiles do not match the receipts; moved to {aside} and rebuilt",
        path.display()
    );
    dir.rename(TILES_DIR, dir, &aside).map_err(io(path, "move the stale tiles aside"))?;
    sync_dir(dir).map_err(io(path, "sync the ledger directory"))
}

/// A writer of the tiles of the first `size` receipts: the stored tiles resumed and
/// the missing leaves pushed; tiles that disagree with the receipts moved aside to
/// `tiles.superseded-<n>` and rebuilt.
fn open_writer(dir: &Dir, path: &Path, size: u64) -> Result<TileWriter<FileTileStore>> {
    let open = || FileTileStore::open_in(dir, path, true).map_err(tree_error(path, "open tiles"));
    match resume(open()?, path, size)? {
        Some(writer) => Ok(writer),
        None => {
            move_aside(dir, path)?;
            resume(open()?, path, size)?.ok_or_else(|| {
                io(path, "rebuild the tiles")(std::io::Error::other("fresh tiles do not match the receipts"))
            })
        }
    }
}

/// Resumes the tiles at what they store and pushes the receipts' leaves up to `size`;
/// `None` when the stored tiles disagree with the receipts.
fn resume(store: FileTileStore, path: &Path, size: u64) -> Result<Option<TileWriter<FileTileStore>>> {
    let stored = match tlog::stored_size(&store) {
        Ok(stored) if stored <= size => stored,
        Ok(_) | Err(tlog::TlogError::MalformedTile { .. }) => return Ok(None),
        Err(e) => return Err(tree_error(path, "read the tiles")(e)),
    };
    // The last stored leaf must be the leaf of that receipt.
    let last_stored = if stored > 0 {
        let mut reader = TileReader::new(&store, stored);
        match tlog::subtree_root(&mut reader, stored - 1, stored) {
            Ok(hash) => Some(hash),
            Err(_) => return Ok(None),
        }
    } else {
        None
    };
    let mut writer = match TileWriter::resume(store, stored) {
        Ok(writer) => writer,
        Err(tlog::TlogError::MalformedTile { .. } | tlog::TlogError::MissingTile { .. }) => return Ok(None),
        Err(e) => return Err(tree_error(path, "resume the tiles")(e)),
    };
    if stored == size && last_stored.is_none() {
        return Ok(Some(writer));
    }
    for (index, line) in (0..size).zip(read_lines(path)?) {
        let line = line?;
        if index + 1 == stored && last_stored != Some(tlog::leaf_hash(&line)) {
            return Ok(None);
        }
        if index >= stored {
            writer.push_line(&line).map_err(tree_error(path, "write the tiles"))?;
        }
    }
    if writer.size() != size {
        return Err(io(path, "read receipts.jsonl")(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("the tree needs {size} receipts, the file has {}", writer.size()),
        )));
    }
    Ok(Some(writer))
}
