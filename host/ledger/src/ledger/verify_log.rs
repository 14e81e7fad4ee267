//! The log part of `andon verify`: the Merkle tree of the receipts recomputed (on a
//! second thread, while the main pass checks the chain), the stored tiles compared
//! with it, every stored checkpoint note verified (signature with the public key,
//! root against the receipts it covers), and each held note (`--since`) shown to be
//! a prefix of the newest one by a consistency proof.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::log::{self as ledger_log, SignedCheckpoint};
use super::scan::{Problem, ProblemKind};
use super::{Result, read_lines};
use crate::note::{ConsistencyProof, NoteVerifier};
use crate::tlog::{self, FileTileStore, MemoryTree, TILES_DIR};

/// What the log checks of a verification covered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogReport {
    /// The log's origin (`origin` file), when it has one.
    pub origin: Option<String>,
    /// Tiles compared with the receipts.
    pub tiles_checked: u64,
    /// Checkpoint notes whose root was compared with the receipts.
    pub notes_checked: u64,
    /// Incident indexes recomputed from the receipts (of the note at the head).
    pub indexes_checked: u64,
    /// Whether note signatures were checked (with the public key).
    pub note_signatures_checked: bool,
    /// Held notes shown to be prefixes of the newest stored note's log.
    pub since_checked: u64,
}

/// The Merkle tree of the first whole lines of `receipts.jsonl` (all of them; the
/// caller uses the prefix it verified).
pub(super) fn leaves(path: &Path) -> Result<MemoryTree> {
    let mut tree = MemoryTree::new();
    for line in read_lines(path)? {
        tree.push_line(&line?);
    }
    Ok(tree)
}

fn problem(kind: ProblemKind, seq: u64, message: String) -> Problem {
    Problem { kind, seq, line: None, offset: None, message }
}

/// Checks tiles, stored notes and held notes against the tree of the first `size`
/// receipts (`tree` may hold more leaves: a writer appended meanwhile, or damage
/// follows them).
pub(super) fn check(
    path: &Path,
    tree: &mut MemoryTree,
    size: u64,
    public_key: Option<&VerifyingKey>,
    since: &[Vec<u8>],
    writer_active: bool,
    heads: &super::scan::IncidentHeads,
) -> Result<(LogReport, Vec<Problem>)> {
    let mut report = LogReport::default();
    let mut problems = Vec::new();
    let size = size.min(tree.size());

    // Tiles: derived data, but a verifier names any that disagree.
    if let Ok(store) = FileTileStore::open(&path.join(TILES_DIR), false) {
        let leaves = tree.leaf_hashes()[..size as usize].iter().copied();
        match tlog::check_leaves(&store, leaves) {
            Ok(tiles) => {
                report.tiles_checked = tiles.tiles_checked;
                for p in tiles.problems {
                    // A writer flushes partial tiles only at checkpoints.
                    let benign = matches!(p.kind, tlog::TileProblemKind::Behind { .. })
                        || (writer_active && matches!(p.kind, tlog::TileProblemKind::Ahead { .. }));
                    if !benign {
                        let what = match p.kind {
                            tlog::TileProblemKind::Missing => "missing".to_string(),
                            tlog::TileProblemKind::Mismatch => "its hashes are not the receipts' hashes".to_string(),
                            tlog::TileProblemKind::Behind { stored } => {
                                format!("holds {stored} hashes, fewer than the receipts'")
                            }
                            tlog::TileProblemKind::Ahead { stored } => {
                                format!("holds {stored} hashes beyond the receipts (cut, or another log's)")
                            }
                        };
                        problems.push(problem(
                            ProblemKind::TileMismatch,
                            0,
                            format!("tiles/{}: {what}", p.tile.path()),
                        ));
                    }
                }
            }
            Err(e) => problems.push(problem(ProblemKind::TileMismatch, 0, format!("tiles: {e}"))),
        }
        // Every stored version, as any tlog-tiles client may read them (a writer
        // appending meanwhile legitimately stores tiles beyond this pass's size).
        if !writer_active {
            for (tile, what) in super::verify_tiles::check(&path.join(TILES_DIR), tree, size, 64) {
                let problem = problem(ProblemKind::TileMismatch, 0, format!("tiles/{tile}: {what}"));
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
        }
    }

    let dir = super::open_dir(path)?;
    let origin = match super::tree::origin(&dir, path, false) {
        Ok(origin) => origin,
        // Notes exist but the origin file is gone: said, and the notes' own origin used.
        Err(_) if let Some(origin) = super::tree::newest_note_origin(&dir) => {
            problems.push(problem(
                ProblemKind::NoteInvalid,
                0,
                format!("the origin file is missing or unreadable; the checkpoint notes name the log `{origin}`"),
            ));
            origin
        }
        Err(_) if since.is_empty() => return Ok((report, problems)),
        Err(e) => {
            problems.push(problem(ProblemKind::NoteInvalid, 0, format!("no log origin to check --since against: {e}")));
            return Ok((report, problems));
        }
    };
    report.origin = Some(origin.clone());
    let verifier = public_key
        .map(|key| NoteVerifier::new(&origin, *key))
        .transpose()
        .map_err(|e| super::LedgerError::Log(format!("origin `{origin}` is not a key name: {e}")))?;
    report.note_signatures_checked = verifier.is_some();

    // Stored notes: signed by the key, of this origin, with the root of the receipts.
    let mut newest: Option<SignedCheckpoint> = None;
    for at in ledger_log::note_sizes(path)? {
        let file = path.join(super::LOG_CHECKPOINTS_DIR).join(at.to_string());
        let opened = match &verifier {
            Some(v) => ledger_log::read_note(path, at, v).map_err(|e| e.to_string()),
            None => crate::note::read_file(&file, crate::note::MAX_NOTE_BYTES)
                .and_then(|bytes| crate::note::Note::parse(&bytes))
                .and_then(|note| {
                    Ok(SignedCheckpoint { checkpoint: crate::note::LogCheckpoint::from_note(&note, &origin)?, note })
                })
                .map_err(|e| e.to_string()),
        };
        let signed = match opened {
            Ok(signed) if signed.checkpoint.size == at => signed,
            Ok(signed) => {
                problems.push(problem(
                    ProblemKind::NoteInvalid,
                    at,
                    format!("log-checkpoints/{at} holds a note of size {}", signed.checkpoint.size),
                ));
                continue;
            }
            Err(e) => {
                problems.push(problem(ProblemKind::NoteInvalid, at, format!("log-checkpoints/{at}: {e}")));
                continue;
            }
        };
        if at > size {
            if !writer_active || at > tree.size() {
                problems.push(problem(
                    ProblemKind::MissingTail,
                    size + 1,
                    format!("the note of size {at} covers receipts the ledger does not have (it ends at {size}): truncated or rolled back"),
                ));
            }
            continue;
        }
        let root = tlog::root(tree, at).map_err(|e| super::LedgerError::Log(e.to_string()))?;
        report.notes_checked += 1;
        if root != signed.checkpoint.root {
            problems.push(problem(
                ProblemKind::NoteMismatch,
                at,
                format!(
                    "the note of size {at} has another root than the ledger's first {at} receipts (forked or rewritten)"
                ),
            ));
            continue;
        }
        // The incident index of a note at the head is recomputed from the chain's
        // incident heads (older notes' indexes are not: the pass keeps only the last).
        if at == size {
            let mut index = super::index::IncidentIndex::new(heads.iter());
            match super::index::committed(&signed.checkpoint) {
                Ok(Some((count, root))) if count == index.len() && root == index.root() => {
                    report.indexes_checked += 1;
                }
                Ok(None) => {}
                Ok(Some(_)) | Err(_) => problems.push(problem(
                    ProblemKind::NoteMismatch,
                    at,
                    format!("the note of size {at} commits to another incident index than the receipts'"),
                )),
            }
        }
        newest = Some(signed);
    }

    // tiles/checkpoint, what the tile API serves, is one of the stored notes.
    let latest = path.join(TILES_DIR).join(super::LATEST_CHECKPOINT);
    if std::fs::symlink_metadata(&latest).is_ok() {
        let served = crate::note::read_file(&latest, crate::note::MAX_NOTE_BYTES)
            .and_then(|bytes| crate::note::Note::parse(&bytes))
            .map_err(|e| e.to_string())
            .and_then(|note| {
                if let Some(v) = &verifier {
                    note.verify(std::slice::from_ref(v)).map_err(|e| e.to_string())?;
                }
                let checkpoint = crate::note::LogCheckpoint::from_note(&note, &origin).map_err(|e| e.to_string())?;
                let stored = crate::note::read_file(
                    &path.join(super::LOG_CHECKPOINTS_DIR).join(checkpoint.size.to_string()),
                    crate::note::MAX_NOTE_BYTES,
                )
                .and_then(|bytes| crate::note::Note::parse(&bytes))
                .map_err(|_| format!("no stored note of its size {}", checkpoint.size))?;
                if stored.text() != note.text() {
                    return Err(format!("it differs from log-checkpoints/{}", checkpoint.size));
                }
                // An older stored note is stale, not false: a writer killed between
                // recording a note and replacing this file leaves it so, and the next
                // writer to open the ledger brings it up to date.
                Ok(())
            });
        if let Err(e) = served {
            problems.push(problem(
                ProblemKind::NoteInvalid,
                0,
                format!("tiles/checkpoint (served as /checkpoint): {e}"),
            ));
        }
    }

    // Held notes: the log only grew since each, proven by a consistency proof to the
    // newest stored note (or to the whole verified tree when none is stored).
    for bytes in since {
        let Some(verifier) = &verifier else { break };
        let held = match ledger_log::open_note(bytes, verifier) {
            Ok(held) => held,
            Err(e) => {
                problems.push(problem(ProblemKind::NoteInvalid, 0, format!("held note (--since): {e}")));
                continue;
            }
        };
        let (m, n) = (held.checkpoint.size, newest.as_ref().map_or(size, |s| s.checkpoint.size));
        let new_root = tlog::root(tree, n).map_err(|e| super::LedgerError::Log(e.to_string()))?;
        let consistent = if m == 0 || m == n {
            // RFC 9162 leaves these to the roots themselves (tlog-witness: M = 0).
            let expected = if m == 0 { tlog::EMPTY_ROOT } else { new_root };
            held.checkpoint.root == expected
        } else {
            m < n
                && tlog::consistency_proof(tree, m, n).ok().is_some_and(|path| {
                    let proof = ConsistencyProof { old_size: m, path, checkpoint: held.note.clone() };
                    tlog::verify_consistency(m, n, &held.checkpoint.root, &new_root, &proof.path).is_ok()
                })
        };
        if consistent {
            report.since_checked += 1;
        } else {
            problems.push(problem(
                ProblemKind::NotConsistent,
                m.min(size + 1).max(1),
                format!(
                    "the held note of size {m} is not a prefix of this ledger's log of size {n}: the log was rewritten, rolled back or forked"
                ),
            ));
        }
    }
    Ok((report, problems))
}
