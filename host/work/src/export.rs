//! Evidence bundles: everything an auditor needs to verify one incident offline,
//! without trusting the host, in one deterministic `.tar.gz`; and the audit that
//! checks one ([`audit()`]).
//!
//! Contents (see `docs/incidents.md`): `receipt-chain.jsonl` (the incident's
//! receipts, each its stored ledger line byte for byte, one per line),
//! `evidence.json` (the redacted canonical evidence), `components/<sha256>.wasm`
//! (the exact binaries that ran), the generated outputs (`narrative.md`,
//! `remediation.md`, `runbook.md`, `checklist.md`, `policies.md`, `sla.json`),
//! `checkpoint.json` (a signed checkpoint of the last exported receipt),
//! `public-key.json` and `audit-signature.txt` (the host's Ed25519 signature over
//! the list of every other file's SHA-256 and the key id). Never the HMAC key,
//! credentials or other incidents' data.
//!
//! Nothing damaged is exported: the ledger is read with the checking readers
//! (a damaged line anywhere refuses the export: it could be one of this incident's
//! receipts), its checkpoints must agree with its receipts, and the files are
//! audited (all but the replay) before they are handed out.

mod audit;
mod log;

pub use audit::{AuditReport, Finding, WitnessPolicy, audit, audit_with_witnesses};
pub use log::{LOG_CHECKPOINT, LOG_INDEX, LOG_PROOFS, proof_name};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ed25519_dalek::{Signer as _, SigningKey};

use crate::bundle::archive::{self, BundleFiles};
use crate::incident::IncidentError;
use crate::outputs;
use andon_core::evidence::{canonical_bytes, sha256_hex};
use andon_ledger::checkpoint::Checkpoint;
use andon_ledger::keys;
use andon_ledger::ledger;
use andon_ledger::receipt::{StoredReceipt, ZERO_HASH};

/// Name of the signature file in an evidence bundle.
pub const AUDIT_SIGNATURE: &str = "audit-signature.txt";
/// Name of the receipt chain: the incident's stored receipt lines, one per line.
pub const RECEIPT_CHAIN: &str = "receipt-chain.jsonl";
/// Name of the checkpoint of the last exported receipt.
pub const CHECKPOINT: &str = "checkpoint.json";
/// Name of the host's public key.
pub const PUBLIC_KEY: &str = "public-key.json";
/// Name of the redacted canonical evidence.
pub const EVIDENCE: &str = "evidence.json";
/// First line of `audit-signature.txt`, followed by the incident id.
pub const HEADER: &str = "andon evidence bundle for incident ";

/// Why an export or audit failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the incident failed.
    #[error(transparent)]
    Incident(#[from] IncidentError),
    /// The archive is unsafe or malformed.
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    /// A component named by a receipt is not in the store.
    #[error("component {0} named by a receipt is not in the store")]
    MissingComponent(String),
    /// The ledger cannot be read, or a line of it is damaged.
    #[error(transparent)]
    Ledger(#[from] andon_ledger::ledger::LedgerError),
    /// The component store cannot be opened.
    #[error(transparent)]
    Store(#[from] andon_ledger::store::StoreError),
    /// What would be exported does not check out (the ledger disagrees with its own
    /// checkpoints, or the export fails its own audit): nothing is written.
    #[error("incident {incident_id} is not exported: {location}: {problem}")]
    Inconsistent {
        /// The incident.
        incident_id: String,
        /// Where: a ledger file, or a file of the export.
        location: String,
        /// What is wrong.
        problem: String,
    },
    /// A temporary file of the audit's replay cannot be written.
    #[error("cannot {action}")]
    Io {
        /// What failed.
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Builds the files of an incident's evidence bundle. When the ledger has no
/// checkpoint of the incident's last receipt signed by `signing_key`, one is
/// signed and recorded in the ledger's `checkpoints.jsonl` (so the exported
/// receipts are never cut automatically afterwards).
///
/// # Errors
/// [`ExportError::Incident`] when the incident is unknown; [`ExportError::Ledger`]
/// when the ledger cannot be read or a line of it is damaged;
/// [`ExportError::Inconsistent`] when its checkpoints disagree with its receipts or
/// the export fails its own audit; [`ExportError::MissingComponent`].
pub fn export_files(
    ledger_dir: &Path,
    incident_id: &str,
    signing_key: &SigningKey,
) -> Result<BundleFiles, ExportError> {
    let inconsistent = |location: &str, problem: String| ExportError::Inconsistent {
        incident_id: incident_id.into(),
        location: location.into(),
        problem,
    };
    // Checkpoints first: one is written only once the receipts it covers are.
    let checkpoints = ledger::live_checkpoints(ledger_dir)?;
    let wanted: BTreeSet<u64> = checkpoints.iter().map(|c| c.seq).collect();
    let mut hashes = BTreeMap::from([(0, ZERO_HASH.to_string())]);
    let mut chain: Vec<(Vec<u8>, StoredReceipt)> = Vec::new();
    let mut history: Vec<StoredReceipt> = Vec::new();
    let mut tree = andon_ledger::tlog::MemoryTree::new();
    let head = ledger::each_receipt(ledger_dir, |line, receipt| {
        tree.push_line(line);
        if wanted.contains(&receipt.body.seq) {
            hashes.insert(receipt.body.seq, receipt.hash.clone());
        }
        if receipt.body.incident_id.as_deref() == Some(incident_id) {
            chain.push((line.to_vec(), receipt.clone()));
        }
        history.push(receipt);
        true
    })?;
    let public = signing_key.verifying_key();
    let key_id = keys::ed25519_key_id(&public);
    for checkpoint in &checkpoints {
        // Those of other keys (rotated) are checked by `andon verify --public-key`.
        if checkpoint.key_id == key_id
            && let Err(e) = checkpoint.verify(&key_id, &public)
        {
            return Err(inconsistent(ledger::CHECKPOINTS_FILE, e.to_string()));
        }
        if checkpoint.seq > head {
            return Err(inconsistent(
                ledger::CHECKPOINTS_FILE,
                format!(
                    "checkpoint seq {} covers receipts the ledger does not have (it ends at seq {head})",
                    checkpoint.seq
                ),
            ));
        }
        if hashes.get(&checkpoint.seq).map(String::as_str) != Some(checkpoint.head_hash.as_str()) {
            return Err(inconsistent(
                ledger::CHECKPOINTS_FILE,
                format!(
                    "checkpoint seq {} has head_hash {} but the ledger's receipt seq {} has another hash (rolled back or forked)",
                    checkpoint.seq, checkpoint.head_hash, checkpoint.seq
                ),
            ));
        }
    }
    let (last_seq, last_hash) = match chain.last() {
        Some((_, last)) => (last.body.seq, last.hash.clone()),
        None => return Err(IncidentError::NotFound(incident_id.into()).into()),
    };
    // Each incident's last receipt at every size, for the incident index of the note.
    let heads: Vec<(u64, Option<String>, String)> =
        history.iter().map(|r| (r.body.seq, r.body.incident_id.clone(), r.hash.clone())).collect();
    history.retain(|r| r.body.seq <= last_seq);
    let receipts: Vec<StoredReceipt> = chain.iter().map(|(_, r)| r.clone()).collect();
    let mut files = BundleFiles::new();

    let mut lines = Vec::new();
    for (line, _) in &chain {
        lines.extend_from_slice(line);
        lines.push(b'\n');
    }
    files.insert(RECEIPT_CHAIN.into(), lines);
    if let Some(evidence) = receipts.iter().find_map(|r| r.body.evidence.as_ref()) {
        files.insert(EVIDENCE.into(), canonical_bytes(evidence));
    }
    let store = andon_ledger::store::ComponentStore::open(ledger_dir, false)?;
    for run in receipts.iter().flat_map(|r| r.body.components.iter()) {
        let bytes = store.get(&run.sha256).map_err(|_| ExportError::MissingComponent(run.sha256.clone()))?;
        files.insert(format!("components/{}.wasm", run.sha256), bytes);
    }
    for (name, bytes) in outputs::documents(&receipts, &history) {
        files.insert(name, bytes);
    }
    let existing = checkpoints.iter().find(|c| c.seq == last_seq && c.head_hash == last_hash && c.key_id == key_id);
    let (checkpoint, new) = match existing {
        Some(c) => (c.clone(), false),
        None => (Checkpoint::sign(last_seq, last_hash, &key_id, signing_key), true),
    };
    files.insert(CHECKPOINT.into(), checkpoint.to_line());
    let (note, new_note) =
        log::choose_note(ledger_dir, &mut tree, &heads, last_seq, signing_key).map_err(|e| match e {
            ExportError::Inconsistent { location, problem, .. } => inconsistent(&location, problem),
            other => other,
        })?;
    log::add_proofs(&mut files, &mut tree, &note, &receipts)?;
    log::add_index_proof(&mut files, &heads, &note, incident_id)?;
    let public_json = serde_json::json!({
        "key_id": key_id,
        "algorithm": "ed25519",
        "public": hex::encode(public.as_bytes()),
    });
    files.insert(PUBLIC_KEY.into(), serde_json::to_vec_pretty(&public_json).expect("serializes"));
    sign(&mut files, incident_id, signing_key);

    // Check what is handed out as an auditor will (all but the replay).
    let checked = audit::check_files(&files, Some(&public), &WitnessPolicy::default());
    if let Some(first) = checked.report.findings.first() {
        return Err(inconsistent(&first.location, first.problem.clone()));
    }
    if new_note {
        ledger::log::record_note(ledger_dir, &note)?;
    }
    if new {
        ledger::record_checkpoint(ledger_dir, &checkpoint)?;
    }
    Ok(files)
}

/// Exports incident `incident_id` of the ledger at `ledger_dir` as an evidence
/// bundle (`.tar.gz`, see docs/incidents.md) at `path`, written durably and
/// atomically, signed with `signing_key`.
///
/// # Errors
/// As [`export_files`], and [`ExportError::Archive`] when the file cannot be written.
pub fn write(
    ledger_dir: &Path,
    incident_id: &str,
    signing_key: &SigningKey,
    path: &Path,
) -> Result<archive::Written, ExportError> {
    let files = export_files(ledger_dir, incident_id, signing_key)?;
    Ok(archive::write_file(&files, path)?)
}

/// Signs the evidence bundle `files` of incident `incident_id`: (re)writes
/// `audit-signature.txt` as [`HEADER`] and the id, one `<sha256>  <name>` line per
/// other file (sorted), `key_id: <id>`, and `signature: <hex>`, the Ed25519
/// signature of every byte before that last line.
pub fn sign(files: &mut BundleFiles, incident_id: &str, signing_key: &SigningKey) {
    let mut text = format!("{HEADER}{incident_id}\n");
    for (name, bytes) in files.iter() {
        if name != AUDIT_SIGNATURE {
            text += &format!("{}  {name}\n", sha256_hex(bytes));
        }
    }
    text += &format!("key_id: {}\n", keys::ed25519_key_id(&signing_key.verifying_key()));
    let signature = signing_key.sign(text.as_bytes());
    text += &format!("signature: {}\n", hex::encode(signature.to_bytes()));
    files.insert(AUDIT_SIGNATURE.into(), text.into_bytes());
}
