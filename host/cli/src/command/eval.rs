//! `andon eval`: one component, one evidence document.

use andon_core::MAX_COMPONENT_BYTES;
use andon_core::evidence::{self, DEFAULT_MAX_EVIDENCE_BYTES};
use andon_core::{AndonEngine, Decision, GuestRequest, Incident, Limits, LoadedComponent};
use serde_json::json;

use super::{print_json, read_input};
use crate::cli::Format;
use crate::cli::eval::EvalArgs;
use crate::exit::Exit;

pub fn run(args: &EvalArgs) -> anyhow::Result<Exit> {
    let bytes = read_input(&args.component, MAX_COMPONENT_BYTES)?;
    let evidence_bytes = read_input(&args.evidence, DEFAULT_MAX_EVIDENCE_BYTES)?;
    let incident = Incident::from_bytes(&evidence_bytes, DEFAULT_MAX_EVIDENCE_BYTES)?;
    let mut request = GuestRequest::from_incident(&incident);
    if let Some(path) = &args.settings {
        let settings = evidence::parse_strict(
            "settings",
            &read_input(path, DEFAULT_MAX_EVIDENCE_BYTES)?,
            DEFAULT_MAX_EVIDENCE_BYTES,
        )?;
        request = request.with_settings(&settings);
    }
    if let Some(ledger) = &args.ledger {
        return record(args, ledger, &bytes, &incident, &request);
    }
    let engine = AndonEngine::new()?;
    let component = LoadedComponent::load(&engine, &bytes)?;
    let limits = Limits {
        fuel: args.fuel,
        memory_bytes: args.memory_mib << 20,
        deadline_ms: args.deadline_ms,
        ..Limits::default()
    };
    let evaluation = component.evaluate(&engine, &request, &limits)?;
    match args.format {
        Format::Json => print_json(&json!({
            "component": {
                "path": args.component.display().to_string(),
                "sha256": evaluation.component_sha256,
                "world": evaluation.world.qualified(),
            },
            "incident_id": incident.envelope.incident_id,
            "evidence_sha256": incident.sha256,
            "decision": evaluation.decision,
            "output_sha256": evaluation.output_sha256,
            "fuel_consumed": evaluation.fuel_consumed,
            "limits": evaluation.limits,
            "engine": {
                "wasmtime": engine.settings().wasmtime,
                "config_digest": engine.config_digest(),
            },
        }))?,
        Format::Text => print_text(&args.component.display().to_string(), &incident, &evaluation.decision, &evaluation),
    }
    Ok(match evaluation.decision {
        Decision::Refused { .. } => Exit::Refused,
        _ => Exit::Ok,
    })
}

fn print_text(path: &str, incident: &Incident, decision: &Decision, evaluation: &andon_core::Evaluation) {
    outln!("component  {path}");
    outln!("sha256     {}", evaluation.component_sha256);
    outln!(
        "incident   {} ({}, {})",
        incident.envelope.incident_id,
        incident.envelope.kind,
        incident.envelope.severity.as_str()
    );
    outln!("evidence   sha256 {}", incident.sha256);
    outln!("outcome    {}", decision.outcome());
    super::print_decision(decision);
    outln!("fuel       {}", evaluation.fuel_consumed);
    outln!("output     sha256 {}", evaluation.output_sha256);
}

/// `andon eval --ledger`: the evaluation always ends in a receipt (a guest fault in
/// an `indeterminate` refusal), which is durable before anything is printed.
fn record(
    args: &EvalArgs,
    ledger_dir: &std::path::Path,
    bytes: &[u8],
    incident: &Incident,
    request: &GuestRequest,
) -> anyhow::Result<Exit> {
    use andon_ledger::keys;
    use andon_ledger::ledger::{Ledger, Options};

    let key_path = args.key.as_deref().expect("clap requires --key with --ledger");
    let key = keys::load_hmac_key(key_path)?;
    let signing_key = args.signing_key.as_deref().map(keys::load_signing_key).transpose()?;
    let id = match &args.component_id {
        Some(id) => id.clone(),
        None => args.component.file_stem().map_or("component".into(), |s| s.to_string_lossy().into_owned()),
    };
    let limits = Limits {
        fuel: args.fuel,
        memory_bytes: args.memory_mib << 20,
        deadline_ms: args.deadline_ms,
        ..Limits::default()
    };
    let engine = AndonEngine::new()?;
    let options = Options { checkpoint_every: args.checkpoint_every, signing_key, ..Options::default() };
    let mut ledger = Ledger::open(ledger_dir, key, options)?;
    let (recorded, appended) =
        andon_work::incident::record_evaluation(&engine, &mut ledger, (&id, bytes), incident, request, &limits)?;
    let run = &recorded.run;
    match args.format {
        Format::Json => print_json(&json!({
            "component": {
                "path": args.component.display().to_string(),
                "id": run.id,
                "sha256": run.sha256,
                "world": run.role.map(|w| w.qualified()),
            },
            "incident_id": incident.envelope.incident_id,
            "evidence_sha256": incident.sha256,
            "decision": recorded.decision,
            "fault": recorded.fault.as_ref().map(|f| json!({"class": f.class, "message": f.message})),
            "output_sha256": run.output_sha256,
            "fuel_consumed": run.fuel_consumed,
            "limits": run.limits,
            "engine": {
                "wasmtime": engine.settings().wasmtime,
                "config_digest": engine.config_digest(),
            },
            "receipt": {
                "ledger": ledger_dir.display().to_string(),
                "seq": appended.seq,
                "hash": appended.hash,
                "key_id": ledger.key_id(),
            },
        }))?,
        Format::Text => {
            outln!("component  {} ({})", args.component.display(), run.sha256);
            outln!("incident   {}", incident.envelope.incident_id);
            outln!("outcome    {}", recorded.decision.outcome());
            super::print_decision(&recorded.decision);
            if let Some(fault) = &recorded.fault {
                outln!("fault      {}: {}", fault.class, fault.message);
            }
            outln!("fuel       {}", run.fuel_consumed);
            outln!("receipt    seq {} hash {}", appended.seq, appended.hash);
        }
    }
    Ok(match (&recorded.fault, &recorded.decision) {
        (Some(_), _) => Exit::GuestFault,
        (None, Decision::Refused { .. }) => Exit::Refused,
        (None, _) => Exit::Ok,
    })
}
