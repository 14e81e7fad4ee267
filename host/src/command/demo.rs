//! `andon demo`: runs every shipped gate and recipe on its golden cases, twice in
//! fresh instances, and prints each decision with the component hash and fuel.

use andon_host::evidence::DEFAULT_MAX_EVIDENCE_BYTES;
use andon_host::{AndonEngine, GuestRequest, Incident, Limits, LoadedComponent};
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
                andon_host::evidence::parse_strict("golden case", &read_input(&path)?, DEFAULT_MAX_EVIDENCE_BYTES)?;
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
                andon_host::Decision::Refused { refusal } => refusal.reason.clone(),
                andon_host::Decision::Plan { plan } => {
                    plan.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(" → ")
                }
                andon_host::Decision::Pass { checks } => format!("{} checks passed or noted", checks.len()),
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
    Ok(Exit::Ok)
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
