//! The log proofs of an evidence bundle: `log/checkpoint`, a checkpoint note of the
//! ledger's Merkle tree (C2SP tlog-checkpoint, Ed25519 signed note) covering every
//! exported receipt, and `log/proofs/<seq>.tlog-proof`, the C2SP tlog-proof of each
//! exported receipt in that tree. An auditor checks them with the public key alone
//! (`docs/log.md`, `docs/incidents.md`).

use std::collections::BTreeSet;
use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::bundle::archive::BundleFiles;
use andon_ledger::ledger::index::{self, IncidentIndex, IndexProof};
use andon_ledger::ledger::log::{self as ledger_log, SignedCheckpoint};
use andon_ledger::note::{LogCheckpoint, Note, NoteVerifier, TlogProof};
use andon_ledger::receipt::StoredReceipt;
use andon_ledger::tlog::{self, MemoryTree};

use super::ExportError;
use super::audit::Findings;

/// Name of the log checkpoint note in an evidence bundle.
pub const LOG_CHECKPOINT: &str = "log/checkpoint";
/// The incident's entry in the checkpoint's incident index, with its neighbours.
pub const LOG_INDEX: &str = "log/incident-index.json";
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
    heads: &[Head],
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
            let mut index = index_at(heads, at);
            match index::committed(&note.checkpoint) {
                Ok(Some((count, root))) if count == index.len() && root == index.root() => {}
                // A note from before the index: not used (a new one is signed below).
                Ok(None) => continue,
                Ok(Some(_)) | Err(_) => {
                    return Err(inconsistent(format!(
                        "the signed note of size {at} commits to another incident index than the ledger's receipts"
                    )));
                }
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
    let extension = index_at(heads, size).extension();
    Ok((ledger_log::sign_note(ledger_dir, size, root, vec![extension], key)?, true))
}

/// One receipt's seq, incident and hash.
pub(super) type Head = (u64, Option<String>, String);

/// The incident index of the tree of the first `size` receipts.
fn index_at(heads: &[Head], size: u64) -> IncidentIndex {
    let mut last = std::collections::HashMap::new();
    for (_, id, hash) in heads.iter().take_while(|(seq, _, _)| *seq <= size) {
        if let Some(id) = id {
            last.insert(id.clone(), hash.clone());
        }
    }
    IncidentIndex::new(last.iter())
}

/// Adds `log/incident-index.json`: the incident's entry in the note's incident
/// index, with its neighbours.
pub(super) fn add_index_proof(
    files: &mut BundleFiles,
    heads: &[Head],
    note: &SignedCheckpoint,
    incident_id: &str,
) -> Result<(), ExportError> {
    let mut index = index_at(heads, note.checkpoint.size);
    let proof = index.prove(incident_id).ok_or_else(|| ExportError::Inconsistent {
        incident_id: incident_id.into(),
        location: LOG_INDEX.into(),
        problem: "the incident has no entry in the index".into(),
    })?;
    files.insert(LOG_INDEX.into(), serde_json::to_vec_pretty(&proof).expect("serializes"));
    Ok(())
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
    check_index(files, &signed.checkpoint, receipts, findings);
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

/// The incident's last exported receipt is its last receipt in the checkpoint's
/// tree, by the incident index the checkpoint commits to.
fn check_index(
    files: &BundleFiles,
    checkpoint: &LogCheckpoint,
    receipts: &[(Vec<u8>, StoredReceipt)],
    findings: &mut Findings,
) {
    let Some((_, last)) = receipts.last() else { return };
    let Some(incident_id) = last.body.incident_id.as_deref() else { return };
    let (entries, root) = match index::committed(checkpoint) {
        Ok(Some(committed)) => committed,
        Ok(None) => return findings.add(LOG_CHECKPOINT, "commits to no incident index: completeness is not proven"),
        Err(e) => return findings.add(LOG_CHECKPOINT, e),
    };
    let Some(bytes) = files.get(LOG_INDEX) else {
        return findings.add(LOG_INDEX, "missing: the export does not prove it holds the incident's last receipt");
    };
    let proof: IndexProof = match serde_json::from_slice(bytes) {
        Ok(proof) => proof,
        Err(e) => return findings.add(LOG_INDEX, format!("unreadable: {e}")),
    };
    match proof.verify(incident_id, entries, &root) {
        Ok(head) if head == last.hash => {}
        Ok(head) => findings.add(
            LOG_INDEX,
            format!(
                "the incident's last receipt in the signed log of size {} has hash {head}, but the export ends at seq {} (hash {}): receipts of the incident are missing from the export",
                checkpoint.size, last.body.seq, last.hash
            ),
        ),
        Err(e) => findings.add(LOG_INDEX, e),
    }
}
