//! `andon incident …`, `andon export`, `andon audit`.

use andon_core::AndonEngine;
use andon_ledger::keys;
use andon_ledger::ledger::{Ledger, Options};
use andon_work::bundle::load::Bundle;
use andon_work::bundle::trust::TrustPolicy;
use andon_work::incident::{self, ExecutionStatus};
use andon_work::{export, outputs};
use anyhow::Context as _;
use serde_json::json;

use super::{print_json, read_input};
use crate::cli::Format;
use crate::cli::incident::{
    AuditArgs, CloseArgs, ExportArgs, HostArgs, IncidentArgs, IncidentCommand, OutcomeArgs, ShowArgs, StatusArg,
    SubmitArgs,
};
use crate::exit::{BadArgument, Exit};

pub fn run(args: &IncidentArgs) -> anyhow::Result<Exit> {
    match &args.command {
        IncidentCommand::Submit(a) => submit(a),
        IncidentCommand::Outcome(a) => outcome(a),
        IncidentCommand::Close(a) => close(a),
        IncidentCommand::Show(a) => show(a),
    }
}

/// Opens the ledger for a command that adds to an incident already in it: a
/// mistyped `--ledger` is refused, never created.
fn open_existing_ledger(host: &HostArgs) -> anyhow::Result<Ledger> {
    if !host.ledger.join(andon_ledger::ledger::RECEIPTS_FILE).is_file() {
        return Err(andon_ledger::ledger::LedgerError::NotALedger { path: host.ledger.clone() }.into());
    }
    open_ledger(host)
}

fn open_ledger(host: &HostArgs) -> anyhow::Result<Ledger> {
    let key = keys::load_hmac_key(&host.keys.join(keys::HMAC_FILE))?;
    let signing = keys::load_signing_key(&host.keys.join(keys::SIGNING_FILE))?;
    std::fs::create_dir_all(&host.ledger).with_context(|| format!("cannot create {}", host.ledger.display()))?;
    Ok(Ledger::open(&host.ledger, key, Options { signing_key: Some(signing), ..Options::default() })?)
}

fn submit(args: &SubmitArgs) -> anyhow::Result<Exit> {
    let bytes = read_input(&args.evidence, andon_core::evidence::DEFAULT_MAX_EVIDENCE_BYTES)?;
    let trust = args.trust.as_deref().map(TrustPolicy::load).transpose()?;
    if trust.is_none() {
        note!(
            "warning: no --trust policy: the bundle's signature is not checked, so whoever can write {} decides what runs; \
             pass --trust (andon bundle trust) for anything but a trial",
            args.bundle.display()
        );
    }
    let engine = AndonEngine::new()?;
    let bundle = Bundle::load_for_ledger(&engine, &args.bundle, trust.as_ref(), &args.host.ledger)?;
    let mut ledger = open_ledger(&args.host)?;
    let submitted = incident::submit(&engine, &bundle, &mut ledger, &bytes, args.evaluation_mode)?;
    match args.format {
        Format::Json => print_json(&json!({
            "incident_id": submitted.incident_id,
            "status": submitted.status,
            "evaluation_mode": args.evaluation_mode,
            "decision": submitted.outcome.decision,
            "stage": submitted.outcome.stage,
            "evidence_sha256": submitted.evidence_sha256,
            "receipts": submitted.receipts,
            "redactions": submitted.redactions,
        }))?,
        Format::Text => {
            outln!("incident   {} → {}", submitted.incident_id, submitted.status);
            super::print_decision(&submitted.outcome.decision);
            for r in &submitted.receipts {
                outln!("receipt    seq {} {}", r.seq, r.hash);
            }
        }
    }
    Ok(if submitted.status == "refused" { Exit::Refused } else { Exit::Ok })
}

fn outcome(args: &OutcomeArgs) -> anyhow::Result<Exit> {
    let mut ledger = open_existing_ledger(&args.host)?;
    let status = match args.status {
        StatusArg::Executed => ExecutionStatus::Executed,
        StatusArg::Failed => ExecutionStatus::Failed,
    };
    let appended = incident::record_outcome(&mut ledger, &args.id, status, &args.note)?;
    outln!("incident {} outcome recorded: receipt seq {} {}", args.id, appended.seq, appended.hash);
    Ok(Exit::Ok)
}

fn close(args: &CloseArgs) -> anyhow::Result<Exit> {
    let mut ledger = open_existing_ledger(&args.host)?;
    let appended = incident::close(&mut ledger, &args.id, &args.feedback)?;
    outln!("incident {} closed: receipt seq {} {}", args.id, appended.seq, appended.hash);
    Ok(Exit::Ok)
}

fn show(args: &ShowArgs) -> anyhow::Result<Exit> {
    let receipts = andon_ledger::ledger::receipts_of(&args.ledger, &args.id)?;
    let Some(facts) = outputs::facts(&receipts) else {
        return Err(andon_work::incident::IncidentError::NotFound(args.id.clone()).into());
    };
    let history = andon_ledger::ledger::all_receipts(&args.ledger)?;
    let last = receipts.last().map(|r| r.body.seq).unwrap_or(0);
    let history: Vec<_> = history.into_iter().filter(|r| r.body.seq <= last).collect();
    let documents = outputs::documents(&receipts, &history);
    if let Some(name) = &args.output {
        let Some((_, bytes)) = documents.iter().find(|(n, _)| n == name) else {
            let names: Vec<&str> = documents.iter().map(|(n, _)| n.as_str()).collect();
            return Err(BadArgument(format!("no output `{name}`; the outputs are: {}", names.join(", "))).into());
        };
        out!("{}", String::from_utf8_lossy(bytes));
        return Ok(Exit::Ok);
    }
    print_json(
        &json!({"facts": facts, "sla": outputs::sla(&facts), "outputs": documents.iter().map(|(n, _)| n).collect::<Vec<_>>()}),
    )?;
    Ok(Exit::Ok)
}

pub fn export_cmd(args: &ExportArgs) -> anyhow::Result<Exit> {
    if !args.force && args.out.exists() {
        return Err(
            BadArgument(format!("{} exists; nothing is overwritten without --force", args.out.display())).into()
        );
    }
    let (_, signing) = keys::load_signing_key(&args.host.keys.join(keys::SIGNING_FILE))?;
    let written = export::write(&args.host.ledger, &args.id, &signing, &args.out)?;
    outln!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "path": args.out.display().to_string(),
            "sha256": written.sha256,
            "files": written.files,
        }))?
    );
    Ok(Exit::Ok)
}

pub fn audit_cmd(args: &AuditArgs) -> anyhow::Result<Exit> {
    let key = args.public_key.as_deref().map(keys::load_verifying_key).transpose()?.map(|(_, k)| k);
    let engine = AndonEngine::new()?;
    let file = std::fs::File::open(&args.archive).with_context(|| format!("cannot read {}", args.archive.display()))?;
    let verifiers = super::log::witness_keys(&args.witnesses)?;
    let quorum = args.quorum.unwrap_or(verifiers.len());
    if quorum > verifiers.len() {
        return Err(BadArgument(format!(
            "--quorum {quorum} is more than the {} --witness keys given",
            verifiers.len()
        ))
        .into());
    }
    let witnesses = export::WitnessPolicy { verifiers, quorum };
    let report = export::audit_with_witnesses(std::io::BufReader::new(file), key.as_ref(), &witnesses, &engine)?;
    let embedded_only = key.is_none();
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            // The verdict first: a failed audit must not open with lines that read
            // like success.
            let first_failure = report.findings.iter().find(|f| !f.problem.starts_with("note:"));
            match (first_failure, embedded_only) {
                (Some(f), _) => outln!("verdict    FAIL at {}: {}", f.location, f.problem),
                (None, true) => outln!(
                    "verdict    PASS against the key inside the bundle only (WEAK: anyone can re-sign a bundle with a key of their own; audit again with --public-key, the operator's key you hold)"
                ),
                (None, false) => {
                    outln!("verdict    PASS: the evidence bundle verifies and every decision replays byte for byte")
                }
            }
            let checked = if report.ok { "verified" } else { "checked" };
            outln!("incident   {}", report.incident_id.as_deref().unwrap_or("?"));
            outln!("receipts   {} {checked}", report.receipts);
            outln!("replayed   {} receipts re-executed and matched", report.replayed_runs);
            outln!("signed by  {}", report.signed_by.as_deref().unwrap_or("?"));
            outln!(
                "log        {} size {}: {} inclusion proofs verified",
                report.log_origin.as_deref().unwrap_or("?"),
                report.log_size.map_or("?".into(), |s| s.to_string()),
                report.inclusion_proofs
            );
            if !args.witnesses.is_empty() {
                outln!("witnesses  {} cosigned: {}", report.witnesses.len(), report.witnesses.join(", "));
            }
            if report.evaluation_mode {
                outln!("mode       evaluation (advisory only)");
            }
            for f in &report.findings {
                outln!(
                    "{}  {}: {}",
                    if f.problem.starts_with("note:") { "note" } else { "FAIL" },
                    f.location,
                    f.problem
                );
            }
        }
    }
    if report.ok {
        Ok(Exit::Ok)
    } else {
        let first = report.findings.iter().find(|f| !f.problem.starts_with("note:")).expect("a failure");
        eprintln!("error: audit failed at {}: {}", first.location, first.problem);
        Ok(Exit::AuditFailed)
    }
}

pub fn report_cmd(args: &crate::cli::incident::ReportArgs) -> anyhow::Result<Exit> {
    let since = args.since.as_deref().map(since_time).transpose()?;
    let receipts = andon_ledger::ledger::all_receipts(&args.ledger)?;
    let report = andon_work::report::build(&receipts, since.as_deref());
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => out!("{}", andon_work::report::table(&report)),
    }
    Ok(Exit::Ok)
}

/// `--since`: an RFC 3339 UTC time (`2026-01-01T00:00:00Z`, milliseconds allowed) or
/// a date (`2026-01-01`, midnight UTC).
fn since_time(value: &str) -> anyhow::Result<String> {
    let bad = || {
        BadArgument(format!(
            "--since `{value}` is not a UTC time such as 2026-01-01T08:00:00Z or a date such as 2026-01-01"
        ))
    };
    let full = if value.len() == 10 { format!("{value}T00:00:00Z") } else { value.to_string() };
    let b = full.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = full.is_ascii()
        && (full.len() == 20 || (full.len() == 24 && b[19] == b'.' && digits(20..23)))
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b.last() == Some(&b'Z');
    if !shape {
        return Err(bad().into());
    }
    let num = |r: std::ops::Range<usize>| full[r].parse::<u32>().unwrap_or(99);
    let days = match num(5..7) {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&num(5..7))
        || !(1..=days).contains(&num(8..10))
        || num(11..13) > 23
        || num(14..16) > 59
        || num(17..19) > 59
    {
        return Err(bad().into());
    }
    Ok(full)
}
