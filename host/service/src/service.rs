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
//!
//! This module holds the [`Service`] handle, its configuration, its error and the
//! state its threads share; each job lives in its own submodule:
//!
//! | module | job |
//! |---|---|
//! | `governance` | capacity settings and snapshots of the queue and of incident phases |
//! | `intake` | taking a submission in ([`Service::accept`], [`Service::submit`]) |
//! | `queue` | the severity queue: order, enqueue, take, drain |
//! | `capacity` | `overloaded` refusals: queue full, shutting down |
//! | `worker` | the evaluator pool: decide and record |
//! | `sla` | decision deadlines and the watcher that records breaches |
//! | `recovery` | rebuilding the incident index and the backlog on start |
//! | `lifecycle` | outcome and close of a decided incident |
//! | `audit` | reading the record back: receipts, export, verify, replay |
//! | [`metrics`] | the Prometheus metrics |

mod answer;
mod audit;
mod capacity;
mod governance;
mod intake;
mod lifecycle;
pub mod metrics;
mod queue;
mod recovery;
mod sla;
mod worker;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use serde::Serialize;
use tokio::sync::oneshot;

use andon_core::engine::AndonEngine;
use andon_core::evidence::{Incident, InputError, Severity};
use andon_ledger::keys::HmacKey;
use andon_ledger::ledger::group::GroupWriter;
use andon_ledger::ledger::{self, Ledger, Options};
use andon_ledger::store::ComponentStore;
use andon_work::bundle::Bundle;
use andon_work::incident::IncidentError;

pub use answer::{Accepted, Decided, ReceiptRef, receipt_uri};
pub use capacity::{CAPACITY_POLICY, OVERLOADED, SHUTTING_DOWN};
pub use governance::{Governance, GovernanceStatus};
pub use metrics::Metrics;
pub use queue::rank;

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
    #[error("invalid evidence")]
    Input(#[from] InputError),
    /// An incident operation was refused (unknown id, illegal transition, …).
    #[error(transparent)]
    Incident(#[from] IncidentError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// The incident is queued or being evaluated now.
    #[error("incident `{0}` is already queued, being evaluated or being updated; wait for that to finish")]
    InProgress(String),
    /// The incident was already decided.
    #[error("incident `{0}` already exists in the ledger; submit new evidence under a new incident id")]
    AlreadyExists(String),
    /// No loaded bundle has this name.
    #[error("no loaded bundle is named `{0}`")]
    NoSuchBundle(String),
    /// [`Service::start`] was given no bundle: there is nothing to route to.
    #[error("the service needs at least one bundle")]
    NoBundles,
    /// Export failed.
    #[error(transparent)]
    Export(#[from] andon_work::export::ExportError),
    /// Replay failed.
    #[error(transparent)]
    Replay(#[from] andon_work::replay::ReplayError),
    /// An archive could not be written.
    #[error(transparent)]
    Archive(#[from] andon_work::bundle::archive::ArchiveError),
    /// A file could not be written.
    #[error("cannot write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A service thread (an evaluator or the SLA watcher) could not be started.
    #[error("cannot start the thread `{name}`")]
    Thread {
        /// The thread's name.
        name: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The service is stopping.
    #[error("the service is shutting down")]
    ShuttingDown,
    /// An evaluator failed to record the decision.
    #[error("the decision could not be recorded: {0}")]
    Recording(String),
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

/// A submission on its way to a decision.
struct Job {
    incident: Incident,
    redactions: Vec<String>,
    bundle: usize,
    evaluation_mode: bool,
    accepted: Instant,
    receipts: Vec<ReceiptRef>,
    /// `None` for an incident recovered on start: nobody waits for it.
    reply: Option<oneshot::Sender<Result<Decided, String>>>,
    /// `annotation.principal` of the receipts written for it: who submitted it.
    principal: serde_json::Value,
}

/// The decision deadline of a queued or running incident.
struct Pending {
    severity: Severity,
    accepted: Instant,
    deadline: Instant,
    breached: bool,
}

/// Everything the threads change, under one lock.
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

/// What the handle, the evaluators and the SLA watcher share.
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
        // An evaluation that panics is caught (see `worker`); a lock it poisoned
        // must not stop the other evaluators, the watcher or the drain.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops the SLA watcher and joins `threads`. Evaluators return once
    /// `stopping` is set and the queue is empty, so set that first.
    fn join(&self, threads: Vec<JoinHandle<()>>) {
        *self.stop_watcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        self.watcher_wake.notify_all();
        for thread in threads {
            let _ = thread.join();
        }
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

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Service {
    /// Opens the ledger, rebuilds the incident index, queues undecided incidents
    /// again and starts the evaluators and the SLA watcher.
    ///
    /// # Errors
    /// [`ServiceError::NoBundles`] when `config` has no bundle;
    /// [`ServiceError::Ledger`] when the ledger cannot be opened or read;
    /// [`ServiceError::Io`] when the ledger or export directory cannot be created;
    /// [`ServiceError::Thread`] when a service thread cannot be started.
    pub fn start(config: Config) -> Result<Service, ServiceError> {
        let Config { ledger_dir, hmac_key, signing_key, bundles, export_dir, governance, engine } = config;
        if bundles.is_empty() {
            // An incident no bundle routes goes to the first bundle (whose routing
            // refuses it), so there must be one.
            return Err(ServiceError::NoBundles);
        }
        std::fs::create_dir_all(&ledger_dir).map_err(|source| ServiceError::Io { path: ledger_dir.clone(), source })?;
        std::fs::create_dir_all(&export_dir).map_err(|source| ServiceError::Io { path: export_dir.clone(), source })?;
        // Export paths go to clients, which may run elsewhere: always absolute.
        let export_dir =
            std::path::absolute(&export_dir).map_err(|source| ServiceError::Io { path: export_dir.clone(), source })?;
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
        let recovered = recovery::index(&ledger_dir)?;
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
        // Threads first, backlog second: should a thread fail to start, nothing
        // is queued yet, so the threads already running stop without deciding or
        // refusing anything, and the backlog stays `reported` for the next start.
        // The backlog is queued under one lock, so no evaluator sees half of it.
        let threads = Self::spawn(&inner, wip)?;
        inner.requeue(recovered);
        Ok(Service { inner, threads: Mutex::new(threads) })
    }

    /// Starts `wip` evaluators and the SLA watcher; on failure stops those
    /// already started.
    fn spawn(inner: &Arc<Inner>, wip: usize) -> Result<Vec<JoinHandle<()>>, ServiceError> {
        let mut threads = Vec::new();
        let started = (0..wip)
            .try_for_each(|n| worker::spawn(inner, n).map(|t| threads.push(t)))
            .and_then(|()| sla::spawn(inner).map(|t| threads.push(t)));
        if let Err(error) = started {
            // Nothing is queued yet, so stopping intake hands back no job.
            let _ = inner.stop_intake();
            inner.work.notify_all();
            inner.join(threads);
            return Err(error);
        }
        Ok(threads)
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

    /// Stops intake, lets running evaluations finish, refuses every queued incident
    /// with an `overloaded` receipt (reason `shutting_down`), stops the threads and
    /// writes a final checkpoint. Idempotent.
    pub fn shutdown(&self) {
        let inner = &self.inner;
        let Some(drained) = inner.stop_intake() else {
            // Already drained (and checkpointed) by an earlier call.
            return;
        };
        inner.work.notify_all();
        if !drained.is_empty() {
            tracing::warn!(count = drained.len(), "shutting down: refusing queued incidents with receipts");
        }
        for job in drained {
            inner.refuse_queued(job);
        }
        let threads: Vec<_> =
            self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..).collect();
        inner.join(threads);
        match inner.writer.with(Ledger::checkpoint) {
            Ok(Ok(cp)) => tracing::info!(seq = cp.seq, "final checkpoint written"),
            Ok(Err(e)) => tracing::error!("final checkpoint failed: {e}"),
            Err(e) => tracing::error!("final checkpoint failed: {e}"),
        }
    }
}

/// Adds `annotation.principal` to a lifecycle receipt's draft.
fn name_principal(draft: &mut andon_ledger::receipt::Draft, principal: &serde_json::Value) {
    match draft.annotation.as_mut().and_then(serde_json::Value::as_object_mut) {
        Some(annotation) => {
            annotation.insert("principal".into(), principal.clone());
        }
        None => draft.annotation = Some(serde_json::json!({ "principal": principal })),
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown();
    }
}
