//! `andon ledger checkpoint` and the hidden crash-test helper `andon ledger stress`.

use std::io::Write as _;

use andon_core::decision::{Check, Decision};
use andon_core::evidence::{canonical_bytes, canonical_bytes_of, sha256_hex};
use andon_ledger::keys;
use andon_ledger::ledger::{Ledger, Options};
use andon_ledger::receipt::{ComponentRun, Draft, EngineInfo, Kind, RunOutcome};
use serde_json::json;

use crate::cli::Format;
use crate::cli::ledger::{CheckpointArgs, LedgerArgs, LedgerCommand, StressArgs};
use crate::exit::Exit;

pub fn run(args: &LedgerArgs) -> anyhow::Result<Exit> {
    match &args.command {
        LedgerCommand::Checkpoint(args) => checkpoint(args),
        LedgerCommand::Stress(args) => stress(args),
    }
}

fn checkpoint(args: &CheckpointArgs) -> anyhow::Result<Exit> {
    let key = keys::load_hmac_key(&args.key)?;
    let signing_key = keys::load_signing_key(&args.signing_key)?;
    let options = Options { signing_key: Some(signing_key), ..Options::default() };
    let mut ledger = Ledger::open(&args.ledger, key, options)?;
    let checkpoint = ledger.checkpoint()?;
    match args.format {
        // The canonical line, ready to be kept as a held checkpoint.
        Format::Json => std::io::stdout().write_all(&checkpoint.to_line())?,
        Format::Text => {
            println!("seq        {}", checkpoint.seq);
            println!("head hash  {}", checkpoint.head_hash);
            println!("key id     {}", checkpoint.key_id);
            println!("signature  {}", checkpoint.signature);
        }
    }
    Ok(Exit::Ok)
}

/// A synthetic evaluated receipt: a realistic size and shape, no wasm run.
fn synthetic(i: u64) -> Draft {
    let incident_id = format!("STRESS-{}", i % 7);
    let document = json!({
        "incident_id": incident_id,
        "kind": "stress",
        "severity": "low",
        "evidence": {"attempt": i, "note": "synthetic receipt written by `andon ledger stress`"},
    });
    let decision =
        Decision::Pass { checks: vec![Check { name: "stress".into(), passed: true, detail: format!("attempt {i}") }] };
    let output = canonical_bytes_of(&decision).expect("decisions serialize");
    let mut draft = Draft::new(Kind::Evaluated);
    draft.incident_id = Some(incident_id);
    draft.evidence_sha256 = Some(sha256_hex(&canonical_bytes(&document)));
    draft.evidence = Some(document);
    draft.components = vec![ComponentRun {
        id: "stress".into(),
        role: Some(andon_core::World::Gate),
        sha256: sha256_hex(b"stress"),
        fuel_consumed: 1000 + i % 13,
        limits: andon_core::Limits::default(),
        settings: json!({}),
        output_sha256: Some(sha256_hex(&output)),
        outcome: RunOutcome::Pass,
        fault_class: None,
    }];
    draft.decision_sha256 = Some(sha256_hex(&output));
    draft.decision = Some(decision);
    draft.engine = Some(EngineInfo {
        wasmtime: andon_core::engine::WASMTIME_VERSION.into(),
        host: andon_core::engine::HOST_VERSION.into(),
        config_digest: sha256_hex(b"stress"),
    });
    draft
}

fn stress(args: &StressArgs) -> anyhow::Result<Exit> {
    let key = keys::load_hmac_key(&args.key)?;
    let signing_key = args.signing_key.as_deref().map(keys::load_signing_key).transpose()?;
    let options = Options { checkpoint_every: args.checkpoint_every, signing_key, preallocate: args.preallocate };
    let mut ledger = Ledger::open(&args.dir, key, options)?;
    let mut out = std::io::stdout().lock();
    let mut written = 0u64;
    while args.count == 0 || written < args.count {
        let n = if args.count == 0 { args.batch } else { args.batch.min((args.count - written) as usize) };
        let drafts = (0..n as u64).map(|k| synthetic(ledger.seq() + k + 1)).collect();
        for appended in ledger.append_batch(drafts)? {
            // Only now, after the fsync, is the receipt acknowledged.
            writeln!(out, "{}", appended.seq)?;
        }
        out.flush()?;
        written += n as u64;
    }
    Ok(Exit::Ok)
}
