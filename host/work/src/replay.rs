//! Replay: re-run the components a receipt names, from the content-addressed store,
//! on the recorded evidence and settings with the recorded limits, in a fresh
//! engine, and compare the decision bytes (RFC 8785) and the fuel used.
//!
//! For a receipt with one component run, the final decision's RFC 8785 bytes and
//! `decision_sha256` are compared too; for several runs (a pipeline composes the
//! final decision), each run's `output_sha256` and fuel are compared.
//!
//! A component whose stored bytes no longer hash to the recorded SHA-256 is
//! reported as a mismatch (`component bytes do not match their hash`) and is not
//! run. Fuel of a `deadline` fault is not compared: a wall-clock interruption is
//! the one result that depends on the machine.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use andon_core::RecordedRun;
use andon_core::component::LoadedComponent;
use andon_core::engine::AndonEngine;
use andon_core::errors::FaultClass;
use andon_core::eval::GuestRequest;
use andon_core::evidence::sha256_hex;
use andon_core::run;
use andon_core::{Decision, Incident};
use andon_ledger::ledger::{self, scan};
use andon_ledger::receipt::StoredReceipt;
use andon_ledger::store::{self, ComponentStore};

/// Which receipts to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every receipt that names components.
    All,
    /// The receipt with this seq.
    Seq(u64),
    /// Every receipt of this incident.
    Incident(String),
}

/// Why replay could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// The component store could not be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The selection matched no receipt.
    #[error("no receipt matches {0}")]
    NotFound(String),
    /// The engine could not be built.
    #[error(transparent)]
    Engine(#[from] andon_core::Error),
}

/// How one receipt replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Same decision bytes and fuel.
    Matched,
    /// At least one mismatch.
    Mismatched,
    /// Nothing to replay (no components, e.g. a `ledger_repaired` receipt).
    Skipped,
}

/// One difference between the receipt and the replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What differs, e.g. `components[0].fuel_consumed` or `decision`.
    pub what: String,
    /// What the receipt says.
    pub recorded: String,
    /// What the replay gave.
    pub replayed: String,
    /// A sentence.
    pub message: String,
}

/// The replay of one receipt.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptReplay {
    /// Its seq.
    pub seq: u64,
    /// Its incident.
    pub incident_id: Option<String>,
    /// Its kind.
    pub kind: String,
    /// Outcome.
    pub status: Status,
    /// The differences.
    pub mismatches: Vec<Mismatch>,
    /// Notes that are not mismatches (e.g. a different engine config digest).
    pub notes: Vec<String>,
}

/// The replay of a selection.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when nothing mismatched.
    pub ok: bool,
    /// Receipts selected.
    pub selected: u64,
    /// Matched.
    pub matched: u64,
    /// Mismatched.
    pub mismatched: u64,
    /// Skipped.
    pub skipped: u64,
    /// Per receipt.
    pub receipts: Vec<ReceiptReplay>,
}

/// Replays the `selection` of the ledger in `path` on `engine` (use a fresh one).
///
/// # Errors
/// [`ReplayError::NotFound`] when nothing matches; [`ReplayError::Ledger`]/[`ReplayError::Store`] when
/// the ledger cannot be read. Mismatches are in the [`Report`], not errors.
pub fn replay(path: &Path, selection: &Selection, engine: &AndonEngine) -> Result<Report, ReplayError> {
    let store = ComponentStore::open(path, false)?;
    let mut replayer = Replayer { engine, store, loaded: HashMap::new() };
    let mut receipts = Vec::new();
    for (index, line) in ledger::read_lines(path)?.enumerate() {
        let line = line?;
        let parsed = StoredReceipt::parse(&line);
        let wanted = match (&selection, &parsed) {
            (Selection::All, _) => true,
            (Selection::Seq(seq), Ok(r)) => r.body.seq == *seq,
            (Selection::Seq(seq), Err(_)) => index as u64 + 1 == *seq,
            (Selection::Incident(id), Ok(r)) => r.body.incident_id.as_deref() == Some(id.as_str()),
            (Selection::Incident(_), Err(_)) => false,
        };
        if wanted {
            receipts.push(replayer.replay_line(index as u64 + 1, &line, parsed));
        }
    }
    if receipts.is_empty() && *selection != Selection::All {
        let what = match selection {
            Selection::Seq(seq) => format!("seq {seq}"),
            Selection::Incident(id) => format!("incident {id}"),
            Selection::All => unreachable!(),
        };
        return Err(ReplayError::NotFound(what));
    }
    let count = |status| receipts.iter().filter(|r: &&ReceiptReplay| r.status == status).count() as u64;
    Ok(Report {
        ok: count(Status::Mismatched) == 0,
        selected: receipts.len() as u64,
        matched: count(Status::Matched),
        mismatched: count(Status::Mismatched),
        skipped: count(Status::Skipped),
        receipts,
    })
}

struct Replayer<'a> {
    engine: &'a AndonEngine,
    store: ComponentStore,
    /// Compiled components by hash (`None`: the bytes do not load).
    loaded: HashMap<String, Option<LoadedComponent>>,
}

fn mismatch(
    what: impl Into<String>,
    recorded: impl ToString,
    replayed: impl ToString,
    message: impl Into<String>,
) -> Mismatch {
    Mismatch {
        what: what.into(),
        recorded: recorded.to_string(),
        replayed: replayed.to_string(),
        message: message.into(),
    }
}

impl Replayer<'_> {
    fn replay_line(
        &mut self,
        line_no: u64,
        line: &[u8],
        parsed: Result<StoredReceipt, serde_json::Error>,
    ) -> ReceiptReplay {
        let receipt = match parsed {
            Ok(receipt) => receipt,
            Err(e) => {
                return ReceiptReplay {
                    seq: line_no,
                    incident_id: None,
                    kind: "unknown".into(),
                    status: Status::Mismatched,
                    mismatches: vec![mismatch(
                        "receipt",
                        "",
                        "",
                        format!("line {line_no} is not a readable receipt: {e}"),
                    )],
                    notes: Vec::new(),
                };
            }
        };
        let body = &receipt.body;
        let mut out = ReceiptReplay {
            seq: body.seq,
            incident_id: body.incident_id.clone(),
            kind: body.kind.as_str().into(),
            status: Status::Matched,
            mismatches: Vec::new(),
            notes: Vec::new(),
        };
        // The receipt must be the one that was hashed before its content is trusted.
        if !scan::hash_matches_body(line) {
            out.mismatches.push(mismatch("hash", &receipt.hash, "", "the receipt's hash does not match its body"));
        }
        if body.components.is_empty() {
            out.status = if out.mismatches.is_empty() { Status::Skipped } else { Status::Mismatched };
            out.notes.push(format!("nothing to replay in a `{}` receipt", body.kind.as_str()));
            return out;
        }
        if out.mismatches.is_empty() {
            self.replay_runs(&receipt, &mut out);
        }
        if !out.mismatches.is_empty() {
            out.status = Status::Mismatched;
        }
        out
    }

    fn replay_runs(&mut self, receipt: &StoredReceipt, out: &mut ReceiptReplay) {
        let body = &receipt.body;
        if let Some(engine) = &body.engine
            && engine.config_digest != self.engine.config_digest()
        {
            out.notes.push(format!(
                "recorded with engine config {} (wasmtime {}), replayed with {} (wasmtime {})",
                engine.config_digest,
                engine.wasmtime,
                self.engine.config_digest(),
                self.engine.settings().wasmtime
            ));
        }
        let Some(document) = &body.evidence else {
            out.mismatches.push(mismatch("evidence", "null", "", "the receipt embeds no evidence to replay"));
            return;
        };
        let incident = match Incident::from_value(document.clone()) {
            Ok(incident) => incident,
            Err(e) => {
                out.mismatches.push(mismatch(
                    "evidence",
                    "",
                    "",
                    format!("the recorded evidence is not an incident: {e}"),
                ));
                return;
            }
        };
        if body.evidence_sha256.as_deref() != Some(incident.sha256.as_str()) {
            out.mismatches.push(mismatch(
                "evidence_sha256",
                body.evidence_sha256.as_deref().unwrap_or("null"),
                &incident.sha256,
                "the embedded evidence does not hash to evidence_sha256",
            ));
            return;
        }
        let mut decisions: Vec<Decision> = Vec::new();
        for (i, recorded) in body.components.iter().enumerate() {
            let at = |field: &str| format!("components[{i}].{field}");
            let bytes = match self.store.get(&recorded.sha256) {
                Ok(bytes) => bytes,
                Err(e) => {
                    let message = match &e {
                        store::StoreError::HashMismatch { .. } => "component bytes do not match their hash".to_string(),
                        other => other.to_string(),
                    };
                    let replayed = match &e {
                        store::StoreError::HashMismatch { actual, .. } => actual.clone(),
                        _ => String::new(),
                    };
                    out.mismatches.push(mismatch(at("sha256"), &recorded.sha256, replayed, message));
                    return;
                }
            };
            let request = GuestRequest::from_incident(&incident).with_settings(&recorded.settings);
            let rerun = self.run(&recorded.id, &bytes, &request, &recorded.limits);
            let rerun = match rerun {
                Ok(rerun) => rerun,
                Err(e) => {
                    out.mismatches.push(mismatch(at("outcome"), "", "", format!("the replay failed: {e}")));
                    return;
                }
            };
            let new = &rerun.run;
            if new.outcome != recorded.outcome || new.fault_class != recorded.fault_class {
                out.mismatches.push(mismatch(
                    at("outcome"),
                    format!("{:?}/{:?}", recorded.outcome, recorded.fault_class),
                    format!("{:?}/{:?}", new.outcome, new.fault_class),
                    "the run ended differently",
                ));
            }
            if new.output_sha256 != recorded.output_sha256 {
                out.mismatches.push(mismatch(
                    at("output_sha256"),
                    recorded.output_sha256.as_deref().unwrap_or("null"),
                    new.output_sha256.as_deref().unwrap_or("null"),
                    "the component's decision bytes differ",
                ));
            }
            let wall_clock = recorded.fault_class == Some(FaultClass::Deadline);
            if new.fuel_consumed != recorded.fuel_consumed && !wall_clock {
                out.mismatches.push(mismatch(
                    at("fuel_consumed"),
                    recorded.fuel_consumed,
                    new.fuel_consumed,
                    "the run used a different amount of fuel",
                ));
            }
            decisions.push(rerun.decision);
        }
        if decisions.is_empty() {
            return;
        }
        // The final decision is composed from the runs' decisions exactly as the
        // pipeline composes it (a single run's decision is its own).
        let composed = crate::pipeline::combine(&decisions);
        compare_decision(body.decision.as_ref(), body.decision_sha256.as_deref(), &composed, out);
    }

    fn run(
        &mut self,
        id: &str,
        bytes: &[u8],
        request: &GuestRequest,
        limits: &andon_core::Limits,
    ) -> andon_core::Result<RecordedRun> {
        let hash = sha256_hex(bytes);
        let engine = self.engine;
        let loaded = self.loaded.entry(hash).or_insert_with(|| LoadedComponent::load(engine, bytes).ok());
        match loaded {
            Some(component) => run::evaluate_loaded(engine, id, component, request, limits),
            None => run::evaluate_bytes(engine, id, bytes, request, limits),
        }
    }
}

fn compare_decision(
    recorded: Option<&Decision>,
    recorded_sha: Option<&str>,
    replayed: &Decision,
    out: &mut ReceiptReplay,
) {
    let replayed_bytes = replayed.canonical_bytes();
    let replayed_sha = sha256_hex(&replayed_bytes);
    let recorded_bytes = recorded.map(Decision::canonical_bytes);
    if recorded_bytes.as_deref() != Some(replayed_bytes.as_slice()) {
        out.mismatches.push(mismatch(
            "decision",
            recorded_bytes.map_or("null".into(), |b| String::from_utf8_lossy(&b).into_owned()),
            String::from_utf8_lossy(&replayed_bytes),
            "the final decision's RFC 8785 bytes differ",
        ));
    }
    if recorded_sha != Some(replayed_sha.as_str()) {
        out.mismatches.push(mismatch(
            "decision_sha256",
            recorded_sha.unwrap_or("null"),
            replayed_sha,
            "the final decision hashes differently",
        ));
    }
}
