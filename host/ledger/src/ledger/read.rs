//! Ledger readers: every receipt, one incident's receipts, one receipt by seq, and
//! the live checkpoints. They read the file as it is (no writer lock, no repair),
//! so they serve auditors, exports and reports while a writer appends; an
//! unterminated last fragment (an append in flight) is not read.
//!
//! Every line read is checked as `andon verify` checks it (without MACs): a strict
//! RFC 8785 receipt line, its hash over its body, its seq, `prev_hash` and
//! `incident_prev_hash` links. A reader never skips a line: the first damaged one
//! stops it with [`LedgerError::Unreadable`], naming its seq and line, so nothing
//! built from a damaged ledger (an output, an export) can look whole.

use std::path::Path;

use super::checkpoints::{self, open_for_append};
use super::scan::{Chain, ProblemKind};
use super::{LedgerError, Result, open_dir, read_lines};
use crate::checkpoint::Checkpoint;
use crate::receipt::StoredReceipt;

/// Reads the receipts of the ledger at `path` in order, checking each line, and
/// hands each one (its stored line without `\n`, and its parsed form) to `visit`
/// until `visit` returns false. Returns the seq of the last receipt read.
///
/// # Errors
/// [`LedgerError::Unreadable`] at the first damaged line; [`LedgerError::NotALedger`]
/// or [`LedgerError::Io`] when the ledger cannot be read.
pub fn each_receipt(path: &Path, mut visit: impl FnMut(&[u8], StoredReceipt) -> bool) -> Result<u64> {
    let mut chain = Chain::default();
    for (index, line) in read_lines(path)?.enumerate() {
        let line = line?;
        let line_no = index as u64 + 1;
        let damaged = |kind, message| LedgerError::Unreadable {
            path: path.to_path_buf(),
            seq: line_no,
            line: line_no,
            kind,
            message,
        };
        chain.check(&line, None).map_err(|(kind, message)| damaged(kind, message))?;
        let receipt = StoredReceipt::parse(&line).map_err(|e| damaged(ProblemKind::Malformed, e.to_string()))?;
        if !visit(&line, receipt) {
            break;
        }
    }
    Ok(chain.seq)
}

/// Every receipt of incident `id` in the ledger at `path`, in chain order.
///
/// # Errors
/// As [`each_receipt`].
pub fn receipts_of(path: &Path, id: &str) -> Result<Vec<StoredReceipt>> {
    let mut out = Vec::new();
    each_receipt(path, |_, r| {
        if r.body.incident_id.as_deref() == Some(id) {
            out.push(r);
        }
        true
    })?;
    Ok(out)
}

/// Every receipt of the ledger at `path`, in order.
///
/// # Errors
/// As [`each_receipt`]: a damaged line anywhere is refused, never skipped.
pub fn all_receipts(path: &Path) -> Result<Vec<StoredReceipt>> {
    let mut out = Vec::new();
    each_receipt(path, |_, r| {
        out.push(r);
        true
    })?;
    Ok(out)
}

/// The stored line of receipt `seq` (without its newline), if the ledger has it.
/// Receipt `seq` is line `seq`; every line up to it is checked.
///
/// # Errors
/// As [`each_receipt`], for a damaged line up to `seq`.
pub fn receipt(path: &Path, seq: u64) -> Result<Option<Vec<u8>>> {
    let mut found = None;
    each_receipt(path, |line, r| {
        if r.body.seq == seq {
            found = Some(line.to_vec());
        }
        r.body.seq < seq
    })?;
    Ok(found)
}

/// The checkpoints of the ledger at `path` that count (whole, readable, not
/// superseded by an operator's cut), in file order. Read them before the
/// receipts: a checkpoint is written only once the receipts it covers are.
///
/// # Errors
/// [`LedgerError::NotALedger`] or [`LedgerError::Io`].
pub fn live_checkpoints(path: &Path) -> Result<Vec<Checkpoint>> {
    let dir = open_dir(path)?;
    let listing = checkpoints::read(&dir)
        .map_err(|source| LedgerError::Io { path: path.into(), action: "read checkpoints.jsonl".into(), source })?
        .ok_or_else(|| LedgerError::NotALedger { path: path.into() })?;
    Ok(listing.live().filter_map(|e| e.parsed.clone().ok()).collect())
}

/// Appends `checkpoint`, which the caller signed, to the ledger at `path` without
/// taking the writer lock (appends to `checkpoints.jsonl` are serialized by a lock
/// of that file, so a running writer is no obstacle). The caller vouches that the
/// ledger's receipt `checkpoint.seq` has `checkpoint.head_hash` (`andon export`
/// checks it with the readers first); `verify` checks it again.
///
/// # Errors
/// [`LedgerError::Io`] when the file cannot be written.
pub fn record_checkpoint(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let io = |action: &str| {
        let (path, action) = (path.to_path_buf(), action.to_string());
        move |source| LedgerError::Io { path, action, source }
    };
    let dir = open_dir(path)?;
    let file = open_for_append(&dir).map_err(io("open checkpoints.jsonl"))?;
    checkpoints::append(&file, &checkpoint.to_line()).map_err(io("append to checkpoints.jsonl"))
}
