//! The operator's flow on a bundle, end to end, as one library call: build and sign
//! the bundle from source, load it under a trust policy, submit every route
//! scenario, record outcomes, sign a checkpoint, export the first planned incident
//! and audit the export offline. `andon demo` prints what this returns; the golden
//! ledger test runs it with fixed keys and a fixed clock and pins the receipts.

use std::path::{Path, PathBuf};

use andon_core::{AndonEngine, Decision};
use andon_ledger::keys::{HmacKey, ed25519_key_id};
use andon_ledger::ledger::{self, Ledger};
use ed25519_dalek::SigningKey;
use serde::Serialize;

use crate::bundle::BundleError;
use crate::bundle::build::{self, BuiltComponent};
use crate::bundle::load::{Bundle, LoadOptions};
use crate::bundle::trust::{self, TrustPolicy};
use crate::export::{self, ExportError};
use crate::incident::{self, IncidentError};

/// Why the flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Building, signing or loading the bundle failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// Submitting an incident or recording its outcome failed.
    #[error(transparent)]
    Incident(#[from] IncidentError),
    /// Exporting or auditing failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A folder of the flow could not be created.
    #[error("cannot create {}", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// What the flow needs.
#[derive(Debug)]
pub struct DemoOptions<'a> {
    /// The bundle source folder (`recipes-wasm/`).
    pub source: &'a Path,
    /// The components built from source.
    pub components: &'a [BuiltComponent<'a>],
    /// The folder to work in (`bundle/`, `ledger/` and the export are written here).
    pub work: &'a Path,
    /// The receipt key.
    pub hmac: HmacKey,
    /// The publisher's and the ledger's checkpoint key.
    pub signing: SigningKey,
    /// The clock that stamps receipts.
    pub clock: fn() -> String,
}

/// One submitted route scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioRow {
    /// Incident id.
    pub incident_id: String,
    /// The golden case's name.
    pub scenario: String,
    /// `planned` or `refused`.
    pub status: String,
    /// The plan's actions, or the refusal's reason and next lawful step.
    pub detail: String,
}

/// The exported incident and its offline audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Incident id.
    pub incident_id: String,
    /// The evidence bundle written.
    pub path: PathBuf,
    /// How many files it holds.
    pub files: usize,
    /// Receipts in it.
    pub receipts: usize,
    /// Component runs replayed byte for byte.
    pub replayed_runs: usize,
    /// Whether the audit passed.
    pub ok: bool,
    /// The audit's findings when it did not.
    pub findings: Vec<String>,
}

/// What the flow did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    /// Bundle name.
    pub bundle: String,
    /// Bundle version.
    pub version: String,
    /// The signer's key id.
    pub signer: String,
    /// The manifest digest.
    pub digest: String,
    /// Every route scenario submitted, in order.
    pub scenarios: Vec<ScenarioRow>,
    /// Receipts in the ledger.
    pub receipts: u64,
    /// The seq the final checkpoint covers.
    pub checkpoint_seq: u64,
    /// The ledger folder.
    pub ledger: PathBuf,
    /// The export of the first planned incident, if any was planned.
    pub export: Option<ExportSummary>,
}

/// Runs the flow (see the module docs).
///
/// # Errors
/// [`DemoError`] naming the step that failed.
pub fn run(engine: &AndonEngine, options: DemoOptions<'_>) -> Result<DemoReport, DemoError> {
    let work = options.work;
    let (_, mut files) = build::build(options.source, options.components, build::UNSIGNED_KEY_ID)?;
    let (manifest, _) = trust::sign_files(&mut files, &options.signing)?;
    let bundle_dir = work.join("bundle");
    build::write_dir(&files, &bundle_dir)?;
    let policy = TrustPolicy::single(&options.signing.verifying_key(), &[manifest.name.as_str()]);
    let bundle = Bundle::load_path(engine, &bundle_dir, LoadOptions { trust: Some(&policy), ..Default::default() })?;

    let ledger_dir = work.join("ledger");
    std::fs::create_dir_all(&ledger_dir).map_err(|source| DemoError::Io { path: ledger_dir.clone(), source })?;
    let signing_key_id = ed25519_key_id(&options.signing.verifying_key());
    let mut ledger = Ledger::open(
        &ledger_dir,
        options.hmac,
        ledger::Options {
            signing_key: Some((signing_key_id, options.signing.clone())),
            clock: options.clock,
            ..Default::default()
        },
    )?;
    let mut scenarios = Vec::new();
    let mut first_planned = None;
    for (entry, case) in bundle.golden.iter().filter(|(g, _)| g.route.is_some()) {
        let bytes = serde_json::to_vec(&case["incident"]).expect("a JSON value serializes");
        let submitted = incident::submit(engine, &bundle, &mut ledger, &bytes, false)?;
        let detail = match &submitted.outcome.decision {
            Decision::Plan { plan } => plan.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(" → "),
            Decision::Refused { refusal } => format!("{} — next: {}", refusal.reason, refusal.next_lawful_step),
            Decision::Pass { .. } => String::new(),
        };
        if submitted.status == "planned" {
            incident::record_outcome(
                &mut ledger,
                &submitted.incident_id,
                incident::ExecutionStatus::Executed,
                "executed by the demo",
            )?;
            first_planned.get_or_insert(submitted.incident_id.clone());
        }
        scenarios.push(ScenarioRow {
            incident_id: submitted.incident_id,
            scenario: entry.name.clone(),
            status: submitted.status.into(),
            detail,
        });
    }
    let checkpoint = ledger.checkpoint()?;
    let receipts = ledger.seq();
    drop(ledger);
    let export = match first_planned {
        Some(id) => {
            let path = work.join(format!("evidence-bundle-{id}.tar.gz"));
            let written = export::write(&ledger_dir, &id, &options.signing, &path)?;
            let file = std::fs::File::open(&path).map_err(|source| DemoError::Io { path: path.clone(), source })?;
            let report = export::audit(file, Some(&options.signing.verifying_key()), engine)?;
            Some(ExportSummary {
                incident_id: id,
                path,
                files: written.files.len(),
                receipts: report.receipts,
                replayed_runs: report.replayed_runs,
                ok: report.ok,
                findings: report.findings.iter().map(|f| format!("{f:?}")).collect(),
            })
        }
        None => None,
    };
    Ok(DemoReport {
        bundle: manifest.name.clone(),
        version: manifest.version.to_string(),
        signer: bundle.signer.clone().unwrap_or_default(),
        digest: bundle.digest.clone(),
        scenarios,
        receipts,
        checkpoint_seq: checkpoint.seq,
        ledger: ledger_dir,
        export,
    })
}
