//! Evidence bundles: everything an auditor needs to verify one incident offline,
//! without trusting the host, in one deterministic `.tar.gz`; and the audit that
//! checks one.
//!
//! Contents (see `docs/incidents.md`): `receipt-chain.json` (the incident's receipts,
//! exactly as stored), `evidence.json` (the redacted canonical evidence),
//! `components/<sha256>.wasm` (the exact binaries that ran), the generated outputs
//! (`narrative.md`, `remediation.md`, `runbook.md`, `checklist.md`, `policies.md`,
//! `sla.json`), `checkpoint.json` (the latest signed checkpoint), `public-key.json`
//! and `audit-signature.txt` (the host's Ed25519 signature over the list of every
//! other file's SHA-256). Never the HMAC key, credentials or other incidents' data.

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Serialize;
use serde_json::Value;

use crate::bundle::archive::{self, ArchiveLimits, BundleFiles};
use crate::incident::IncidentError;
use crate::outputs;
use crate::replay;
use andon_core::engine::AndonEngine;
use andon_core::evidence::{canonical_bytes, sha256_hex};
use andon_ledger::checkpoint::Checkpoint;
use andon_ledger::keys;
use andon_ledger::ledger::CHECKPOINTS_FILE;
use andon_ledger::receipt::StoredReceipt;

/// Name of the signature file in an evidence bundle.
pub const AUDIT_SIGNATURE: &str = "audit-signature.txt";

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
    /// The ledger cannot be read.
    #[error(transparent)]
    Ledger(#[from] andon_ledger::ledger::LedgerError),
    /// The component store cannot be opened.
    #[error(transparent)]
    Store(#[from] andon_ledger::store::StoreError),
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

fn receipt_line(r: &StoredReceipt) -> Value {
    let mut value = serde_json::to_value(&r.body).expect("body serializes");
    value["hash"] = r.hash.clone().into();
    value["signature"] = r.signature.clone().into();
    value
}

/// Builds the files of an incident's evidence bundle.
///
/// # Errors
/// When the incident is unknown or a component is missing from the store.
pub fn export_files(
    ledger_dir: &Path,
    incident_id: &str,
    signing_key: &SigningKey,
) -> Result<BundleFiles, ExportError> {
    let all = andon_ledger::ledger::all_receipts(ledger_dir)?;
    let receipts: Vec<StoredReceipt> =
        all.iter().filter(|r| r.body.incident_id.as_deref() == Some(incident_id)).cloned().collect();
    let last_seq = receipts.last().map(|r| r.body.seq).ok_or_else(|| IncidentError::NotFound(incident_id.into()))?;
    let history: Vec<StoredReceipt> = all.into_iter().filter(|r| r.body.seq <= last_seq).collect();
    let mut files = BundleFiles::new();

    let chain: Vec<Value> = receipts.iter().map(receipt_line).collect();
    let mut chain_bytes = serde_json::to_vec_pretty(&chain).expect("chain serializes");
    chain_bytes.push(b'\n');
    files.insert("receipt-chain.json".into(), chain_bytes);
    if let Some(evidence) = receipts.iter().find_map(|r| r.body.evidence.as_ref()) {
        files.insert("evidence.json".into(), canonical_bytes(evidence));
    }
    let store = andon_ledger::store::ComponentStore::open(ledger_dir, false)?;
    for run in receipts.iter().flat_map(|r| r.body.components.iter()) {
        let bytes = store.get(&run.sha256).map_err(|_| ExportError::MissingComponent(run.sha256.clone()))?;
        files.insert(format!("components/{}.wasm", run.sha256), bytes);
    }
    for (name, bytes) in outputs::documents(&receipts, &history) {
        files.insert(name, bytes);
    }
    let checkpoints = std::fs::read(ledger_dir.join(CHECKPOINTS_FILE)).unwrap_or_default();
    if let Some(line) = checkpoints.split(|b| *b == b'\n').rfind(|l| !l.is_empty()) {
        files.insert("checkpoint.json".into(), line.to_vec());
    }
    let public = signing_key.verifying_key();
    let public_json = serde_json::json!({
        "key_id": keys::ed25519_key_id(&public),
        "algorithm": "ed25519",
        "public": hex::encode(public.as_bytes()),
    });
    files.insert("public-key.json".into(), serde_json::to_vec_pretty(&public_json).expect("serializes"));
    let listing = listing(&files, incident_id);
    let signature = signing_key.sign(listing.as_bytes());
    let text = format!(
        "{listing}key_id: {}\nsignature: {}\n",
        keys::ed25519_key_id(&public),
        hex::encode(signature.to_bytes())
    );
    files.insert(AUDIT_SIGNATURE.into(), text.into_bytes());
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

/// The signed text: a header line and one `<sha256>  <name>` line per file (sorted),
/// excluding `audit-signature.txt` itself.
fn listing(files: &BundleFiles, incident_id: &str) -> String {
    let mut text = format!("andon evidence bundle for incident {incident_id}\n");
    for (name, bytes) in files {
        if name != AUDIT_SIGNATURE {
            text += &format!("{}  {name}\n", sha256_hex(bytes));
        }
    }
    text
}

/// One finding of an audit.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Where: a file, or `receipt seq N`.
    pub location: String,
    /// What is wrong.
    pub problem: String,
}

/// The verdict of an audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Incident id.
    pub incident_id: Option<String>,
    /// Receipts checked.
    pub receipts: usize,
    /// Component runs re-executed.
    pub replayed_runs: usize,
    /// Key id that signed the export.
    pub signed_by: Option<String>,
    /// Whether everything verified.
    pub ok: bool,
    /// Problems found, first one first.
    pub findings: Vec<Finding>,
    /// Whether the receipts were made in evaluation mode (advisory).
    pub evaluation_mode: bool,
}

fn finding(findings: &mut Vec<Finding>, location: impl Into<String>, problem: impl Into<String>) {
    findings.push(Finding { location: location.into(), problem: problem.into() });
}

/// Audits an evidence bundle read from `reader`: safe unpacking, the export
/// signature and every file hash, each receipt's hash and the incident chain, the
/// checkpoint signature, then a re-run of every component on its recorded evidence
/// comparing decision bytes and fuel. `trusted_key` is the auditor's copy of the
/// host's public key; without it the embedded key is used and said so.
///
/// # Errors
/// Only when the archive cannot be unpacked safely; every other problem is a finding.
pub fn audit(
    reader: impl std::io::Read,
    trusted_key: Option<&VerifyingKey>,
    engine: &AndonEngine,
) -> Result<AuditReport, ExportError> {
    let files = archive::unpack(reader, &ArchiveLimits::default())?;
    let mut findings = Vec::new();
    let mut report = AuditReport {
        incident_id: None,
        receipts: 0,
        replayed_runs: 0,
        signed_by: None,
        ok: false,
        findings: Vec::new(),
        evaluation_mode: false,
    };

    // 1. Export signature over the listing, and every file's hash.
    let embedded_key = files
        .get("public-key.json")
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|v| v["public"].as_str().and_then(|h| crate::bundle::trust::parse_public_key(h).ok()));
    let key = trusted_key.copied().or(embedded_key);
    if trusted_key.is_none() {
        finding(&mut findings, "public-key.json", "note: no trusted key given; the embedded public key was used");
    }
    match (files.get(AUDIT_SIGNATURE), key) {
        (None, _) => finding(&mut findings, AUDIT_SIGNATURE, "missing"),
        (_, None) => finding(&mut findings, "public-key.json", "no usable public key"),
        (Some(sig_file), Some(key)) => {
            let text = String::from_utf8_lossy(sig_file);
            let (signed, tail) = text.split_at(text.find("key_id: ").unwrap_or(text.len()));
            let signature_hex = tail.lines().find_map(|l| l.strip_prefix("signature: ")).unwrap_or_default();
            report.signed_by = tail.lines().find_map(|l| l.strip_prefix("key_id: ")).map(str::to_string);
            let ok = hex::decode(signature_hex)
                .ok()
                .and_then(|raw| <[u8; 64]>::try_from(raw).ok())
                .is_some_and(|raw| key.verify_strict(signed.as_bytes(), &Signature::from_bytes(&raw)).is_ok());
            if !ok {
                finding(&mut findings, AUDIT_SIGNATURE, "the export signature does not verify with the public key");
            }
            let mut listed = BTreeMap::new();
            for line in signed.lines().skip(1) {
                if let Some((hash, name)) = line.split_once("  ") {
                    listed.insert(name.to_string(), hash.to_string());
                }
            }
            for (name, bytes) in &files {
                if name == AUDIT_SIGNATURE {
                    continue;
                }
                match listed.remove(name) {
                    None => finding(&mut findings, name.clone(), "file is not listed in audit-signature.txt"),
                    Some(hash) if hash != sha256_hex(bytes) => {
                        finding(&mut findings, name.clone(), "file bytes do not match their signed sha256")
                    }
                    Some(_) => {}
                }
            }
            for name in listed.keys() {
                finding(&mut findings, name.clone(), "listed in audit-signature.txt but missing");
            }
        }
    }

    // 2. Receipts: hashes and the per-incident chain.
    let chain: Vec<Value> =
        files.get("receipt-chain.json").and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_else(|| {
            finding(&mut findings, "receipt-chain.json", "missing or not a JSON array");
            Vec::new()
        });
    let mut lines = Vec::new();
    let mut prev: Option<String> = None;
    for (i, value) in chain.iter().enumerate() {
        let line = canonical_bytes(value);
        let location = format!("receipt-chain.json[{i}]");
        match StoredReceipt::parse(&line) {
            Err(e) => finding(&mut findings, location, format!("not a receipt: {e}")),
            Ok(r) => {
                let body = andon_core::evidence::canonical_bytes_of(&r.body).expect("body serializes");
                if sha256_hex(&body) != r.hash {
                    finding(
                        &mut findings,
                        format!("receipt seq {}", r.body.seq),
                        "hash mismatch: the body was altered",
                    );
                }
                if i > 0 && r.body.incident_prev_hash != prev {
                    finding(&mut findings, format!("receipt seq {}", r.body.seq), "broken incident chain link");
                }
                if let Some(expected) = &r.body.evidence_sha256
                    && let Some(evidence) = &r.body.evidence
                    && &sha256_hex(&canonical_bytes(evidence)) != expected
                {
                    finding(
                        &mut findings,
                        format!("receipt seq {}", r.body.seq),
                        "embedded evidence does not match evidence_sha256",
                    );
                }
                report.incident_id = r.body.incident_id.clone();
                report.evaluation_mode |= r.body.evaluation_mode;
                prev = Some(r.hash.clone());
                lines.push(line);
            }
        }
    }
    report.receipts = lines.len();
    if let (Some(evidence), Some(first)) = (files.get("evidence.json"), chain.first())
        && first.get("evidence_sha256").and_then(Value::as_str) != Some(sha256_hex(evidence).as_str())
    {
        finding(&mut findings, "evidence.json", "does not hash to the receipts' evidence_sha256");
    }

    // 3. Checkpoint signature.
    if let (Some(bytes), Some(key)) = (files.get("checkpoint.json"), key) {
        match Checkpoint::parse(bytes) {
            Ok(cp) => {
                if cp.verify(&keys::ed25519_key_id(&key), &key).is_err() {
                    finding(&mut findings, "checkpoint.json", "checkpoint signature does not verify");
                }
            }
            Err(e) => finding(&mut findings, "checkpoint.json", format!("unreadable: {e}")),
        }
    }

    // 4. Re-run every component on its recorded evidence.
    let temp = tempfile::tempdir()
        .map_err(|source| ExportError::Io { action: "create a temporary folder for the replay", source })?;
    let mut receipts_file = Vec::new();
    for line in &lines {
        receipts_file.extend_from_slice(line);
        receipts_file.push(b'\n');
    }
    let write = || -> std::io::Result<()> {
        std::fs::write(temp.path().join(andon_ledger::ledger::RECEIPTS_FILE), &receipts_file)?;
        std::fs::create_dir_all(temp.path().join("sha256"))?;
        for (name, bytes) in &files {
            if let Some(hash) = name.strip_prefix("components/").and_then(|n| n.strip_suffix(".wasm"))
                && andon_ledger::store::is_hash(hash)
            {
                std::fs::write(temp.path().join("sha256").join(format!("{hash}.wasm")), bytes)?;
            }
        }
        Ok(())
    };
    write().map_err(|source| ExportError::Io { action: "write the receipts and components to replay", source })?;
    match replay::replay(temp.path(), &replay::Selection::All, engine) {
        Ok(replayed) => {
            for r in &replayed.receipts {
                report.replayed_runs += usize::from(r.status == replay::Status::Matched);
                for m in &r.mismatches {
                    finding(
                        &mut findings,
                        format!("receipt seq {} {}", r.seq, m.what),
                        format!("replay mismatch: {} (recorded {}, replayed {})", m.message, m.recorded, m.replayed),
                    );
                }
            }
        }
        Err(e) => finding(&mut findings, "replay", e.to_string()),
    }
    report.ok = findings.iter().all(|f| f.problem.starts_with("note:"));
    report.findings = findings;
    Ok(report)
}
