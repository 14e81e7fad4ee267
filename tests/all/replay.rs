//! Replay: every receipt produced by the shipped components' golden cases re-runs
//! from the content-addressed store to the same decision bytes and fuel; altered
//! component bytes are reported as a mismatch and not run.

use std::path::{Path, PathBuf};

use andon_core::run;
use andon_core::{AndonEngine, GuestRequest, Incident, Limits};
use andon_ledger::ledger::{Ledger, Options};
use andon_ledger::receipt::Draft;
use andon_work::replay::{self, Selection, Status};
use assert_cmd::Command;
use serde_json::Value;

use crate::ledger::{receipts, test_keys};

fn andon() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("andon"))
}

fn golden_cases() -> Vec<(String, PathBuf)> {
    let root = crate::support::root().join("recipes-wasm/golden");
    let mut cases = Vec::new();
    for component in std::fs::read_dir(&root).unwrap() {
        let component = component.unwrap();
        let id = component.file_name().to_string_lossy().into_owned();
        for case in std::fs::read_dir(component.path()).unwrap() {
            cases.push((id.clone(), case.unwrap().path()));
        }
    }
    cases.sort();
    cases
}

/// Records one receipt per golden case into a new ledger, as `andon eval --ledger`
/// would; returns the ledger path and the number of receipts.
fn golden_ledger(dir: &Path) -> (PathBuf, u64) {
    let keys = test_keys(dir);
    let path = dir.join("ledger");
    let engine = AndonEngine::new().unwrap();
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    let mut count = 0;
    for (id, case) in golden_cases() {
        let case: Value = serde_json::from_slice(&std::fs::read(case).unwrap()).unwrap();
        let incident = Incident::from_bytes(&serde_json::to_vec(&case["incident"]).unwrap(), 1 << 20).unwrap();
        let request = GuestRequest::from_incident(&incident).with_settings(&case["settings"]);
        let bytes = andon_recipes::shipped(&id).unwrap().bytes;
        let recorded = run::evaluate_bytes(&engine, &id, bytes, &request, &Limits::default()).unwrap();
        assert!(recorded.fault.is_none(), "golden case of {id} faulted");
        ledger.store().put(bytes).unwrap();
        ledger
            .append(Draft::from_runs(&incident, &[recorded], andon_core::record::EngineInfo::of(&engine), false))
            .unwrap();
        count += 1;
    }
    (path, count)
}

#[test]
fn every_golden_case_receipt_replays_to_the_same_decision_bytes_and_fuel() {
    let dir = tempfile::tempdir().unwrap();
    let (path, count) = golden_ledger(dir.path());
    assert!(count >= 30, "only {count} golden cases");
    // A fresh engine, as an auditor would have.
    let report = replay::replay(&path, &Selection::All, &AndonEngine::new().unwrap()).unwrap();
    assert!(report.ok, "{report:#?}");
    assert_eq!((report.selected, report.matched, report.mismatched), (count, count, 0));
    for receipt in &report.receipts {
        assert_eq!(receipt.status, Status::Matched, "{receipt:#?}");
        assert!(receipt.notes.is_empty(), "same engine config: {receipt:#?}");
    }
    // The CLI agrees, with exit code 0.
    let out = andon().arg("replay").arg(&path).arg("--all").assert().success().get_output().stdout.clone();
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["matched"], count);
}

#[test]
fn a_receipt_whose_component_bytes_were_altered_in_the_store_is_a_mismatch_and_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let (path, count) = golden_ledger(dir.path());
    let altered = andon_recipes::shipped("insurance-active").unwrap();
    let hash = andon_core::evidence::sha256_hex(altered.bytes);
    let file = path.join("sha256").join(format!("{hash}.wasm"));
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();

    let report = replay::replay(&path, &Selection::All, &AndonEngine::new().unwrap()).unwrap();
    assert!(!report.ok);
    let affected: Vec<_> =
        receipts(&path).iter().filter(|r| r.body.components[0].sha256 == hash).map(|r| r.body.seq).collect();
    assert!(!affected.is_empty());
    assert_eq!(report.mismatched, affected.len() as u64);
    assert_eq!(report.matched, count - affected.len() as u64);
    for receipt in report.receipts.iter().filter(|r| affected.contains(&r.seq)) {
        assert_eq!(receipt.status, Status::Mismatched);
        assert_eq!(receipt.mismatches.len(), 1, "not run, so nothing else is compared: {receipt:#?}");
        let mismatch = &receipt.mismatches[0];
        assert_eq!(mismatch.what, "components[0].sha256");
        assert_eq!(mismatch.message, "component bytes do not match their hash");
        assert_eq!(mismatch.recorded, hash);
        assert_eq!(mismatch.replayed, andon_core::evidence::sha256_hex(&bytes));
    }
    andon()
        .args(["replay", "--format", "text"])
        .arg(&path)
        .assert()
        .code(21)
        .stdout(predicates::str::contains("component bytes do not match their hash"));
}

#[test]
fn replay_selects_one_seq_or_one_incident_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = golden_ledger(dir.path());
    let all = receipts(&path);
    let out = andon().arg("replay").arg(&path).args(["--seq", "3"]).assert().success().get_output().stdout.clone();
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["selected"], 1);
    assert_eq!(json["receipts"][0]["seq"], 3);

    let incident = all[5].body.incident_id.clone().unwrap();
    let expected = all.iter().filter(|r| r.body.incident_id.as_deref() == Some(incident.as_str())).count();
    let out =
        andon().arg("replay").arg(&path).args(["--incident", &incident]).assert().success().get_output().stdout.clone();
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["selected"], expected as u64);

    andon()
        .arg("replay")
        .arg(&path)
        .args(["--seq", "999999"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("no receipt matches seq 999999"));
}

#[test]
fn a_fault_receipt_replays_to_the_same_fault_and_fuel() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = dir.path().join("ledger");
    let engine = AndonEngine::new().unwrap();
    let hostile = std::fs::read(andon_recipes::test_guest("hostile").unwrap().path).unwrap();
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    ledger.store().put(&hostile).unwrap();
    for attack in ["infinite_loop", "panic", "recursion", "memory_bomb"] {
        let incident = Incident::from_bytes(
            format!(
                r#"{{"incident_id":"F-{attack}","kind":"hostile","severity":"low","evidence":{{"attack":"{attack}"}}}}"#
            )
            .as_bytes(),
            1 << 20,
        )
        .unwrap();
        let limits = Limits { fuel: 20_000_000, memory_bytes: 16 << 20, ..Limits::default() };
        let recorded =
            run::evaluate_bytes(&engine, "hostile", &hostile, &GuestRequest::from_incident(&incident), &limits)
                .unwrap();
        assert!(recorded.fault.is_some(), "{attack} must fault");
        ledger
            .append(Draft::from_runs(&incident, &[recorded], andon_core::record::EngineInfo::of(&engine), false))
            .unwrap();
    }
    drop(ledger);
    let report = replay::replay(&path, &Selection::All, &AndonEngine::new().unwrap()).unwrap();
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.matched, 4);
}

#[test]
fn a_receipt_whose_decision_differs_from_what_the_component_decides_is_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = dir.path().join("ledger");
    let engine = AndonEngine::new().unwrap();
    let bytes = andon_recipes::shipped("evidence-level").unwrap().bytes;
    let incident = Incident::from_bytes(
        br#"{"incident_id":"D-1","kind":"field_work","severity":"low","evidence":{"evidence_level":"high"}}"#,
        1 << 20,
    )
    .unwrap();
    let recorded = run::evaluate_bytes(
        &engine,
        "evidence-level",
        bytes,
        &GuestRequest::from_incident(&incident),
        &Limits::default(),
    )
    .unwrap();
    let mut draft = Draft::from_runs(&incident, &[recorded], andon_core::record::EngineInfo::of(&engine), false);
    // A host that recorded something else than the component said (signed and
    // chained correctly, so only replay can tell).
    if let Some(andon_core::Decision::Pass { checks }) = &mut draft.decision {
        checks[0].detail.push_str(" (edited)");
    }
    let edited = andon_core::evidence::canonical_bytes_of(&draft.decision).unwrap();
    draft.decision_sha256 = Some(andon_core::evidence::sha256_hex(&edited));
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    ledger.store().put(bytes).unwrap();
    ledger.append(draft).unwrap();
    drop(ledger);
    let report = replay::replay(&path, &Selection::Seq(1), &AndonEngine::new().unwrap()).unwrap();
    let whats: Vec<&str> = report.receipts[0].mismatches.iter().map(|m| m.what.as_str()).collect();
    assert_eq!(whats, ["decision", "decision_sha256"], "{report:#?}");
}
