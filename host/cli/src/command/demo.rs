//! `andon demo`: runs every shipped gate and recipe on its golden cases, twice in
//! fresh instances, and prints each decision with the component hash and fuel.

use andon_core::evidence::DEFAULT_MAX_EVIDENCE_BYTES;
use andon_core::{AndonEngine, GuestRequest, Incident, Limits, LoadedComponent};
use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::{print_json, read_input};
use crate::cli::Format;
use crate::cli::demo::DemoArgs;
use crate::exit::Exit;

pub fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let engine = AndonEngine::new()?;
    let limits = Limits::default();
    let mut rows = Vec::new();
    let mut failures = 0;
    for shipped in andon_recipes::SHIPPED {
        let component = LoadedComponent::load(&engine, shipped.bytes)
            .with_context(|| format!("loading shipped component {}", shipped.id))?;
        let dir = args.golden.join(shipped.id);
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read golden cases in {}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        cases.sort();
        for path in cases {
            let case =
                andon_core::evidence::parse_strict("golden case", &read_input(&path)?, DEFAULT_MAX_EVIDENCE_BYTES)?;
            let incident = Incident::from_value(case["incident"].clone())?;
            let request = GuestRequest::from_incident(&incident).with_settings(&case["settings"]);
            let first = component.evaluate(&engine, &request, &limits)?;
            let second = component.evaluate(&engine, &request, &limits)?;
            let deterministic = first.output == second.output && first.fuel_consumed == second.fuel_consumed;
            let expected = case["expect"]["outcome"].as_str().unwrap_or("?");
            let ok = deterministic && expected == first.decision.outcome();
            if !ok {
                failures += 1;
            }
            let detail = match &first.decision {
                andon_core::Decision::Refused { refusal } => refusal.reason.clone(),
                andon_core::Decision::Plan { plan } => {
                    plan.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(" → ")
                }
                andon_core::Decision::Pass { checks } => format!("{} checks passed or noted", checks.len()),
            };
            rows.push(json!({
                "component": shipped.id,
                "case": path.file_stem().map(|s| s.to_string_lossy().into_owned()),
                "component_sha256": first.component_sha256,
                "evidence_sha256": incident.sha256,
                "outcome": first.decision.outcome(),
                "expected": expected,
                "detail": detail,
                "fuel_consumed": first.fuel_consumed,
                "output_sha256": first.output_sha256,
                "deterministic": deterministic,
                "ok": ok,
            }));
        }
    }
    match args.format {
        Format::Json => print_json(&json!({ "cases": rows, "failures": failures }))?,
        Format::Text => print_table(&rows),
    }
    if failures > 0 {
        bail!("{failures} golden case(s) did not match or were not deterministic");
    }
    if args.format == Format::Text {
        pipeline_demo(args, &engine)?;
    }
    Ok(Exit::Ok)
}

/// The operator's flow on the shipped bundle: keys, build + sign the bundle, load it
/// under a trust policy, submit every route scenario, record outcomes, export one
/// incident and audit it offline, then verify the whole ledger.
fn pipeline_demo(args: &DemoArgs, engine: &AndonEngine) -> anyhow::Result<()> {
    use andon_ledger::{keys, ledger};
    use andon_work::bundle::build;
    use andon_work::bundle::load::{Bundle, LoadOptions};
    use andon_work::bundle::manifest::{MANIFEST_FILE, SIGNATURE_FILE};
    use andon_work::bundle::trust::{self, TrustPolicy};
    use andon_work::{export, incident};

    let temp = tempfile::tempdir()?;
    let work = args.workdir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&work)?;
    println!("\n== the standard work library, end to end (work dir {})", work.display());
    let generated = keys::generate(&work.join("keys"))?;
    let (_, signing) = keys::load_signing_key(&generated.signing_path)?;
    let built = build::shipped();
    let (mut manifest, mut files) = build::build(&args.source, &built, build::UNSIGNED_KEY_ID)?;
    manifest.publisher_key_id = trust::ed25519_key_id(&signing.verifying_key());
    files.insert(MANIFEST_FILE.into(), build::manifest_json(&manifest));
    files.insert(SIGNATURE_FILE.into(), serde_json::to_vec_pretty(&trust::sign(&manifest, &signing))?);
    build::write_dir(&files, &work.join("bundle"))?;
    let policy = TrustPolicy::single(&signing.verifying_key(), &[manifest.name.as_str()]);
    let bundle =
        Bundle::load_path(engine, &work.join("bundle"), LoadOptions { trust: Some(&policy), ..Default::default() })?;
    println!(
        "bundle {} {} signed by {}, digest {}",
        manifest.name,
        manifest.version,
        bundle.signer.as_deref().unwrap_or("?"),
        &bundle.digest[..16]
    );

    let ledger_dir = work.join("ledger");
    std::fs::create_dir_all(&ledger_dir)?;
    let mut ledger = ledger::Ledger::open(
        &ledger_dir,
        keys::load_hmac_key(&generated.hmac_path)?,
        ledger::Options {
            signing_key: Some((generated.ed25519_key_id.clone(), signing.clone())),
            ..Default::default()
        },
    )?;
    let mut first_planned = None;
    for (entry, case) in bundle.golden.iter().filter(|(g, _)| g.route.is_some()) {
        let bytes = serde_json::to_vec(&case["incident"])?;
        let submitted = incident::submit(engine, &bundle, &mut ledger, &bytes, false)?;
        let detail = match &submitted.outcome.decision {
            andon_core::Decision::Plan { plan } => {
                plan.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(" → ")
            }
            andon_core::Decision::Refused { refusal } => {
                format!("{} — next: {}", refusal.reason, refusal.next_lawful_step)
            }
            andon_core::Decision::Pass { .. } => String::new(),
        };
        println!("{:<16} {:<48} {:<8} {}", submitted.incident_id, entry.name, submitted.status, detail);
        if submitted.status == "planned" {
            incident::record_outcome(
                &mut ledger,
                &submitted.incident_id,
                incident::ExecutionStatus::Executed,
                "executed by the demo",
            )?;
            first_planned.get_or_insert(submitted.incident_id.clone());
        }
    }
    let checkpoint = ledger.checkpoint()?;
    println!("ledger: {} receipts, checkpoint signed at seq {}", ledger.seq(), checkpoint.seq);
    drop(ledger);
    if let Some(id) = first_planned {
        let files = export::export_files(&ledger_dir, &id, &signing)?;
        let path = work.join(format!("evidence-bundle-{id}.tar.gz"));
        andon_work::bundle::archive::pack(&files, &mut std::fs::File::create(&path)?)?;
        let report = export::audit(std::fs::File::open(&path)?, Some(&signing.verifying_key()), engine)?;
        println!(
            "exported {id} ({} files) and audited it offline: {} receipts, {} replayed byte for byte: {}",
            files.len(),
            report.receipts,
            report.replayed_runs,
            if report.ok { "PASS" } else { "FAIL" }
        );
        if !report.ok {
            bail!("the demo's own audit failed: {:?}", report.findings);
        }
    }
    Ok(())
}

fn print_table(rows: &[Value]) {
    println!("{:<30} {:<46} {:<8} {:>9}  {:<14} detail", "component", "case", "outcome", "fuel", "sha256");
    for row in rows {
        let mark = if row["ok"] == true { "" } else { "  <-- MISMATCH" };
        println!(
            "{:<30} {:<46} {:<8} {:>9}  {:<14} {}{mark}",
            row["component"].as_str().unwrap_or(""),
            row["case"].as_str().unwrap_or(""),
            row["outcome"].as_str().unwrap_or(""),
            row["fuel_consumed"],
            &row["component_sha256"].as_str().unwrap_or("")[..12],
            row["detail"].as_str().unwrap_or(""),
        );
    }
    println!("\n{} golden cases, each run twice in fresh instances: identical bytes and fuel.", rows.len());
}
