//! The offline audit of an evidence bundle (`andon audit`): the export signature
//! over everything before its `signature:` line, every file against its signed
//! SHA-256, every receipt line (strict RFC 8785, hash over body), the incident chain
//! complete from its first receipt, the checkpoint of the last receipt, the
//! evidence, the components, and a re-run of every component. Every problem is a
//! [`Finding`] that names its place.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use serde_json::Value;

use super::{AUDIT_SIGNATURE, CHECKPOINT, EVIDENCE, ExportError, HEADER, PUBLIC_KEY, RECEIPT_CHAIN};
use crate::bundle::archive::{self, ArchiveLimits, BundleFiles};
use crate::replay;
use andon_core::engine::AndonEngine;
use andon_core::evidence::{canonical_bytes, sha256_hex};
use andon_ledger::checkpoint::Checkpoint;
use andon_ledger::keys;
use andon_ledger::ledger::scan;
use andon_ledger::note::CosignatureVerifier;
use andon_ledger::receipt::StoredReceipt;

/// One finding of an audit.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Where: a file, `receipt-chain.jsonl line N (seq S)`, or `receipt seq N …`.
    pub location: String,
    /// What is wrong (`note: …` for what is said but is not a failure).
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
    /// The log the receipts are proven in (origin of `log/checkpoint`).
    pub log_origin: Option<String>,
    /// Tree size of `log/checkpoint`.
    pub log_size: Option<u64>,
    /// Inclusion proofs verified against `log/checkpoint`.
    pub inclusion_proofs: usize,
    /// Witnesses (of those the auditor named) whose cosignature of `log/checkpoint` verified.
    pub witnesses: Vec<String>,
}

/// The witnesses an auditor trusts and how many of them must have cosigned the
/// export's log checkpoint.
#[derive(Debug, Clone, Default)]
pub struct WitnessPolicy {
    /// The witnesses' verifier keys.
    pub verifiers: Vec<CosignatureVerifier>,
    /// Cosignatures required (0: none).
    pub quorum: usize,
}

/// What the checks before the replay found.
pub(super) struct Checked {
    /// The report so far (`ok` not set; notes included).
    pub report: AuditReport,
    /// The receipt lines that are readable receipts, to replay.
    pub lines: Vec<Vec<u8>>,
}

/// Findings gathered by the checks.
pub(super) struct Findings(Vec<Finding>);

impl Findings {
    /// Adds one.
    pub(super) fn add(&mut self, location: impl Into<String>, problem: impl Into<String>) {
        self.0.push(Finding { location: location.into(), problem: problem.into() });
    }
}

/// Audits an evidence bundle read from `reader`: safe unpacking, the export
/// signature and every file hash, each receipt line and the incident chain, the
/// checkpoint of the last receipt, the evidence, then a re-run of every component
/// on its recorded evidence comparing decision bytes and fuel. `trusted_key` is the
/// auditor's copy of the host's public key; without it the embedded key is used and
/// said so.
///
/// # Errors
/// Only when the archive cannot be unpacked safely; every other problem is a finding.
pub fn audit(
    reader: impl std::io::Read,
    trusted_key: Option<&VerifyingKey>,
    engine: &AndonEngine,
) -> Result<AuditReport, ExportError> {
    audit_with_witnesses(reader, trusted_key, &WitnessPolicy::default(), engine)
}

/// [`audit()`], also requiring `witnesses.quorum` valid cosignatures of the
/// export's log checkpoint by the given witnesses (C2SP tlog-cosignature): with
/// them, the operator's key alone cannot show two auditors two different histories.
///
/// # Errors
/// As [`audit()`].
pub fn audit_with_witnesses(
    reader: impl std::io::Read,
    trusted_key: Option<&VerifyingKey>,
    witnesses: &WitnessPolicy,
    engine: &AndonEngine,
) -> Result<AuditReport, ExportError> {
    let files = archive::unpack(reader, &ArchiveLimits::default())?;
    let Checked { mut report, lines } = check_files(&files, trusted_key, witnesses);
    let mut findings = Findings(std::mem::take(&mut report.findings));
    replay_lines(&files, &lines, engine, &mut report, &mut findings)?;
    report.ok = findings.0.iter().all(|f| f.problem.starts_with("note:"));
    report.findings = findings.0;
    Ok(report)
}

/// Every check of the audit but the replay.
pub(super) fn check_files(
    files: &BundleFiles,
    trusted_key: Option<&VerifyingKey>,
    witnesses: &WitnessPolicy,
) -> Checked {
    let mut findings = Findings(Vec::new());
    let mut report = AuditReport {
        incident_id: None,
        receipts: 0,
        replayed_runs: 0,
        signed_by: None,
        ok: false,
        findings: Vec::new(),
        evaluation_mode: false,
        log_origin: None,
        log_size: None,
        inclusion_proofs: 0,
        witnesses: Vec::new(),
    };
    let embedded_key = files
        .get(PUBLIC_KEY)
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|v| v["public"].as_str().and_then(|h| crate::bundle::trust::parse_public_key(h).ok()));
    let key = trusted_key.copied().or(embedded_key);
    if trusted_key.is_none() {
        findings.add(PUBLIC_KEY, "note: no trusted key given; the embedded public key was used");
    }
    let header_id = check_signature(files, key.as_ref(), &mut report, &mut findings);

    let receipts = match files.get(RECEIPT_CHAIN) {
        Some(bytes) => check_chain(bytes, header_id.as_deref(), &mut findings),
        None => {
            findings.add(RECEIPT_CHAIN, "missing");
            Vec::new()
        }
    };
    report.incident_id = header_id.or_else(|| receipts.first().and_then(|(_, r)| r.body.incident_id.clone()));
    report.receipts = receipts.len();
    report.evaluation_mode = receipts.iter().any(|(_, r)| r.body.evaluation_mode);
    check_checkpoint(files, key.as_ref(), receipts.last().map(|(_, r)| r), &mut findings);
    let (log, note) = super::log::check(files, key.as_ref(), &receipts, &mut findings);
    report.witnesses = super::log::check_witnesses(note.as_ref(), witnesses, &mut findings);
    report.log_origin = log.origin;
    report.log_size = log.size;
    report.inclusion_proofs = log.proofs;
    check_names(files, &mut findings);
    check_evidence(files, &receipts, &mut findings);
    check_components(files, &receipts, &mut findings);
    report.findings = findings.0;
    Checked { report, lines: receipts.into_iter().map(|(line, _)| line).collect() }
}

/// Checks `audit-signature.txt`: its layout, the signature over every byte before
/// its last line, the key id, and every other file against its listed SHA-256.
/// Returns the incident id of its first line.
fn check_signature(
    files: &BundleFiles,
    key: Option<&VerifyingKey>,
    report: &mut AuditReport,
    findings: &mut Findings,
) -> Option<String> {
    let Some(bytes) = files.get(AUDIT_SIGNATURE) else {
        findings.add(AUDIT_SIGNATURE, "missing");
        return None;
    };
    let Some(key) = key else {
        findings.add(PUBLIC_KEY, "no usable public key");
        return None;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        findings.add(AUDIT_SIGNATURE, "not UTF-8 text");
        return None;
    };
    if !text.ends_with('\n') {
        findings.add(AUDIT_SIGNATURE, "does not end with a newline");
        return None;
    }
    // The signed text is every byte before the last line, `signature: <hex>`.
    let body = &text[..text.len() - 1];
    let (signed, last) = match body.rfind('\n') {
        Some(at) => (&text[..at + 1], &body[at + 1..]),
        None => ("", body),
    };
    let signature = last.strip_prefix("signature: ").and_then(|h| {
        let mut raw = [0u8; 64];
        hex::decode_to_slice(h, &mut raw).ok().map(|()| Signature::from_bytes(&raw))
    });
    let Some(signature) = signature else {
        findings.add(AUDIT_SIGNATURE, "its last line is not `signature: <128 hex digits>`");
        return None;
    };
    if key.verify_strict(signed.as_bytes(), &signature).is_err() {
        findings.add(AUDIT_SIGNATURE, "the export signature does not verify with the public key");
    }
    let mut lines: Vec<&str> = signed.lines().collect();
    let key_line = lines.pop().unwrap_or_default();
    match key_line.strip_prefix("key_id: ") {
        Some(id) => {
            report.signed_by = Some(id.to_string());
            if id != keys::ed25519_key_id(key) {
                findings.add(AUDIT_SIGNATURE, format!("signed as key `{id}`, not by the public key used"));
            }
        }
        None => findings.add(AUDIT_SIGNATURE, "the line before the signature is not `key_id: <id>`"),
    }
    let header_id = match lines.first().and_then(|l| l.strip_prefix(HEADER)) {
        Some(id) => Some(id.to_string()),
        None => {
            findings.add(AUDIT_SIGNATURE, format!("line 1 is not `{HEADER}<id>`"));
            None
        }
    };
    let mut listed = BTreeMap::new();
    for (index, line) in lines.iter().enumerate().skip(1) {
        let entry = line.split_once("  ").filter(|(hash, name)| andon_ledger::store::is_hash(hash) && !name.is_empty());
        match entry {
            Some((hash, name)) if !listed.contains_key(name) => {
                listed.insert(name.to_string(), hash.to_string());
            }
            Some((_, name)) => findings.add(AUDIT_SIGNATURE, format!("line {}: `{name}` is listed twice", index + 1)),
            None => findings.add(AUDIT_SIGNATURE, format!("line {} is not `<sha256>  <file>`", index + 1)),
        }
    }
    for (name, bytes) in files {
        if name == AUDIT_SIGNATURE {
            continue;
        }
        match listed.remove(name) {
            None => findings.add(name.clone(), "file is not listed in audit-signature.txt"),
            Some(hash) if hash != sha256_hex(bytes) => {
                findings.add(name.clone(), "file bytes do not match their signed sha256")
            }
            Some(_) => {}
        }
    }
    for name in listed.keys() {
        findings.add(name.clone(), "listed in audit-signature.txt but missing");
    }
    header_id
}

/// Checks the receipt lines: each a strict RFC 8785 receipt whose hash is its
/// body's, all of the one incident, and the incident chain complete from its first
/// receipt (a null `incident_prev_hash`), every link to the receipt before it,
/// seqs increasing, consecutive seqs linked by `prev_hash`. Returns the readable
/// receipts with their lines.
fn check_chain(bytes: &[u8], header_id: Option<&str>, findings: &mut Findings) -> Vec<(Vec<u8>, StoredReceipt)> {
    if bytes.is_empty() {
        findings.add(RECEIPT_CHAIN, "holds no receipt");
        return Vec::new();
    }
    if !bytes.ends_with(b"\n") {
        findings.add(RECEIPT_CHAIN, "does not end with a newline (a cut line?)");
    }
    let mut out: Vec<(Vec<u8>, StoredReceipt)> = Vec::new();
    let mut incident = header_id.map(str::to_string);
    // The readable receipt before this line, and whether a line since was unreadable.
    let mut previous: Option<(u64, String)> = None;
    let mut unreadable = false;
    for (index, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let n = index + 1;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let receipt = scan::check_line(line)
            .map_err(|(kind, message)| format!("{kind:?}: {message}"))
            .and_then(|()| StoredReceipt::parse(line).map_err(|e| format!("not a receipt: {e}")));
        let r = match receipt {
            Ok(r) => r,
            Err(problem) => {
                findings.add(format!("{RECEIPT_CHAIN} line {n}"), problem);
                unreadable = true;
                continue;
            }
        };
        let at = format!("{RECEIPT_CHAIN} line {n} (seq {})", r.body.seq);
        match (&incident, &r.body.incident_id) {
            (_, None) => findings.add(&at, "a receipt of no incident"),
            (None, Some(id)) => incident = Some(id.clone()),
            (Some(want), Some(id)) if want != id => {
                findings.add(&at, format!("a receipt of incident `{id}`, not `{want}`"))
            }
            _ => {}
        }
        match (&previous, unreadable) {
            // An unreadable line is already a finding; its neighbours' links are not judged.
            (_, true) => {}
            (None, false) => {
                if let Some(link) = &r.body.incident_prev_hash {
                    findings.add(
                        &at,
                        format!(
                            "the incident chain lacks its first receipt: incident_prev_hash is {link}, not null, and no receipt before it is exported"
                        ),
                    );
                }
            }
            (Some((seq, hash)), false) => {
                if r.body.seq <= *seq {
                    findings.add(&at, format!("out of order: seq {} follows seq {seq}", r.body.seq));
                }
                if r.body.incident_prev_hash.as_deref() != Some(hash.as_str()) {
                    findings.add(
                        &at,
                        format!(
                            "broken incident chain link: incident_prev_hash is {} but the receipt before it (seq {seq}) has hash {hash}: a receipt is missing, added or reordered",
                            r.body.incident_prev_hash.as_deref().unwrap_or("null")
                        ),
                    );
                }
                if r.body.seq == seq + 1 && r.body.prev_hash != *hash {
                    findings.add(&at, format!("broken chain link: prev_hash is not the hash of seq {seq}"));
                }
            }
        }
        if let Some(expected) = &r.body.evidence_sha256
            && let Some(evidence) = &r.body.evidence
            && &sha256_hex(&canonical_bytes(evidence)) != expected
        {
            findings.add(&at, "embedded evidence does not match evidence_sha256");
        }
        previous = Some((r.body.seq, r.hash.clone()));
        unreadable = false;
        out.push((line.to_vec(), r));
    }
    out
}

/// The checkpoint must be signed by the key and cover exactly the last receipt.
fn check_checkpoint(
    files: &BundleFiles,
    key: Option<&VerifyingKey>,
    last: Option<&StoredReceipt>,
    findings: &mut Findings,
) {
    let Some(bytes) = files.get(CHECKPOINT) else {
        findings.add(CHECKPOINT, "missing: an evidence bundle always holds a checkpoint of its last receipt");
        return;
    };
    let checkpoint = match Checkpoint::parse(bytes) {
        Ok(c) => c,
        Err(e) => return findings.add(CHECKPOINT, format!("unreadable: {e}")),
    };
    if let Some(key) = key
        && let Err(e) = checkpoint.verify(&keys::ed25519_key_id(key), key)
    {
        findings.add(CHECKPOINT, format!("checkpoint signature does not verify: {e}"));
    }
    if let Some(last) = last
        && (checkpoint.seq != last.body.seq || checkpoint.head_hash != last.hash)
    {
        findings.add(
            CHECKPOINT,
            format!(
                "covers seq {} (head_hash {}) but the last exported receipt is seq {} (hash {}): the export does not end where its checkpoint says",
                checkpoint.seq, checkpoint.head_hash, last.body.seq, last.hash
            ),
        );
    }
}

/// Every file is one an evidence bundle holds (docs/incidents.md): a file smuggled
/// into a re-signed export is named, never passed over.
fn check_names(files: &BundleFiles, findings: &mut Findings) {
    for name in files.keys() {
        let known =
            [RECEIPT_CHAIN, EVIDENCE, CHECKPOINT, PUBLIC_KEY, AUDIT_SIGNATURE, super::LOG_CHECKPOINT, super::LOG_INDEX]
                .contains(&name.as_str())
                || crate::outputs::DOCUMENT_NAMES.contains(&name.as_str())
                || name
                    .strip_prefix(super::LOG_PROOFS)
                    .and_then(|n| n.strip_suffix(".tlog-proof"))
                    .is_some_and(|seq| seq.parse::<u64>().is_ok_and(|s| s > 0 && s.to_string() == seq))
                || name
                    .strip_prefix("components/")
                    .and_then(|n| n.strip_suffix(".wasm"))
                    .is_some_and(andon_ledger::store::is_hash);
        if !known {
            findings.add(name.clone(), "not a file of an evidence bundle (docs/incidents.md lists them)");
        }
    }
}

/// `evidence.json` is the evidence the receipts hashed.
fn check_evidence(files: &BundleFiles, receipts: &[(Vec<u8>, StoredReceipt)], findings: &mut Findings) {
    let recorded = receipts.iter().find_map(|(_, r)| r.body.evidence_sha256.as_ref());
    match (files.get(EVIDENCE), recorded) {
        (Some(evidence), Some(hash)) if &sha256_hex(evidence) != hash => {
            findings.add(EVIDENCE, "does not hash to the receipts' evidence_sha256");
        }
        (None, Some(_)) => findings.add(EVIDENCE, "missing"),
        (Some(_), None) => findings.add(EVIDENCE, "no receipt records any evidence"),
        _ => {}
    }
}

/// Every component a receipt names is there, and nothing else.
fn check_components(files: &BundleFiles, receipts: &[(Vec<u8>, StoredReceipt)], findings: &mut Findings) {
    let named: BTreeSet<&str> =
        receipts.iter().flat_map(|(_, r)| r.body.components.iter()).map(|run| run.sha256.as_str()).collect();
    for name in files.keys() {
        if let Some(hash) = name.strip_prefix("components/").and_then(|n| n.strip_suffix(".wasm"))
            && !named.contains(hash)
        {
            findings.add(name.clone(), "no exported receipt names this component");
        }
    }
    for hash in named {
        let name = format!("components/{hash}.wasm");
        match files.get(&name) {
            None => findings.add(name, "missing: a receipt names this component"),
            Some(bytes) if sha256_hex(bytes) != hash => findings.add(name, "bytes do not match their sha256"),
            Some(_) => {}
        }
    }
}

/// Re-runs every component of the readable receipts from the exported files alone.
fn replay_lines(
    files: &BundleFiles,
    lines: &[Vec<u8>],
    engine: &AndonEngine,
    report: &mut AuditReport,
    findings: &mut Findings,
) -> Result<(), ExportError> {
    let temp = tempfile::tempdir()
        .map_err(|source| ExportError::Io { action: "create a temporary folder for the replay", source })?;
    let mut receipts_file = Vec::new();
    for line in lines {
        receipts_file.extend_from_slice(line);
        receipts_file.push(b'\n');
    }
    let write = || -> std::io::Result<()> {
        std::fs::write(temp.path().join(andon_ledger::ledger::RECEIPTS_FILE), &receipts_file)?;
        std::fs::create_dir_all(temp.path().join("sha256"))?;
        for (name, bytes) in files {
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
                    findings.add(
                        format!("receipt seq {} {}", r.seq, m.what),
                        format!("replay mismatch: {} (recorded {}, replayed {})", m.message, m.recorded, m.replayed),
                    );
                }
            }
        }
        Err(e) => findings.add("replay", e.to_string()),
    }
    Ok(())
}
