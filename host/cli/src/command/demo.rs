//! `andon demo`: runs every shipped gate and recipe on its golden cases, twice in
//! fresh instances, and prints each decision with the component hash and fuel; in
//! text mode, then runs the operator's flow end to end (`andon_work::demo`).

use andon_core::{AndonEngine, Decision, Limits};
use andon_ledger::keys;
use andon_work::bundle::build;
use andon_work::demo::{DemoOptions, DemoReport};
use andon_work::golden::{self, ComponentCase};
use anyhow::bail;
use serde_json::json;

use super::print_json;
use crate::cli::Format;
use crate::cli::demo::DemoArgs;
use crate::exit::Exit;

pub fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let engine = AndonEngine::new()?;
    let mut rows = Vec::new();
    for shipped in andon_recipes::SHIPPED {
        let dir = args.golden.join(shipped.id);
        rows.extend(golden::run_component_cases(&engine, shipped.id, shipped.bytes, &dir, &Limits::default())?);
    }
    let failures = rows.iter().filter(|r| !r.ok).count();
    match args.format {
        Format::Json => {
            print_json(&json!({ "cases": rows.iter().map(json_row).collect::<Vec<_>>(), "failures": failures }))?
        }
        Format::Text => print_table(&rows),
    }
    if failures > 0 {
        bail!("{failures} golden case(s) did not match or were not deterministic");
    }
    if args.format == Format::Text {
        let temp = tempfile::tempdir()?;
        let work = args.workdir.clone().unwrap_or_else(|| temp.path().to_path_buf());
        std::fs::create_dir_all(&work)?;
        outln!("\n== the standard work library, end to end (work dir {})", work.display());
        let generated = keys::generate(&work.join("keys"))?;
        let (_, signing) = keys::load_signing_key(&generated.signing_path)?;
        let components = build::shipped();
        let report = andon_work::demo::run(
            &engine,
            DemoOptions {
                source: &args.source,
                components: &components,
                work: &work,
                hmac: keys::load_hmac_key(&generated.hmac_path)?,
                signing,
                clock: andon_ledger::receipt::rfc3339_now,
            },
        )?;
        print_flow(&report);
        if let Some(export) = report.export.as_ref().filter(|e| !e.ok) {
            bail!("the demo's own audit failed: {:?}", export.findings);
        }
    }
    Ok(Exit::Ok)
}

fn detail(decision: &Decision) -> String {
    match decision {
        Decision::Refused { refusal } => refusal.reason.clone(),
        Decision::Plan { plan } => plan.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(" → "),
        Decision::Pass { checks } => format!("{} checks passed or noted", checks.len()),
    }
}

fn json_row(row: &ComponentCase) -> serde_json::Value {
    json!({
        "component": row.component,
        "case": row.case,
        "component_sha256": row.component_sha256,
        "evidence_sha256": row.evidence_sha256,
        "outcome": row.decision.outcome(),
        "expected": row.expected,
        "detail": detail(&row.decision),
        "fuel_consumed": row.fuel_consumed,
        "output_sha256": row.output_sha256,
        "deterministic": row.deterministic,
        "ok": row.ok,
    })
}

fn print_table(rows: &[ComponentCase]) {
    outln!("{:<30} {:<46} {:<8} {:>9}  {:<14} detail", "component", "case", "outcome", "fuel", "sha256");
    for row in rows {
        let mark = if row.ok { "" } else { "  <-- MISMATCH" };
        outln!(
            "{:<30} {:<46} {:<8} {:>9}  {:<14} {}{mark}",
            row.component,
            row.case,
            row.decision.outcome(),
            row.fuel_consumed,
            &row.component_sha256[..12],
            detail(&row.decision),
        );
    }
    outln!("\n{} golden cases, each run twice in fresh instances: identical bytes and fuel.", rows.len());
}

fn print_flow(report: &DemoReport) {
    outln!("bundle {} {} signed by {}, digest {}", report.bundle, report.version, report.signer, &report.digest[..16]);
    for row in &report.scenarios {
        outln!("{:<16} {:<48} {:<8} {}", row.incident_id, row.scenario, row.status, row.detail);
    }
    outln!("ledger: {} receipts, checkpoint signed at seq {}", report.receipts, report.checkpoint_seq);
    if let Some(export) = &report.export {
        outln!(
            "exported {} ({} files) and audited it offline: {} receipts, {} replayed byte for byte: {}",
            export.incident_id,
            export.files,
            export.receipts,
            export.replayed_runs,
            if export.ok { "PASS" } else { "FAIL" }
        );
    }
}
