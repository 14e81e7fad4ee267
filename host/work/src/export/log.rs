//! The log proofs of an evidence bundle: `log/checkpoint`, a checkpoint note of the
//! ledger's Merkle tree (C2SP tlog-checkpoint, Ed25519 signed note) covering every
//! exported receipt, and `log/proofs/<seq>.tlog-proof`, the C2SP tlog-proof of each
//! exported receipt in that tree. An auditor checks them with the public key alone
//! (`docs/log.md`, `docs/incidents.md`).

use std::collections::BTreeSet;
use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::bundle::archive::BundleFiles;
use andon_ledger::ledger::log::{self as ledger_log, SignedCheckpoint};
use andon_ledger::note::{LogCheckpoint, Note, NoteVerifier, TlogProof};
use andon_ledger::receipt::StoredReceipt;
use andon_ledger::tlog::{self, MemoryTree};

use super::ExportError;
use super::audit::Findings;

/// Name of the log checkpoint note in an evidence bundle.
pub const LOG_CHECKPOINT: &str = "log/checkpoint";
/// Folder of the inclusion proofs in an evidence bundle (`<seq>.tlog-proof`).
pub const LOG_PROOFS: &str = "log/proofs/";

/// Most stored notes an export considers (the newest that cover it).
const MAX_CANDIDATE_NOTES: usize = 64;

/// The name of the proof file of receipt `seq`.
pub fn proof_name(seq: u64) -> String {
    format!("{LOG_PROOFS}{seq}.tlog-proof")
}

/// A note of the ledger's tree to prove the export against: the newest stored note
/// whose tree holds `last_seq` and no more than the receipts read (its root must be
/// the root of `tree`: anything else is a fork), else a new note of the whole `tree`
/// signed with `key` (`new` is true: record it once the export is checked).
pub(super) fn choose_note(
    ledger_dir: &Path,
    tree: &mut MemoryTree,
    last_seq: u64,
    key: &SigningKey,
) -> Result<(SignedCheckpoint, bool), ExportError> {
    let inconsistent = |problem: String| ExportError::Inconsistent {
        incident_id: String::new(),
        location: andon_ledger::ledger::LOG_CHECKPOINTS_DIR.into(),
        problem,
    };
    let size = tree.size();
    if let Ok(verifier) = ledger_log::verifier(ledger_dir, &key.verifying_key()) {
        let sizes = ledger_log::note_sizes(ledger_dir)?;
        // Of the notes that cover the export, the most cosigned one, else the newest.
        let mut best: Option<SignedCheckpoint> = None;
        for &at in sizes.iter().rev().filter(|&&s| s >= last_seq && s <= size).take(MAX_CANDIDATE_NOTES) {
            let note = ledger_log::read_note(ledger_dir, at, &verifier)?;
            let root = tlog::root(tree, at).map_err(|e| inconsistent(e.to_string()))?;
            if root != note.checkpoint.root {
                return Err(inconsistent(format!(
                    "the signed note of size {at} has another root than the ledger's first {at} receipts (the log forked or is damaged)"
                )));
            }
            if best.as_ref().is_none_or(|b| note.note.signatures().len() > b.note.signatures().len()) {
                best = Some(note);
            }
        }
        if let Some(best) = best {
            return Ok((best, false));
        }
    }
    let root = tlog::root(tree, size).map_err(|e| inconsistent(e.to_string()))?;
    Ok((ledger_log::sign_note(ledger_dir, size, root, key)?, true))
}

/// Adds `log/checkpoint` and one inclusion proof per exported receipt.
pub(super) fn add_proofs(
    files: &mut BundleFiles,
    tree: &mut MemoryTree,
    note: &SignedCheckpoint,
    receipts: &[StoredReceipt],
) -> Result<(), ExportError> {
    let size = note.checkpoint.size;
    files.insert(LOG_CHECKPOINT.into(), note.note.to_bytes());
    for receipt in receipts {
        let seq = receipt.body.seq;
        let path = tlog::inclusion_proof(tree, seq - 1, size).map_err(|e| ExportError::Inconsistent {
            incident_id: receipt.body.incident_id.clone().unwrap_or_default(),
            location: proof_name(seq),
            problem: e.to_string(),
        })?;
        let proof = TlogProof { extra: None, index: seq - 1, path, checkpoint: note.note.clone() };
        files.insert(proof_name(seq), proof.to_bytes());
    }
    Ok(())
}

/// What the log checks of an audit found, for the report.
#[derive(Debug, Clone, Default)]
pub(super) struct LogFindings {
    /// The log's origin (the checkpoint's first line).
    pub origin: Option<String>,
    /// The checkpoint's tree size.
    pub size: Option<u64>,
    /// Inclusion proofs verified.
    pub proofs: usize,
}

/// Checks `log/checkpoint` with the public key and every receipt's inclusion proof
/// against it; a proof file for no exported receipt is a finding too.
pub(super) fn check(
    files: &BundleFiles,
    key: Option<&VerifyingKey>,
    receipts: &[(Vec<u8>, StoredReceipt)],
    findings: &mut Findings,
) -> (LogFindings, Option<Note>) {
    let mut out = LogFindings::default();
    let Some(bytes) = files.get(LOG_CHECKPOINT) else {
        findings.add(LOG_CHECKPOINT, "missing: an evidence bundle always holds a checkpoint note of the log");
        return (out, None);
    };
    let Some(key) = key else { return (out, None) };
    // The key name of the log's signature is its origin, the note's first line.
    let origin = match Note::parse(bytes).map(|n| LogCheckpoint::parse_text(n.text()).map(|c| c.origin)) {
        Ok(Ok(origin)) => origin,
        Ok(Err(e)) | Err(e) => {
            findings.add(LOG_CHECKPOINT, format!("not a checkpoint note: {e}"));
            return (out, None);
        }
    };
    let verifier = match NoteVerifier::new(&origin, *key) {
        Ok(v) => v,
        Err(e) => {
            findings.add(LOG_CHECKPOINT, format!("origin `{origin}` is not a key name: {e}"));
            return (out, None);
        }
    };
    let signed = match ledger_log::open_note(bytes, &verifier) {
        Ok(signed) => signed,
        Err(e) => {
            findings.add(LOG_CHECKPOINT, format!("does not verify with the public key: {e}"));
            return (out, None);
        }
    };
    out.origin = Some(origin.clone());
    out.size = Some(signed.checkpoint.size);
    let mut expected = BTreeSet::new();
    for (line, receipt) in receipts {
        let seq = receipt.body.seq;
        let name = proof_name(seq);
        expected.insert(name.clone());
        let Some(proof_bytes) = files.get(&name) else {
            findings.add(&name, format!("missing: receipt seq {seq} has no inclusion proof"));
            continue;
        };
        let proof = match TlogProof::parse(proof_bytes) {
            Ok(proof) => proof,
            Err(e) => {
                findings.add(&name, format!("unreadable: {e}"));
                continue;
            }
        };
        if proof.checkpoint.text() != signed.note.text() {
            findings.add(&name, format!("proves against another checkpoint than {LOG_CHECKPOINT}"));
        }
        if proof.index != seq - 1 {
            findings.add(&name, format!("proves leaf {} but receipt seq {seq} is leaf {}", proof.index, seq - 1));
            continue;
        }
        match proof.verify(line, &origin, std::slice::from_ref(&verifier)) {
            Ok(_) => out.proofs += 1,
            Err(e) => findings.add(
                &name,
                format!("receipt seq {seq} is not in the signed log of size {}: {e}", signed.checkpoint.size),
            ),
        }
    }
    for name in files.keys().filter(|n| n.starts_with(LOG_PROOFS)) {
        if !expected.contains(name) {
            findings.add(name.clone(), "proves no exported receipt (a receipt was removed from the chain?)");
        }
    }
    (out, Some(signed.note))
}

/// The witnesses of `policy` whose cosignature of the verified log checkpoint
/// `note` verifies; fewer than the quorum, or a cosignature line of a named
/// witness that does not verify, is a finding.
pub(super) fn check_witnesses(
    note: Option<&Note>,
    policy: &super::audit::WitnessPolicy,
    findings: &mut Findings,
) -> Vec<String> {
    if policy.quorum == 0 && policy.verifiers.is_empty() {
        return Vec::new();
    }
    let Some(note) = note else {
        findings.add(LOG_CHECKPOINT, "no verified log checkpoint: witness cosignatures cannot be checked");
        return Vec::new();
    };
    let mut cosigned = Vec::new();
    for witness in &policy.verifiers {
        match witness.verify(note) {
            Ok(Some(_)) => cosigned.push(witness.name().to_string()),
            Ok(None) => {}
            Err(e) => findings.add(LOG_CHECKPOINT, format!("witness `{}`: {e}", witness.name())),
        }
    }
    if cosigned.len() < policy.quorum {
        findings.add(
            LOG_CHECKPOINT,
            format!(
                "{} of the {} named witnesses cosigned the log checkpoint; the quorum is {}",
                cosigned.len(),
                policy.verifiers.len(),
                policy.quorum
            ),
        );
    }
    cosigned
}
