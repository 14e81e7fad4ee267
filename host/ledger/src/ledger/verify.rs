//! `andon verify`: checks every hash, link, HMAC (with the keys) and checkpoint
//! signature (with the public key) of a ledger, read-only, in one streaming pass,
//! and names the first bad seq.

use std::collections::BTreeSet;
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::scan::{self, Problem, ProblemKind, ScanOptions};
use super::{LOCK_FILE, LedgerError, RECEIPTS_FILE, Result, open_dir};
use crate::checkpoint::{self, Checkpoint};
use crate::keys::HmacKey;
use crate::receipt::ZERO_HASH;

/// What to verify with.
#[derive(Debug, Default, Clone)]
pub struct VerifyOptions {
    /// HMAC keys (any receipt must name one of them); empty: MACs are not checked.
    pub keys: Vec<HmacKey>,
    /// The Ed25519 public key (id, key) of the checkpoints; none: checkpoint
    /// signatures are not checked (their consistency with the receipts still is).
    pub public_key: Option<(String, VerifyingKey)>,
    /// Checkpoints held by the verifier (from another source than the ledger).
    pub held: Vec<Checkpoint>,
    /// Checkpoint notes of the log held by the verifier (`--since`): the log must
    /// have only grown since each (needs `public_key`).
    pub since: Vec<Vec<u8>>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when no problem was found.
    pub ok: bool,
    /// Receipts verified (the good prefix).
    pub receipts: u64,
    /// Seq of the last good receipt.
    pub head_seq: u64,
    /// Hash of the last good receipt.
    pub head_hash: String,
    /// Size of `receipts.jsonl` without its zero padding.
    pub bytes: u64,
    /// Whether HMACs were checked.
    pub macs_checked: bool,
    /// Checkpoints found in `checkpoints.jsonl` and checked.
    pub ledger_checkpoints: u64,
    /// Held checkpoints checked.
    pub held_checkpoints: u64,
    /// Checkpoints in `checkpoints.jsonl` that an operator's cut superseded (not
    /// compared with the receipts; see `andon ledger repair`).
    pub superseded_checkpoints: u64,
    /// Whether checkpoint signatures were checked.
    pub checkpoint_signatures_checked: bool,
    /// True when a writer held the lock during verification; an unterminated
    /// fragment is then an append in flight, not a torn tail.
    pub writer_active: bool,
    /// Bytes of an in-flight append ignored because a writer was active.
    pub in_flight_bytes: u64,
    /// The smallest seq named by a problem.
    pub first_bad_seq: Option<u64>,
    /// Problems: the first problem of the receipt chain, then checkpoint problems.
    pub problems: Vec<Problem>,
    /// The log checks: tiles, checkpoint notes, held notes (docs/log.md).
    pub log: super::LogReport,
}

fn writer_active(dir: &cap_std::fs::Dir) -> bool {
    // Read-only: never create the lock file, only probe it.
    match crate::store::open_regular(dir, LOCK_FILE) {
        Ok(file) => matches!(file.into_std().try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// Verifies the ledger in `path`. `progress(done, total)` is called as bytes are
/// read.
///
/// # Errors
/// [`LedgerError::NotALedger`] or [`LedgerError::Io`]; findings are in the [`Report`], not
/// errors.
pub fn verify(path: &Path, options: &VerifyOptions, progress: &mut dyn FnMut(u64, u64)) -> Result<Report> {
    let io = |action: &str| {
        let (path, action) = (path.to_path_buf(), action.to_string());
        move |source| LedgerError::Io { path, action, source }
    };
    let dir = open_dir(path)?;
    let writer_active = writer_active(&dir);
    let receipts = match crate::store::open_regular(&dir, RECEIPTS_FILE) {
        Ok(file) => file.into_std(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LedgerError::NotALedger { path: path.into() });
        }
        Err(e) => return Err(io("open receipts.jsonl")(e)),
    };
    // Zero padding at the end is preallocated space, not content.
    let total = scan::logical_len(&receipts).map_err(io("read receipts.jsonl"))?;

    let mut problems = Vec::new();
    let mut checkpoints: Vec<(Option<u64>, Checkpoint)> = Vec::new();
    let mut superseded = 0;
    // Read under a shared lock of the file: no append is seen half written.
    let listing = super::checkpoints::read(&dir).map_err(io("read checkpoints.jsonl"))?.unwrap_or_default();
    for entry in &listing.entries {
        match &entry.parsed {
            // An operator cut the receipts it covered (see `andon ledger repair`).
            Ok(_) if entry.superseded => superseded += 1,
            Ok(c) => checkpoints.push((Some(entry.line), c.clone())),
            Err(e) => {
                problems.push(checkpoint_problem(ProblemKind::MalformedCheckpoint, 0, Some(entry.line), e.clone()));
            }
        }
    }
    if let Some((line, _)) = listing.fragment
        && !writer_active
    {
        problems.push(checkpoint_problem(
            ProblemKind::MalformedCheckpoint,
            0,
            Some(line),
            "the last checkpoint line is unterminated".into(),
        ));
    }
    checkpoints.extend(options.held.iter().cloned().map(|c| (None, c)));
    let wanted: BTreeSet<u64> = checkpoints.iter().map(|(_, c)| c.seq).collect();

    let keys = (!options.keys.is_empty()).then_some(options.keys.as_slice());
    // The Merkle tree's leaves are hashed on a second thread during the main pass.
    let (scan, tree) = std::thread::scope(|scope| {
        let tree = scope.spawn(|| super::verify_log::leaves(path));
        let scan = scan::scan(
            std::io::Read::take(&receipts, total),
            &ScanOptions { keys, wanted: &wanted, look_past_problem: false },
            &mut |done| progress(done, total),
        );
        (scan, tree.join())
    });
    let scan = scan.map_err(io("read receipts.jsonl"))?;
    let mut tree = tree.map_err(|_| LedgerError::Log("the tree thread panicked".into()))??;
    let mut in_flight_bytes = 0;
    let mut receipt_problem = scan.problem;
    if writer_active && matches!(&receipt_problem, Some(p) if p.kind == ProblemKind::TornTail) {
        in_flight_bytes = scan.fragment;
        receipt_problem = None;
    }
    // A checkpoint beyond a receipt problem cannot be compared: the problem is
    // already reported and located.
    let checked_up_to = if receipt_problem.is_some() { scan.chain.seq } else { u64::MAX };

    for (line, checkpoint) in &checkpoints {
        if let Some((id, key)) = &options.public_key
            && let Err(err) = checkpoint.verify(id, key)
        {
            let kind = match err {
                checkpoint::CheckpointError::WrongKey { .. } => ProblemKind::CheckpointWrongKey,
                checkpoint::CheckpointError::BadSignature { .. } => ProblemKind::CheckpointBadSignature,
                checkpoint::CheckpointError::Malformed(_) => ProblemKind::MalformedCheckpoint,
            };
            problems.push(checkpoint_problem(kind, checkpoint.seq, *line, origin(*line, err.to_string())));
            continue;
        }
        if checkpoint.seq > scan.chain.seq {
            if checkpoint.seq <= checked_up_to {
                problems.push(checkpoint_problem(
                    ProblemKind::MissingTail,
                    scan.chain.seq + 1,
                    *line,
                    origin(
                        *line,
                        format!(
                            "the ledger ends at seq {} but a checkpoint covers seq {} (truncated or rolled back)",
                            scan.chain.seq, checkpoint.seq
                        ),
                    ),
                ));
            }
            continue;
        }
        let actual = if checkpoint.seq == 0 {
            Some(ZERO_HASH)
        } else {
            scan.wanted_hashes.get(&checkpoint.seq).map(String::as_str)
        };
        if actual != Some(checkpoint.head_hash.as_str()) {
            problems.push(checkpoint_problem(
                ProblemKind::CheckpointMismatch,
                checkpoint.seq,
                *line,
                origin(
                    *line,
                    format!(
                        "checkpoint says seq {} has hash {} but the ledger has {} (rolled back or forked)",
                        checkpoint.seq,
                        checkpoint.head_hash,
                        actual.unwrap_or("(none)")
                    ),
                ),
            ));
        }
    }
    let (log, log_problems) = super::verify_log::check(
        path,
        &mut tree,
        scan.chain.seq,
        options.public_key.as_ref().map(|(_, key)| key),
        &options.since,
        writer_active,
        &scan.chain.incidents,
    )?;
    problems.extend(log_problems);
    if let Some(problem) = receipt_problem {
        problems.insert(0, problem);
    }
    let first_bad_seq = problems.iter().map(|p| p.seq).filter(|&s| s > 0).min();
    let held = options.held.len() as u64;
    Ok(Report {
        ok: problems.is_empty(),
        receipts: scan.chain.seq,
        head_seq: scan.chain.seq,
        head_hash: scan.chain.head,
        bytes: total,
        macs_checked: keys.is_some(),
        ledger_checkpoints: checkpoints.len() as u64 - held,
        held_checkpoints: held,
        superseded_checkpoints: superseded,
        checkpoint_signatures_checked: options.public_key.is_some(),
        writer_active,
        in_flight_bytes,
        first_bad_seq,
        problems,
        log,
    })
}

fn origin(line: Option<u64>, message: String) -> String {
    match line {
        Some(_) => message,
        None => format!("held checkpoint: {message}"),
    }
}

fn checkpoint_problem(kind: ProblemKind, seq: u64, line: Option<u64>, message: String) -> Problem {
    Problem { kind, seq, line, offset: None, message }
}
