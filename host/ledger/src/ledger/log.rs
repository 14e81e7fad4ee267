//! Reading a ledger as a publicly verifiable log: its checkpoint notes, inclusion
//! proofs of receipts and consistency proofs between notes (formats in
//! `docs/log.md`). Proofs are read from the tiles (O(log n) tile reads) when they
//! cover the note's tree, else computed from the receipt lines; every proof is
//! verified against the note's signed root before it is returned, so stale or
//! damaged tiles never yield a proof that does not hold.

use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};

use super::{LedgerError, Result, open_dir, read_lines};
use crate::note::{ConsistencyProof, LogCheckpoint, MAX_NOTE_BYTES, Note, NoteSigner, NoteVerifier, TlogProof};
use crate::tlog::{self, FileTileStore, MemoryTree, SubtreeSource, TILES_DIR, TileReader};

use super::tree::{LOG_CHECKPOINTS_DIR, origin};

/// A checkpoint note of a ledger, opened.
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    /// The checkpoint (origin, size, root).
    pub checkpoint: LogCheckpoint,
    /// The note as parsed (signatures and cosignatures kept).
    pub note: Note,
}

fn note_error(e: crate::note::NoteError) -> LedgerError {
    LedgerError::Log(e.to_string())
}

fn tree_error(e: tlog::TlogError) -> LedgerError {
    LedgerError::Log(e.to_string())
}

/// The note verifier of the ledger at `path` for the Ed25519 public `key`: the key
/// name is the ledger's origin (`origin` file).
///
/// # Errors
/// [`LedgerError::Io`] when the origin cannot be read; [`LedgerError::Log`].
pub fn verifier(path: &Path, key: &VerifyingKey) -> Result<NoteVerifier> {
    let dir = open_dir(path)?;
    let origin = origin(&dir, path, false)?;
    NoteVerifier::new(&origin, *key).map_err(note_error)
}

/// The checkpoint notes stored in `log-checkpoints/` (tree sizes), smallest first.
///
/// # Errors
/// [`LedgerError::Io`].
pub fn note_sizes(path: &Path) -> Result<Vec<u64>> {
    let dir = open_dir(path)?;
    let notes = match dir.open_dir(LOG_CHECKPOINTS_DIR) {
        Ok(notes) => notes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LedgerError::Io { path: path.into(), action: "open log-checkpoints".into(), source });
        }
    };
    let io = |source| LedgerError::Io { path: path.into(), action: "list log-checkpoints".into(), source };
    let mut sizes = Vec::new();
    for entry in notes.entries().map_err(io)? {
        if let Some(size) = entry.map_err(io)?.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
            sizes.push(size);
        }
    }
    sizes.sort_unstable();
    Ok(sizes)
}

/// Reads and verifies the stored note of tree size `size` with `verifier`.
///
/// # Errors
/// [`LedgerError::Io`]; [`LedgerError::Log`] when it does not verify.
pub fn read_note(path: &Path, size: u64, verifier: &NoteVerifier) -> Result<SignedCheckpoint> {
    let file = path.join(LOG_CHECKPOINTS_DIR).join(size.to_string());
    let bytes = crate::note::read_file(&file, MAX_NOTE_BYTES).map_err(note_error)?;
    open_note(&bytes, verifier)
}

/// Parses and verifies note `bytes` as a checkpoint of `verifier`'s log.
///
/// # Errors
/// [`LedgerError::Log`].
pub fn open_note(bytes: &[u8], verifier: &NoteVerifier) -> Result<SignedCheckpoint> {
    let (checkpoint, note) =
        LogCheckpoint::open(bytes, verifier.name(), std::slice::from_ref(verifier)).map_err(note_error)?;
    Ok(SignedCheckpoint { checkpoint, note })
}

/// The newest stored note, verified; `None` when none is stored.
///
/// # Errors
/// As [`read_note`].
pub fn latest_note(path: &Path, verifier: &NoteVerifier) -> Result<Option<SignedCheckpoint>> {
    match note_sizes(path)?.last() {
        Some(&size) => read_note(path, size, verifier).map(Some),
        None => Ok(None),
    }
}

/// Computes with `f` from the tiles when they hold the tree of `size`, else from
/// the first `size` receipt lines; `check` decides whether a result holds (it is
/// verified against the signed root), so bad tiles fall back to the lines.
fn from_tree<T>(
    path: &Path,
    size: u64,
    mut f: impl FnMut(&mut dyn SubtreeSource) -> tlog::Result<T>,
    check: impl Fn(&T) -> bool,
) -> Result<T> {
    if let Ok(store) = FileTileStore::open(&path.join(TILES_DIR), false)
        && tlog::stored_size(&store).is_ok_and(|stored| stored >= size)
        && let Ok(value) = f(&mut TileReader::new(&store, size))
        && check(&value)
    {
        return Ok(value);
    }
    let mut tree = MemoryTree::new();
    for line in read_lines(path)? {
        if tree.size() == size {
            break;
        }
        tree.push_line(&line?);
    }
    if tree.size() < size {
        return Err(LedgerError::Log(format!(
            "the tree has {size} leaves but the ledger has {} receipts",
            tree.size()
        )));
    }
    let value = f(&mut tree).map_err(tree_error)?;
    if !check(&value) {
        return Err(LedgerError::Log(format!(
            "the signed root of size {size} is not the root of the ledger's first {size} receipts (the log forked or is damaged: run `andon verify`)"
        )));
    }
    Ok(value)
}

/// The inclusion proof (C2SP tlog-proof) of receipt `seq` in the tree of `at`, a
/// verified checkpoint of this ledger. The receipt's line is returned with it.
///
/// # Errors
/// [`LedgerError::Log`] when `seq` is not in that tree or the tree does not match
/// the signed root; [`LedgerError::Io`].
pub fn prove(path: &Path, seq: u64, at: &SignedCheckpoint) -> Result<(TlogProof, Vec<u8>)> {
    let size = at.checkpoint.size;
    if seq == 0 || seq > size {
        return Err(LedgerError::Log(format!("receipt seq {seq} is not in the tree of size {size}")));
    }
    let line = read_lines(path)?
        .nth(usize::try_from(seq - 1).unwrap_or(usize::MAX))
        .ok_or_else(|| LedgerError::Log(format!("the ledger has no receipt seq {seq}")))??;
    let leaf = tlog::leaf_hash(&line);
    let root = at.checkpoint.root;
    let path_hashes = from_tree(
        path,
        size,
        |src| tlog::inclusion_proof(src, seq - 1, size),
        |proof| tlog::verify_inclusion(&leaf, seq - 1, size, proof, &root).is_ok(),
    )?;
    Ok((TlogProof { extra: None, index: seq - 1, path: path_hashes, checkpoint: at.note.clone() }, line))
}

/// The consistency proof from the tree of `old` to the tree of `new` (both verified
/// checkpoints of this ledger), as a tlog-witness `add-checkpoint` body.
///
/// # Errors
/// [`LedgerError::Log`] when `old` is larger than `new` or a root does not match.
pub fn consistency(path: &Path, old: &LogCheckpoint, new: &SignedCheckpoint) -> Result<ConsistencyProof> {
    let (m, n) = (old.size, new.checkpoint.size);
    if m > n {
        return Err(LedgerError::Log(format!("the old checkpoint (size {m}) is larger than the new one (size {n})")));
    }
    let (old_root, new_root) = (old.root, new.checkpoint.root);
    // Name the note that is not of this ledger before trying to link the two.
    for (which, size, root) in [("newer", n, new_root), ("older", m, old_root)] {
        if size > 0 && from_tree(path, size, |src| tlog::root(src, size), |r| *r == root).is_err() {
            return Err(LedgerError::Log(format!(
                "the {which} checkpoint (size {size}) is not of this ledger's log: its root is not the root of the ledger's first {size} receipts (a fork, or another ledger)"
            )));
        }
    }
    let proof = if m == 0 || m == n {
        if (m == 0 && old_root != tlog::EMPTY_ROOT) || (m == n && old_root != new_root) {
            return Err(LedgerError::Log(format!("two checkpoints of size {m} have different roots: the log forked")));
        }
        Vec::new()
    } else {
        from_tree(
            path,
            n,
            |src| tlog::consistency_proof(src, m, n),
            |proof| tlog::verify_consistency(m, n, &old_root, &new_root, proof).is_ok(),
        )?
    };
    Ok(ConsistencyProof { old_size: m, path: proof, checkpoint: new.note.clone() })
}

/// Signs a checkpoint note of the first `size` receipts, whose tree root is `root`
/// (with `extensions` lines, e.g. the incident index),
/// with `key` under the ledger's origin (creating the origin file of a ledger that
/// has none), for a reader such as an export that found no note covering what it
/// hands out; the writer signs its own notes at each checkpoint. [`record_note`]
/// stores it.
///
/// # Errors
/// [`LedgerError::Io`] or [`LedgerError::Log`].
pub fn sign_note(
    path: &Path,
    size: u64,
    root: tlog::Hash,
    extensions: Vec<String>,
    key: &SigningKey,
) -> Result<SignedCheckpoint> {
    let dir = open_dir(path)?;
    let origin = origin(&dir, path, true)?;
    let signer = NoteSigner::new(&origin, key.clone()).map_err(note_error)?;
    let checkpoint = LogCheckpoint { extensions, ..LogCheckpoint::new(&origin, size, root) };
    let note = checkpoint.sign(&signer).map_err(note_error)?;
    Ok(SignedCheckpoint { checkpoint, note })
}

/// Records a signed note in the ledger's `log-checkpoints/`. A stored note of that
/// size must have the same root (it is kept as it is, with its cosignatures).
///
/// # Errors
/// [`LedgerError::Io`]; a stored note of that size with another root is an error
/// (the log forked).
pub fn record_note(path: &Path, signed: &SignedCheckpoint) -> Result<()> {
    let dir = open_dir(path)?;
    super::tree::record_note(&dir, path, signed.checkpoint.size, &signed.note, &signed.checkpoint.origin)
}

/// Checks that a verified note is of this ledger's log: its tree is the tree of the
/// ledger's first receipts (not beyond them, the same root).
///
/// # Errors
/// [`LedgerError::Log`] naming what differs.
pub fn check_note(path: &Path, signed: &SignedCheckpoint) -> Result<()> {
    let size = signed.checkpoint.size;
    let root = signed.checkpoint.root;
    let computed = from_tree(path, size, |src| tlog::root(src, size), |r| *r == root)?;
    debug_assert_eq!(computed, root);
    Ok(())
}
