//! The governed decision service behind `andon mcp` and `andon serve`.
//!
//! Submissions are taken in, recorded (`reported` receipt, durable before the
//! caller hears anything), queued by severity (critical → high → medium → low,
//! first in first out within a severity) and decided by a fixed pool of
//! `wip_limit` evaluator threads, so no more than `wip_limit` evaluations ever run
//! at once. The queue is bounded: a submission that finds it full is refused at
//! once with an `overloaded` receipt (a refusal with the doctrine's fields) and
//! never dropped. A watcher writes an `sla_breached` receipt for every incident
//! still undecided past its severity's deadline. [`Service::shutdown`] stops
//! intake, lets running evaluations finish and refuses every queued incident with
//! an `overloaded` receipt (reason `shutting_down`), so nothing accepted is lost.
//!
//! All receipts go through one [`GroupWriter`]: concurrent callers share fsyncs.
//! On start the service rebuilds its index of incidents from the ledger and
//! queues again every incident that was reported but never decided (a crash
//! between intake and decision).

pub mod metrics;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use andon_core::decision::{Check, Decision, MissingPrerequisite, Refusal};
use andon_core::engine::AndonEngine;
use andon_core::evidence::{
    DEFAULT_MAX_EVIDENCE_BYTES, Incident, InputError, Severity, canonical_bytes_of, sha256_hex,
};
use andon_ledger::keys::HmacKey;
use andon_ledger::ledger::group::GroupWriter;
use andon_ledger::ledger::{self, Appended, Ledger, Options};
use andon_ledger::receipt::{Draft, Kind, StoredReceipt};
use andon_ledger::store::ComponentStore;
use andon_work::bundle::Bundle;
use andon_work::incident::{self, ExecutionStatus, IncidentError};
use andon_work::outputs::{self, Status};
use andon_work::pipeline::{self, Outcome};

pub use metrics::Metrics;

/// Refusal reason of a submission the full queue could not take.
pub const OVERLOADED: &str = "overloaded";
/// Refusal reason of a queued submission refused because the server stopped.
pub const SHUTTING_DOWN: &str = "shutting_down";
/// Policy reference of capacity refusals.
pub const CAPACITY_POLICY: &str = "ANDON-GOVERNANCE-CAPACITY";

/// Capacity governance settings.
#[derive(Debug, Clone)]
pub struct Governance {
    /// Evaluations allowed to run at once (the doctrine's WIP limit per evaluator).
    pub wip_limit: usize,
    /// Submissions allowed to wait; beyond this they are refused as overloaded.
    pub queue_capacity: usize,
    /// Deadline from acceptance to decision, by severity: critical, high, medium, low.
    pub sla: [Duration; 4],
}

impl Default for Governance {
    /// WIP 3, queue of 1024, SLA 3 / 8 / 15 / 30 minutes.
    fn default() -> Governance {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Governance { wip_limit: 3, queue_capacity: 1024, sla: [minutes(3), minutes(8), minutes(15), minutes(30)] }
    }
}

impl Governance {
    /// The decision deadline of `severity`.
    pub fn deadline(&self, severity: Severity) -> Duration {
        self.sla[rank(severity)]
    }
}

/// Queue order: critical first.
pub fn rank(severity: Severity) -> usize {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

const SEVERITIES: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

/// Everything the service needs.
pub struct Config {
    /// The ledger directory (created when missing).
    pub ledger_dir: PathBuf,
    /// HMAC key of the receipts.
    pub hmac_key: HmacKey,
    /// Ed25519 key (id, key) of checkpoints and exports.
    pub signing_key: (String, SigningKey),
    /// Loaded, verified bundles; a submission goes to the first that routes its kind.
    pub bundles: Vec<Bundle>,
    /// Where `export` writes evidence bundles.
    pub export_dir: PathBuf,
    /// Governance settings.
    pub governance: Governance,
    /// The engine the bundles were loaded with.
    pub engine: Arc<AndonEngine>,
}

/// A failure of a service operation (a genuine failure, not a policy refusal).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The evidence is not acceptable.
    #[error("invalid evidence: {0}")]
    Input(#[from] InputError),
    /// An incident operation was refused (unknown id, illegal transition, …).
    #[error(transparent)]
    Incident(#[from] IncidentError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] ledger::Error),
    /// The incident is queued or being evaluated now.
    #[error("incident `{0}` is already queued, being evaluated or being updated; wait for that to finish")]
    InProgress(String),
    /// The incident was already decided.
    #[error("incident `{0}` already exists in the ledger; submit new evidence under a new incident id")]
    AlreadyExists(String),
    /// No loaded bundle has this name.
    #[error("no loaded bundle is named `{0}`")]
    NoSuchBundle(String),
    /// Export failed.
    #[error(transparent)]
    Export(#[from] andon_work::export::ExportError),
    /// Replay failed.
    #[error(transparent)]
    Replay(#[from] andon_work::replay::Error),
    /// An archive could not be written.
    #[error(transparent)]
    Archive(#[from] andon_work::bundle::archive::ArchiveError),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The service is stopping.
    #[error("the service is shutting down")]
    ShuttingDown,
    /// An evaluator failed to record the decision.
    #[error("the decision could not be recorded: {0}")]
    Recording(String),
}

/// A receipt reference returned to clients.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReceiptRef {
    /// Ledger sequence number.
    pub seq: u64,
    /// Receipt hash.
    pub hash: String,
    /// Receipt kind.
    pub kind: String,
    /// Resource URI of the receipt (`andon://receipts/<seq>`).
    pub uri: String,
}

impl ReceiptRef {
    /// The reference of a stored receipt.
    pub fn of(receipt: &StoredReceipt) -> ReceiptRef {
        ReceiptRef {
            seq: receipt.body.seq,
            hash: receipt.hash.clone(),
            kind: receipt.body.kind.as_str().into(),
            uri: receipt_uri(receipt.body.seq),
        }
    }

    fn new(appended: &Appended, kind: Kind) -> ReceiptRef {
        ReceiptRef {
            seq: appended.seq,
            hash: appended.hash.clone(),
            kind: kind.as_str().into(),
            uri: receipt_uri(appended.seq),
        }
    }
}

/// The resource URI of receipt `seq`.
pub fn receipt_uri(seq: u64) -> String {
    format!("andon://receipts/{seq}")
}

/// The answer to a submission.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Decided {
    /// Incident id.
    pub incident_id: String,
    /// `planned`, `refused` (a policy refusal) or `overloaded` (refused by capacity
    /// governance before evaluation; the same evidence may be submitted again).
    pub status: String,
    /// The decision: a plan, or a refusal with reason, checks, missing
    /// prerequisites, next lawful step and policy reference.
    pub decision: Decision,
    /// Where the pipeline stopped (`routing`, `ontology`, `gate:<id>`,
    /// `recipe:<id>`), or `governance`.
    pub stage: String,
    /// SHA-256 of the redacted canonical evidence.
    pub evidence_sha256: String,
    /// Severity.
    pub severity: String,
    /// The receipts written for this submission, in order.
    pub receipts: Vec<ReceiptRef>,
    /// Milliseconds from acceptance to the start of evaluation.
    pub queued_ms: f64,
    /// Milliseconds from acceptance to the durable decision.
    pub decision_ms: f64,
    /// Whether the decision deadline passed before the decision.
    pub sla_breached: bool,
    /// What intake redacted (`pointer (rule)`).
    pub redactions: Vec<String>,
}

/// Where an incident is in the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// Its `reported` (or `overloaded`) receipt is being written.
    Accepting,
    /// Waiting for an evaluator.
    Queued,
    /// Being evaluated.
    Evaluating,
    /// Decided (or later in its lifecycle).
    Decided,
    /// Refused by capacity; may be submitted again.
    Resubmittable,
    /// A lifecycle step (outcome, close) is being recorded.
    Updating,
}

struct Job {
    incident: Incident,
    redactions: Vec<String>,
    bundle: usize,
    evaluation_mode: bool,
    accepted: Instant,
    receipts: Vec<ReceiptRef>,
    reply: Option<oneshot::Sender<Result<Decided, String>>>,
}

struct Pending {
    severity: Severity,
    accepted: Instant,
    deadline: Instant,
    breached: bool,
}

#[derive(Default)]
struct State {
    queues: [VecDeque<Job>; 4],
    queued: usize,
    accepting: usize,
    in_flight: usize,
    max_in_flight: usize,
    stopping: bool,
    phases: HashMap<String, Phase>,
    pending: HashMap<String, Pending>,
}

struct Inner {
    engine: Arc<AndonEngine>,
    bundles: Vec<Bundle>,
    writer: GroupWriter,
    ledger_dir: PathBuf,
    export_dir: PathBuf,
    signing_key: SigningKey,
    governance: Governance,
    metrics: Metrics,
    state: Mutex<State>,
    work: Condvar,
    stop_watcher: Mutex<bool>,
    watcher_wake: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The running service: evaluator threads, the SLA watcher and the ledger writer.
pub struct Service {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("ledger", &self.inner.ledger_dir).finish_non_exhaustive()
    }
}

/// What a submission turned into before its decision.
#[derive(Debug)]
pub enum Accepted {
    /// Queued; the decision arrives on the receiver.
    Queued(oneshot::Receiver<Result<Decided, String>>),
    /// Refused at once by capacity governance (already recorded).
    Overloaded(Box<Decided>),
}

/// A snapshot of the governance state.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GovernanceStatus {
    /// Queued submissions by severity (critical, high, medium, low).
    pub queue_depth: [usize; 4],
    /// Evaluations running now.
    pub in_flight: usize,
    /// The most evaluations ever running at once.
    pub max_in_flight: usize,
    /// The WIP limit.
    pub wip_limit: usize,
    /// The queue bound.
    pub queue_capacity: usize,
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn capacity_refusal(reason: &str, detail: String) -> Decision {
    let (next, missing) = if reason == OVERLOADED {
        (
            "submit the same evidence again once the queue drains (see the andon_queue_depth metric); for a critical incident, escalate to the on-call owner now",
            "evaluation_capacity",
        )
    } else {
        ("submit the same evidence again to a running Andon host; nothing was evaluated", "running_host")
    };
    Decision::Refused {
        refusal: Refusal {
            checks: vec![Check {
                detail,
                name: if reason == OVERLOADED { "queue_capacity".into() } else { "host_running".into() },
                passed: false,
            }],
            missing: vec![MissingPrerequisite { name: missing.into(), status: "unavailable".into() }],
            next_lawful_step: next.into(),
            policy_reference: CAPACITY_POLICY.into(),
            reason: reason.into(),
        },
    }
}

fn capacity_draft(
    incident: &Incident,
    bundle: &Bundle,
    decision: &Decision,
    evaluation_mode: bool,
    extra: Value,
) -> Draft {
    let mut draft = Draft::new(Kind::Overloaded);
    draft.incident_id = Some(incident.envelope.incident_id.clone());
    draft.evidence_sha256 = Some(incident.sha256.clone());
    draft.evidence = Some(incident.document.clone());
    draft.decision_sha256 = Some(sha256_hex(&canonical_bytes_of(decision).expect("decisions serialize")));
    draft.decision = Some(decision.clone());
    draft.bundle = Some(bundle.receipt_ref());
    draft.annotation = Some(extra);
    draft.evaluation_mode = evaluation_mode;
    draft
}

fn wall_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Service {
    /// Opens the ledger, rebuilds the incident index, queues undecided incidents
    /// again and starts the evaluators and the SLA watcher.
    ///
    /// # Errors
    /// [`ServiceError::Ledger`] when the ledger cannot be opened or read;
    /// [`ServiceError::Io`] when the export directory cannot be created.
    pub fn start(config: Config) -> Result<Service, ServiceError> {
        let Config { ledger_dir, hmac_key, signing_key, bundles, export_dir, governance, engine } = config;
        assert!(!bundles.is_empty(), "the service needs at least one bundle");
        std::fs::create_dir_all(&ledger_dir).map_err(|source| ServiceError::Io { path: ledger_dir.clone(), source })?;
        std::fs::create_dir_all(&export_dir).map_err(|source| ServiceError::Io { path: export_dir.clone(), source })?;
        let ledger = Ledger::open(
            &ledger_dir,
            hmac_key,
            Options { signing_key: Some(signing_key.clone()), ..Options::default() },
        )?;
        let store = ComponentStore::open(&ledger_dir, true).map_err(IncidentError::Store)?;
        for bundle in &bundles {
            for component in bundle.components.values() {
                store.put(component.loaded.bytes()).map_err(IncidentError::Store)?;
            }
        }
        let recovered = index(&ledger_dir)?;
        let wip = governance.wip_limit.max(1);
        let metrics = Metrics::new(wip, governance.queue_capacity);
        let inner = Arc::new(Inner {
            engine,
            bundles,
            writer: GroupWriter::spawn(ledger, 1024),
            ledger_dir,
            export_dir,
            signing_key: signing_key.1,
            governance,
            metrics,
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            stop_watcher: Mutex::new(false),
            watcher_wake: Condvar::new(),
        });
        {
            let mut state = inner.lock();
            let now = wall_millis();
            // First in, first out: queue the recovered backlog in ledger order.
            let mut recovered: Vec<_> = recovered.into_iter().collect();
            recovered.sort_by_key(|(_, (_, first, _))| first.body.seq);
            for (id, (phase, first, breached)) in recovered {
                if phase != Phase::Queued {
                    state.phases.insert(id, phase);
                    continue;
                }
                // Reported but never decided: decide it now.
                let Some(incident) = first.body.evidence.clone().and_then(|d| Incident::from_value(d).ok()) else {
                    tracing::error!(incident = %id, seq = first.body.seq, "cannot rebuild an undecided incident from its receipt; not queued");
                    continue;
                };
                let waited = outputs::parse_millis(&first.body.timestamp).map_or(0, |t| now.saturating_sub(t));
                let accepted = Instant::now().checked_sub(Duration::from_millis(waited)).unwrap_or_else(Instant::now);
                let bundle = first
                    .body
                    .bundle
                    .as_ref()
                    .and_then(|b| b["digest"].as_str())
                    .and_then(|d| inner.bundles.iter().position(|b| b.digest == d))
                    .unwrap_or_else(|| inner.route(&incident));
                tracing::info!(incident = %id, "recovered an undecided incident; queueing it again");
                let job = Job {
                    redactions: Vec::new(),
                    bundle,
                    evaluation_mode: first.body.evaluation_mode,
                    accepted,
                    receipts: vec![ReceiptRef::of(&first)],
                    reply: None,
                    incident,
                };
                inner.enqueue(&mut state, id.clone(), job);
                if let Some(pending) = state.pending.get_mut(&id) {
                    pending.breached = breached;
                }
            }
        }
        let mut threads = Vec::new();
        for n in 0..wip {
            let inner = Arc::clone(&inner);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("andon-evaluator-{n}"))
                    .spawn(move || inner.evaluator())
                    .expect("cannot start an evaluator thread"),
            );
        }
        let watcher = Arc::clone(&inner);
        threads.push(
            std::thread::Builder::new()
                .name("andon-sla".into())
                .spawn(move || watcher.watch_slas())
                .expect("cannot start the SLA watcher"),
        );
        Ok(Service { inner, threads: Mutex::new(threads) })
    }

    /// The loaded bundles.
    pub fn bundles(&self) -> &[Bundle] {
        &self.inner.bundles
    }

    /// The ledger directory.
    pub fn ledger_dir(&self) -> &Path {
        &self.inner.ledger_dir
    }

    /// The engine.
    pub fn engine(&self) -> &AndonEngine {
        &self.inner.engine
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The governance settings.
    pub fn governance(&self) -> &Governance {
        &self.inner.governance
    }

    /// A snapshot of queue depths and WIP.
    pub fn status(&self) -> GovernanceStatus {
        let state = self.inner.lock();
        GovernanceStatus {
            queue_depth: std::array::from_fn(|i| state.queues[i].len()),
            in_flight: state.in_flight,
            max_in_flight: state.max_in_flight,
            wip_limit: self.inner.governance.wip_limit.max(1),
            queue_capacity: self.inner.governance.queue_capacity,
        }
    }

    /// Takes a submission in (blocking: intake and the durable `reported` or
    /// `overloaded` receipt). `bundle` names a loaded bundle; by default the first
    /// that routes the incident's kind.
    ///
    /// # Errors
    /// Bad evidence, an incident already known, an unknown bundle, or a ledger
    /// failure; nothing was recorded then.
    pub fn accept(&self, bytes: &[u8], bundle: Option<&str>, evaluation_mode: bool) -> Result<Accepted, ServiceError> {
        let inner = &self.inner;
        let accepted = Instant::now();
        let (incident, redactions) = incident::intake(bytes, DEFAULT_MAX_EVIDENCE_BYTES)?;
        let bundle = match bundle {
            Some(name) => inner
                .bundles
                .iter()
                .position(|b| b.manifest.name == name)
                .ok_or_else(|| ServiceError::NoSuchBundle(name.into()))?,
            None => inner.route(&incident),
        };
        let id = incident.envelope.incident_id.clone();
        let severity = incident.envelope.severity;
        inner.metrics.submissions.get_or_create(&metrics::severity(severity)).inc();
        let refuse = {
            let mut state = inner.lock();
            match state.phases.get(&id) {
                Some(Phase::Accepting | Phase::Queued | Phase::Evaluating | Phase::Updating) => {
                    return Err(ServiceError::InProgress(id));
                }
                Some(Phase::Decided) => return Err(ServiceError::AlreadyExists(id)),
                Some(Phase::Resubmittable) | None => {}
            }
            state.phases.insert(id.clone(), Phase::Accepting);
            if state.stopping {
                Some((SHUTTING_DOWN, "the host is shutting down and takes no new submissions".to_string()))
            } else if state.queued + state.accepting >= inner.governance.queue_capacity {
                Some((
                    OVERLOADED,
                    format!(
                        "queue full: {} submissions waiting or being taken in, capacity {}",
                        state.queued + state.accepting,
                        inner.governance.queue_capacity
                    ),
                ))
            } else {
                state.accepting += 1;
                None
            }
        };
        let names = redactions.iter().map(|r| format!("{} ({})", r.pointer, r.rule)).collect();
        let mut job =
            Job { incident, redactions: names, bundle, evaluation_mode, accepted, receipts: Vec::new(), reply: None };
        if let Some((reason, detail)) = refuse {
            let annotation = json!({
                "governance": { "reason": reason, "queue_capacity": inner.governance.queue_capacity },
                "redactions": job.redactions,
            });
            let refused = inner.refuse_for_capacity(&mut job, reason, detail, annotation, Duration::ZERO);
            let mut state = inner.lock();
            let decided = match refused {
                Ok(decided) => decided,
                Err(e) => {
                    state.phases.remove(&id);
                    return Err(e.into());
                }
            };
            state.phases.insert(id.clone(), Phase::Resubmittable);
            drop(state);
            tracing::warn!(incident = %id, reason, "submission refused by capacity governance");
            return Ok(Accepted::Overloaded(Box::new(decided)));
        }
        let reported = incident::reported_draft(&inner.bundles[bundle], &job.incident, &redactions, evaluation_mode);
        let appended = inner.writer.append(reported);
        let mut state = inner.lock();
        state.accepting -= 1;
        let appended = match appended {
            Ok(a) => a,
            Err(e) => {
                state.phases.remove(&id);
                return Err(e.into());
            }
        };
        inner.metrics.receipts.inc();
        let (reply, answer) = oneshot::channel();
        job.receipts.push(ReceiptRef::new(&appended, Kind::Reported));
        job.reply = Some(reply);
        if state.stopping {
            // The drain ran while this one was being recorded: no evaluator will
            // take it any more, so it is refused here, with a receipt.
            drop(state);
            inner.refuse_queued(job);
        } else {
            inner.enqueue(&mut state, id, job);
        }
        Ok(Accepted::Queued(answer))
    }

    /// Submits and waits for the decision (blocking).
    ///
    /// # Errors
    /// As [`Service::accept`], and [`ServiceError::Recording`] when the decision
    /// could not be recorded.
    pub fn submit(&self, bytes: &[u8], bundle: Option<&str>, evaluation_mode: bool) -> Result<Decided, ServiceError> {
        match self.accept(bytes, bundle, evaluation_mode)? {
            Accepted::Overloaded(decided) => Ok(*decided),
            Accepted::Queued(answer) => answer
                .blocking_recv()
                .map_err(|_| ServiceError::Recording("the evaluator stopped".into()))?
                .map_err(ServiceError::Recording),
        }
    }

    /// Every receipt of incident `id`, in chain order.
    ///
    /// # Errors
    /// [`ServiceError::Incident`] when the ledger cannot be read or the incident is unknown.
    pub fn receipts_of(&self, id: &str) -> Result<Vec<StoredReceipt>, ServiceError> {
        let receipts = incident::receipts_of(&self.inner.ledger_dir, id)?;
        if receipts.is_empty() {
            return Err(IncidentError::NotFound(id.into()).into());
        }
        Ok(receipts)
    }

    /// The phase of incident `id` in this service (`queued`, `evaluating`, …).
    pub fn phase(&self, id: &str) -> Option<String> {
        let state = self.inner.lock();
        state
            .phases
            .get(id)
            .map(|p| serde_json::to_value(p).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
    }

    /// One receipt by seq.
    ///
    /// # Errors
    /// [`ServiceError::Ledger`] when the ledger cannot be read.
    pub fn receipt(&self, seq: u64) -> Result<Option<Vec<u8>>, ServiceError> {
        if seq == 0 {
            return Ok(None);
        }
        let index = usize::try_from(seq - 1).unwrap_or(usize::MAX);
        match ledger::read_lines(&self.inner.ledger_dir)?.nth(index) {
            Some(line) => Ok(Some(line?)),
            None => Ok(None),
        }
    }

    /// The last `limit` receipts' refs (newest last).
    ///
    /// # Errors
    /// [`ServiceError::Incident`] when the ledger cannot be read.
    pub fn recent_receipts(&self, limit: usize) -> Result<Vec<ReceiptRef>, ServiceError> {
        let all = incident::all_receipts(&self.inner.ledger_dir)?;
        let skip = all.len().saturating_sub(limit);
        Ok(all.iter().skip(skip).map(ReceiptRef::of).collect())
    }

    /// Records the outcome of an incident's plan (`executed` receipt).
    ///
    /// # Errors
    /// [`ServiceError::Incident`] on an illegal transition or unknown incident.
    pub fn record_outcome(&self, id: &str, status: ExecutionStatus, note: &str) -> Result<ReceiptRef, ServiceError> {
        let previous = self.claim(id)?;
        let result = self.read_then_append(id, |receipts| incident::outcome_draft(receipts, id, status, note));
        let appended = self.settle(id, previous, result)?;
        Ok(ReceiptRef::new(&appended, Kind::Executed))
    }

    /// Closes an incident (`closed` receipt).
    ///
    /// # Errors
    /// [`ServiceError::Incident`] on an illegal transition or unknown incident.
    pub fn close(&self, id: &str, feedback: &str) -> Result<ReceiptRef, ServiceError> {
        let previous = self.claim(id)?;
        let result = self.read_then_append(id, |receipts| incident::close_draft(receipts, id, feedback));
        let appended = self.settle(id, previous, result)?;
        Ok(ReceiptRef::new(&appended, Kind::Closed))
    }

    /// Reads the incident's receipts outside the writer thread (the claim keeps
    /// every other change of this incident out meanwhile), builds the next receipt
    /// from them and appends it through the group commit.
    fn read_then_append(
        &self,
        id: &str,
        draft: impl FnOnce(&[StoredReceipt]) -> Result<Draft, IncidentError>,
    ) -> Result<Appended, ServiceError> {
        let receipts = incident::receipts_of(&self.inner.ledger_dir, id)?;
        let draft = draft(&receipts)?;
        Ok(self.inner.writer.append(draft)?)
    }

    /// Claims `id` for a lifecycle step (so neither a resubmission nor another
    /// step races it) and returns its previous phase; refuses while it is being
    /// taken in, decided or updated.
    fn claim(&self, id: &str) -> Result<Option<Phase>, ServiceError> {
        let mut state = self.inner.lock();
        let previous = state.phases.get(id).copied();
        if matches!(previous, Some(Phase::Accepting | Phase::Queued | Phase::Evaluating | Phase::Updating)) {
            return Err(ServiceError::InProgress(id.into()));
        }
        if previous.is_some() {
            state.phases.insert(id.into(), Phase::Updating);
        }
        Ok(previous)
    }

    /// Counts the receipt of a lifecycle step, or restores the phase of `id` when
    /// the step failed.
    fn settle(
        &self,
        id: &str,
        previous: Option<Phase>,
        result: Result<Appended, ServiceError>,
    ) -> Result<Appended, ServiceError> {
        if let Some(phase) = previous {
            // After a lifecycle step the incident is final: no resubmission.
            let phase = if result.is_ok() { Phase::Decided } else { phase };
            self.inner.lock().phases.insert(id.into(), phase);
        }
        if result.is_ok() {
            self.inner.metrics.receipts.inc();
        }
        result
    }

    /// Writes the evidence bundle of incident `id` to the export directory and
    /// returns its path and SHA-256.
    ///
    /// # Errors
    /// [`ServiceError::Export`] (unknown incident …), [`ServiceError::Io`].
    pub fn export(&self, id: &str) -> Result<(PathBuf, String, u64), ServiceError> {
        let inner = &self.inner;
        let files = andon_work::export::export_files(&inner.ledger_dir, id, &inner.signing_key)?;
        // A readable prefix plus a hash of the exact id: distinct ids never share a file.
        let safe: String = id
            .chars()
            .take(64)
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        let path = inner.export_dir.join(format!("evidence-bundle-{safe}-{}.tar.gz", &sha256_hex(id.as_bytes())[..12]));
        let mut bytes = Vec::new();
        andon_work::bundle::archive::pack(&files, &mut bytes)?;
        let io = |source| ServiceError::Io { path: path.clone(), source };
        {
            use std::io::Write as _;
            let mut file = tempfile::NamedTempFile::new_in(&inner.export_dir).map_err(io)?;
            file.write_all(&bytes).map_err(io)?;
            file.as_file().sync_all().map_err(io)?;
            file.persist(&path).map_err(|e| io(e.error))?;
        }
        Ok((path, sha256_hex(&bytes), bytes.len() as u64))
    }

    /// Verifies the ledger (hashes, links, MACs, checkpoint signatures) between two
    /// group commits.
    ///
    /// # Errors
    /// [`ServiceError::Ledger`] when the ledger cannot be read.
    pub fn verify(&self) -> Result<ledger::verify::Report, ServiceError> {
        let dir = self.inner.ledger_dir.clone();
        let public = self.inner.signing_key.verifying_key();
        self.inner
            .writer
            .with(move |ledger| {
                let options = ledger::verify::VerifyOptions {
                    keys: vec![ledger.key().clone()],
                    public_key: Some((andon_ledger::keys::ed25519_key_id(&public), public)),
                    held: Vec::new(),
                };
                ledger::verify::verify(&dir, &options, &mut |_, _| {})
            })?
            .map_err(ServiceError::from)
    }

    /// Replays the receipt `seq` on a fresh engine.
    ///
    /// # Errors
    /// [`ServiceError::Replay`] when nothing matches or the ledger cannot be read.
    pub fn replay(&self, seq: u64) -> Result<andon_work::replay::Report, ServiceError> {
        let engine = AndonEngine::new().map_err(|e| ServiceError::Recording(e.to_string()))?;
        Ok(andon_work::replay::replay(&self.inner.ledger_dir, &andon_work::replay::Selection::Seq(seq), &engine)?)
    }

    /// Stops intake, lets running evaluations finish, refuses every queued incident
    /// with an `overloaded` receipt (reason `shutting_down`), stops the threads and
    /// writes a final checkpoint. Idempotent.
    pub fn shutdown(&self) {
        let inner = &self.inner;
        let drained: Vec<Job> = {
            let mut state = inner.lock();
            if state.stopping {
                // Already drained (and checkpointed) by an earlier call.
                return;
            } else {
                state.stopping = true;
                let mut jobs = Vec::new();
                for q in &mut state.queues {
                    jobs.extend(q.drain(..));
                }
                state.queued = 0;
                for s in SEVERITIES {
                    inner.metrics.queue_depth.get_or_create(&metrics::severity(s)).set(0);
                }
                jobs
            }
        };
        inner.work.notify_all();
        if !drained.is_empty() {
            tracing::warn!(count = drained.len(), "shutting down: refusing queued incidents with receipts");
        }
        for job in drained {
            inner.refuse_queued(job);
        }
        *inner.stop_watcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        inner.watcher_wake.notify_all();
        let threads: Vec<_> =
            self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..).collect();
        for thread in threads {
            let _ = thread.join();
        }
        match inner.writer.with(Ledger::checkpoint) {
            Ok(Ok(cp)) => tracing::info!(seq = cp.seq, "final checkpoint written"),
            Ok(Err(e)) => tracing::error!("final checkpoint failed: {e}"),
            Err(e) => tracing::error!("final checkpoint failed: {e}"),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    /// The first bundle that routes the incident's kind, else the first bundle
    /// (whose routing then refuses with `no_standard_work`).
    fn route(&self, incident: &Incident) -> usize {
        self.bundles.iter().position(|b| b.manifest.route(&incident.envelope.kind).is_some()).unwrap_or(0)
    }

    fn enqueue(&self, state: &mut State, id: String, job: Job) {
        let severity = job.incident.envelope.severity;
        state.pending.insert(
            id.clone(),
            Pending {
                severity,
                accepted: job.accepted,
                deadline: job.accepted + self.governance.deadline(severity),
                breached: false,
            },
        );
        state.phases.insert(id, Phase::Queued);
        state.queues[rank(severity)].push_back(job);
        state.queued += 1;
        self.metrics.queue_depth.get_or_create(&metrics::severity(severity)).inc();
        self.work.notify_one();
    }

    fn evaluator(&self) {
        loop {
            let (job, in_flight) = {
                let mut state = self.lock();
                loop {
                    if let Some(q) = state.queues.iter().position(|q| !q.is_empty()) {
                        let job = state.queues[q].pop_front().expect("non-empty");
                        state.queued -= 1;
                        state.in_flight += 1;
                        state.max_in_flight = state.max_in_flight.max(state.in_flight);
                        state.phases.insert(job.incident.envelope.incident_id.clone(), Phase::Evaluating);
                        self.metrics.queue_depth.get_or_create(&metrics::severity(SEVERITIES[q])).dec();
                        self.metrics.in_flight.set(i64::try_from(state.in_flight).unwrap_or(i64::MAX));
                        self.metrics.in_flight_max.set(i64::try_from(state.max_in_flight).unwrap_or(i64::MAX));
                        break (job, state.in_flight);
                    }
                    if state.stopping {
                        return;
                    }
                    state = self.work.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            };
            let id = job.incident.envelope.incident_id.clone();
            let decided = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.decide(job, in_flight)));
            if decided.is_err() {
                // Never a host crash: the caller's channel was dropped (it hears that
                // the evaluator stopped), the slot is freed, and the incident may be
                // submitted again; its `reported` receipt stays on the ledger.
                tracing::error!(incident = %id, "evaluation panicked; the incident may be submitted again");
                let mut state = self.lock();
                state.in_flight -= 1;
                self.metrics.in_flight.set(i64::try_from(state.in_flight).unwrap_or(i64::MAX));
                state.pending.remove(&id);
                state.phases.insert(id, Phase::Resubmittable);
            }
        }
    }

    fn decide(&self, mut job: Job, in_flight: usize) {
        let started = Instant::now();
        let id = job.incident.envelope.incident_id.clone();
        let severity = job.incident.envelope.severity;
        let bundle = &self.bundles[job.bundle];
        let outcome: Outcome = pipeline::decide(&self.engine, bundle, &job.incident);
        let queued = started.duration_since(job.accepted);
        let breached_now = {
            let mut state = self.lock();
            match state.pending.get_mut(&id) {
                Some(p) if !p.breached && Instant::now() > p.deadline => {
                    p.breached = true;
                    true
                }
                _ => false,
            }
        };
        let deadline = self.governance.deadline(severity);
        let mut drafts = Vec::new();
        if breached_now {
            drafts.push(self.breach_draft(&id, severity, job.accepted.elapsed(), deadline, "evaluating"));
        }
        let governance = json!({ "governance": {
            "severity": severity.as_str(),
            "queued_ms": millis(queued),
            "wip_in_flight": in_flight,
            "wip_limit": self.governance.wip_limit.max(1),
            "sla_ms": millis(deadline),
        }});
        drafts.extend(incident::decision_drafts(
            &self.engine,
            bundle,
            &job.incident,
            &outcome,
            job.evaluation_mode,
            &governance,
        ));
        let kinds: Vec<Kind> = drafts.iter().map(|d| d.kind).collect();
        let written = self.writer.append_batch(drafts);
        let decided = Instant::now();
        let sla_breached = {
            let mut state = self.lock();
            state.in_flight -= 1;
            self.metrics.in_flight.set(i64::try_from(state.in_flight).unwrap_or(i64::MAX));
            let breached = state.pending.remove(&id).is_some_and(|p| p.breached);
            // A decision that could not be recorded leaves only `reported`: the
            // caller hears the failure and may submit the evidence again.
            state.phases.insert(id.clone(), if written.is_ok() { Phase::Decided } else { Phase::Resubmittable });
            breached
        };
        let result = match written {
            Ok(appended) => {
                let status = if outcome.decision.refusal().is_some() { "refused" } else { "planned" };
                self.metrics.receipts.inc_by(appended.len() as u64);
                self.metrics.decisions.get_or_create(&metrics::OutcomeLabel { outcome: status }).inc();
                self.metrics.fuel.inc_by(outcome.runs.iter().map(|r| r.fuel_consumed).sum());
                self.metrics.queue_wait.get_or_create(&metrics::severity(severity)).observe(queued.as_secs_f64());
                self.metrics
                    .time_to_decision
                    .get_or_create(&metrics::severity(severity))
                    .observe(decided.duration_since(job.accepted).as_secs_f64());
                if breached_now {
                    self.metrics.sla_breaches.get_or_create(&metrics::severity(severity)).inc();
                }
                job.receipts.extend(appended.iter().zip(kinds).map(|(a, k)| ReceiptRef::new(a, k)));
                Ok(Decided {
                    incident_id: id.clone(),
                    status: status.into(),
                    decision: outcome.decision.clone(),
                    stage: outcome.stage.name(),
                    evidence_sha256: job.incident.sha256.clone(),
                    severity: severity.as_str().into(),
                    receipts: job.receipts,
                    queued_ms: millis(queued),
                    decision_ms: millis(decided.duration_since(job.accepted)),
                    sla_breached,
                    redactions: job.redactions,
                })
            }
            Err(e) => {
                tracing::error!(incident = %id, "cannot record the decision: {e}");
                Err(e.to_string())
            }
        };
        if let Some(reply) = job.reply.take() {
            let _ = reply.send(result);
        }
    }

    fn breach_draft(&self, id: &str, severity: Severity, waited: Duration, deadline: Duration, phase: &str) -> Draft {
        let mut draft = Draft::new(Kind::SlaBreached);
        draft.incident_id = Some(id.into());
        draft.annotation = Some(json!({
            "severity": severity.as_str(),
            "sla_ms": millis(deadline),
            "waited_ms": millis(waited),
            "phase": phase,
        }));
        draft
    }

    /// Records a capacity refusal of `job` (an `overloaded` receipt carrying its
    /// evidence and a refusal with the doctrine's fields) and builds the answer.
    fn refuse_for_capacity(
        &self,
        job: &mut Job,
        reason: &'static str,
        detail: String,
        annotation: Value,
        queued: Duration,
    ) -> Result<Decided, ledger::Error> {
        let decision = capacity_refusal(reason, detail);
        let draft =
            capacity_draft(&job.incident, &self.bundles[job.bundle], &decision, job.evaluation_mode, annotation);
        let appended = self.writer.append(draft)?;
        self.metrics.receipts.inc();
        self.metrics.decisions.get_or_create(&metrics::OutcomeLabel { outcome: "overloaded" }).inc();
        job.receipts.push(ReceiptRef::new(&appended, Kind::Overloaded));
        Ok(Decided {
            incident_id: job.incident.envelope.incident_id.clone(),
            status: "overloaded".into(),
            decision,
            stage: "governance".into(),
            evidence_sha256: job.incident.sha256.clone(),
            severity: job.incident.envelope.severity.as_str().into(),
            receipts: std::mem::take(&mut job.receipts),
            queued_ms: millis(queued),
            decision_ms: millis(job.accepted.elapsed()),
            sla_breached: false,
            redactions: std::mem::take(&mut job.redactions),
        })
    }

    fn refuse_queued(&self, mut job: Job) {
        let id = job.incident.envelope.incident_id.clone();
        let detail = "the host stopped before this incident was evaluated".to_string();
        let annotation = json!({ "governance": { "reason": SHUTTING_DOWN } });
        let queued = job.accepted.elapsed();
        let result = self.refuse_for_capacity(&mut job, SHUTTING_DOWN, detail, annotation, queued);
        {
            let mut state = self.lock();
            state.pending.remove(&id);
            state.phases.insert(id, Phase::Resubmittable);
        }
        if let Some(reply) = job.reply.take() {
            let _ = reply.send(result.map_err(|e| e.to_string()));
        }
    }

    fn watch_slas(&self) {
        let shortest = self.governance.sla.iter().min().copied().unwrap_or(Duration::from_secs(60));
        let tick = (shortest / 20).clamp(Duration::from_millis(5), Duration::from_secs(1));
        loop {
            {
                let stop = self.stop_watcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if *stop {
                    return;
                }
                let (stop, _) =
                    self.watcher_wake.wait_timeout(stop, tick).unwrap_or_else(std::sync::PoisonError::into_inner);
                if *stop {
                    return;
                }
            }
            let now = Instant::now();
            let due: Vec<(String, Severity, Duration, &'static str)> = {
                let mut state = self.lock();
                let State { pending, phases, .. } = &mut *state;
                pending
                    .iter_mut()
                    .filter(|(_, p)| !p.breached && now > p.deadline)
                    .map(|(id, p)| {
                        p.breached = true;
                        let phase = if phases.get(id) == Some(&Phase::Evaluating) { "evaluating" } else { "queued" };
                        (id.clone(), p.severity, now.duration_since(p.accepted), phase)
                    })
                    .collect()
            };
            if due.is_empty() {
                continue;
            }
            let drafts: Vec<Draft> = due
                .iter()
                .map(|(id, s, waited, phase)| self.breach_draft(id, *s, *waited, self.governance.deadline(*s), phase))
                .collect();
            match self.writer.append_batch(drafts) {
                Ok(appended) => {
                    self.metrics.receipts.inc_by(appended.len() as u64);
                    for (id, s, _, _) in &due {
                        self.metrics.sla_breaches.get_or_create(&metrics::severity(*s)).inc();
                        tracing::warn!(incident = %id, severity = s.as_str(), "decision deadline passed");
                    }
                }
                Err(e) => tracing::error!("cannot record SLA breaches: {e}"),
            }
        }
    }
}

/// The phase of every incident in the ledger at `dir`, with the receipt that
/// carries the evidence being decided and whether its SLA breach is recorded:
/// `Queued` for reported-but-undecided ones.
fn index(dir: &Path) -> Result<HashMap<String, (Phase, StoredReceipt, bool)>, ServiceError> {
    let mut by_incident: HashMap<String, Vec<StoredReceipt>> = HashMap::new();
    for receipt in incident::all_receipts(dir)? {
        if let Some(id) = receipt.body.incident_id.clone() {
            by_incident.entry(id).or_default().push(receipt);
        }
    }
    let mut out = HashMap::new();
    for (id, receipts) in by_incident {
        let Some(facts) = outputs::facts(&receipts) else { continue };
        let phase = match facts.status {
            Status::Reported => Phase::Queued,
            Status::Overloaded => Phase::Resubmittable,
            _ => Phase::Decided,
        };
        // The receipt that carries the evidence being decided: the last `reported`.
        let first = receipts
            .iter()
            .rev()
            .find(|r| r.body.kind == Kind::Reported)
            .or(receipts.first())
            .cloned()
            .expect("facts exist only for non-empty receipts");
        // Whether this submission's breach is already recorded (never twice).
        let breached = receipts.iter().any(|r| r.body.kind == Kind::SlaBreached && r.body.seq > first.body.seq);
        out.insert(id, (phase, first, breached));
    }
    Ok(out)
}
