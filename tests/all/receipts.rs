//! Receipts: what `andon eval --ledger` records, checked by hand the way
//! `docs/receipts.md` tells an outsider to (SHA-256 of the body, HMAC of the hash);
//! refusal receipts carry the doctrine's fields; guest faults become
//! `indeterminate` refusals, never plans; rejected evidence leaves the ledger alone.

use std::path::{Path, PathBuf};

use andon_core::evidence::{canonical_bytes, sha256_hex};
use andon_core::run;
use andon_core::{AndonEngine, FaultClass, GuestRequest, Incident, Limits};
use andon_ledger::ledger::{Ledger, Options};
use andon_ledger::receipt::{Draft, Kind, RunOutcome};
use assert_cmd::Command;
use hmac::{KeyInit as _, Mac as _};
use rstest::rstest;
use serde_json::Value;

use crate::ledger::{TestKeys, receipts, test_keys, verify_all};

fn andon() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("andon"))
}

const CFO_ABSENT: &str = r#"{"incident_id":"INC-2026-0001","kind":"approval_request","severity":"high",
 "evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000},
             "authorities":{"cfo_available":false,"board_available":true}}}"#;

const INSURANCE_EXPIRED: &str = r#"{"incident_id":"INC-3","kind":"field_work","severity":"high",
 "evidence":{"insurance":{"certificate_id":"INS-1","status":"expired","expires_on":"2026-01-31"},"as_of":"2026-11-20"}}"#;

fn eval_into(dir: &Path, keys: &TestKeys, component: &str, evidence: &str) -> assert_cmd::assert::Assert {
    let file = dir.join(format!("evidence-{}.json", sha256_hex(evidence.as_bytes())));
    std::fs::write(&file, evidence).unwrap();
    andon()
        .args(["eval", "-c", component, "-e"])
        .arg(&file)
        .arg("--ledger")
        .arg(dir.join("ledger"))
        .arg("--key")
        .arg(&keys.generated.hmac_path)
        .assert()
}

fn first_line(ledger: &Path) -> String {
    std::fs::read_to_string(ledger.join("receipts.jsonl")).unwrap().lines().next().unwrap().to_string()
}

#[test]
fn eval_with_a_ledger_appends_a_receipt_that_verifies_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let component = andon_recipes::shipped("approval-threshold").unwrap();
    let out = eval_into(dir.path(), &keys, component.path, CFO_ABSENT).success().get_output().stdout.clone();
    let printed: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed["receipt"]["seq"], 1);

    let ledger = dir.path().join("ledger");
    let line = first_line(&ledger);
    let receipt: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(printed["receipt"]["hash"], receipt["hash"]);
    // The line is the RFC 8785 form of the receipt.
    assert_eq!(canonical_bytes(&receipt), line.as_bytes());

    // By hand: hash = SHA-256 of the RFC 8785 body (all members but hash, signature).
    let mut body = receipt.clone();
    let object = body.as_object_mut().unwrap();
    let hash = object.remove("hash").unwrap();
    let signature = object.remove("signature").unwrap();
    assert_eq!(hash.as_str().unwrap(), sha256_hex(&canonical_bytes(&body)));
    // signature = HMAC-SHA256(key, the 64 ASCII hex characters of hash).
    let key_file: Value = serde_json::from_slice(&std::fs::read(&keys.generated.hmac_path).unwrap()).unwrap();
    let key = hex::decode(key_file["key"].as_str().unwrap()).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(hash.as_str().unwrap().as_bytes());
    assert_eq!(signature.as_str().unwrap(), hex::encode(mac.finalize().into_bytes()));

    // The fields.
    assert_eq!(body["format"], "andon.receipt/1");
    assert_eq!(body["seq"], 1);
    assert_eq!(body["prev_hash"], "0".repeat(64));
    assert_eq!(body["incident_prev_hash"], Value::Null);
    assert_eq!(body["kind"], "evaluated");
    assert_eq!(body["incident_id"], "INC-2026-0001");
    assert_eq!(body["key_id"], keys.generated.hmac_key_id.as_str());
    let run = &body["components"][0];
    assert_eq!(run["id"], "approval-threshold");
    assert_eq!(run["role"], "gate");
    assert_eq!(run["sha256"], sha256_hex(component.bytes));
    assert_eq!(run["outcome"], "pass");
    assert!(run["fuel_consumed"].as_u64().unwrap() > 0);
    assert_eq!(run["limits"]["fuel"], Limits::default().fuel);
    assert_eq!(run["settings"], serde_json::json!({}));
    let incident = Incident::from_bytes(CFO_ABSENT.as_bytes(), 1 << 20).unwrap();
    assert_eq!(body["evidence_sha256"], incident.sha256);
    assert_eq!(body["evidence"], incident.document);
    assert_eq!(body["decision"]["outcome"], "pass");
    assert_eq!(body["decision_sha256"], sha256_hex(&canonical_bytes(&body["decision"])));
    assert_eq!(run["output_sha256"], body["decision_sha256"]);
    assert_eq!(body["fault_class"], Value::Null);
    assert_eq!(body["engine"]["wasmtime"], "48.0.8");
    assert_eq!(body["engine"]["host"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["engine"]["config_digest"].as_str().unwrap().len(), 64);
    assert_eq!(body["evaluation_mode"], false);
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(timestamp.len() == 24 && timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T', "{timestamp}");

    // The component is in the store under its hash.
    let stored = std::fs::read(ledger.join("sha256").join(format!("{}.wasm", sha256_hex(component.bytes)))).unwrap();
    assert_eq!(stored, component.bytes);

    // A second evaluation of the same incident links to the first.
    eval_into(dir.path(), &keys, andon_recipes::shipped("approval-routing").unwrap().path, CFO_ABSENT).success();
    let all = receipts(&ledger);
    assert_eq!(all[1].body.incident_prev_hash.as_deref(), Some(hash.as_str().unwrap()));
    assert_eq!(all[1].body.prev_hash, hash.as_str().unwrap());
    assert!(verify_all(&ledger, &keys).ok);
}

/// Runs a documented shell recipe (sed, sha256sum, openssl) on a receipt line.
fn shell(script: &str, line: &str) -> String {
    let out = std::process::Command::new("sh").args(["-c", script]).env("LINE", line).output().expect("sh runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_documented_shell_recipe_verifies_a_real_receipt() {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl is not installed: skipping the shell recipe");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    eval_into(dir.path(), &keys, andon_recipes::shipped("insurance-active").unwrap().path, INSURANCE_EXPIRED).code(10);
    let line = first_line(&dir.path().join("ledger"));
    let receipt: Value = serde_json::from_str(&line).unwrap();
    // Exactly the commands of docs/receipts.md, "Verifying a receipt by hand".
    let body =
        r#"printf %s "$LINE" | sed -E 's/(.*),"hash":"[0-9a-f]{64}"/\1/; s/(.*),"signature":"[0-9a-f]{64}"/\1/'"#;
    let hash = shell(&format!("{body} | sha256sum | cut -d' ' -f1"), &line);
    assert_eq!(hash, receipt["hash"].as_str().unwrap());
    let key_file: Value = serde_json::from_slice(&std::fs::read(&keys.generated.hmac_path).unwrap()).unwrap();
    let key = key_file["key"].as_str().unwrap();
    let mac = shell(
        &format!("printf %s {hash} | openssl dgst -sha256 -mac HMAC -macopt hexkey:{key} | sed 's/.*= //'"),
        &line,
    );
    assert_eq!(mac, receipt["signature"].as_str().unwrap());
}

#[test]
fn a_refusal_receipt_carries_the_doctrine_fields() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    eval_into(dir.path(), &keys, andon_recipes::shipped("insurance-active").unwrap().path, INSURANCE_EXPIRED).code(10);
    let receipt = &receipts(&dir.path().join("ledger"))[0];
    assert_eq!(receipt.body.kind, Kind::Refused);
    let refusal = receipt.body.decision.as_ref().unwrap().refusal().expect("a refusal").clone();
    assert_eq!(refusal.reason, "insurance_expired");
    assert!(!refusal.checks.is_empty() && refusal.checks.iter().any(|c| !c.passed), "checks with passed/failed");
    assert_eq!(refusal.missing[0].name, "insurance_cert");
    assert!(!refusal.next_lawful_step.is_empty());
    assert!(!refusal.policy_reference.is_empty());
    assert_eq!(receipt.body.components[0].outcome, RunOutcome::Refused);
    assert_eq!(receipt.body.fault_class, None);
}

fn hostile_bytes() -> Vec<u8> {
    std::fs::read(andon_recipes::test_guest("hostile").unwrap().path).unwrap()
}

fn attack(name: &str) -> Incident {
    let json =
        format!(r#"{{"incident_id":"INC-H","kind":"hostile","severity":"low","evidence":{{"attack":"{name}"}}}}"#);
    Incident::from_bytes(json.as_bytes(), 1 << 20).unwrap()
}

#[rstest]
#[case::out_of_fuel("infinite_loop", FaultClass::OutOfFuel)]
#[case::out_of_memory("memory_bomb", FaultClass::OutOfMemory)]
#[case::stack_overflow("recursion", FaultClass::StackOverflow)]
#[case::trap("panic", FaultClass::Trap)]
#[case::output_too_large("giant_output", FaultClass::OutputTooLarge)]
fn a_guest_fault_becomes_an_indeterminate_refusal_receipt_never_a_plan(#[case] name: &str, #[case] class: FaultClass) {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let engine = AndonEngine::new().unwrap();
    let incident = attack(name);
    let limits = Limits { fuel: 50_000_000, memory_bytes: 32 << 20, ..Limits::default() };
    let recorded =
        run::evaluate_bytes(&engine, "hostile", &hostile_bytes(), &GuestRequest::from_incident(&incident), &limits)
            .unwrap();
    let mut ledger = Ledger::open(&dir.path().join("ledger"), keys.hmac.clone(), Options::default()).unwrap();
    ledger
        .append(Draft::from_runs(&incident, &[recorded], andon_core::record::EngineInfo::of(&engine), false))
        .unwrap();
    drop(ledger);
    let receipt = &receipts(&dir.path().join("ledger"))[0];
    assert_eq!(receipt.body.kind, Kind::Refused);
    assert_eq!(receipt.body.fault_class, Some(class));
    let decision = receipt.body.decision.as_ref().unwrap();
    assert!(decision.plan().is_none());
    let refusal = decision.refusal().unwrap();
    assert_eq!(refusal.reason, "indeterminate");
    assert_eq!(refusal.policy_reference, "ANDON-FAULT-CONTAINMENT");
    assert!(refusal.next_lawful_step.contains("human owner"), "{}", refusal.next_lawful_step);
    assert_eq!(refusal.checks[0].name, format!("guest_fault:{class}"));
    assert!(!refusal.checks[0].passed);
    let run = &receipt.body.components[0];
    assert_eq!((run.outcome, run.fault_class, run.output_sha256.as_deref()), (RunOutcome::Fault, Some(class), None));
    assert!(run.fuel_consumed > 0);
}

#[test]
fn a_component_refused_at_load_becomes_an_indeterminate_refusal_naming_the_import() {
    let engine = AndonEngine::new().unwrap();
    let bytes = crate::support::wat("clock-import.wat");
    let incident = attack("none");
    let recorded =
        run::evaluate_bytes(&engine, "clock", &bytes, &GuestRequest::from_incident(&incident), &Limits::default())
            .unwrap();
    assert_eq!(recorded.run.fault_class, Some(FaultClass::RefusedImport));
    assert_eq!(recorded.run.role, None);
    assert_eq!(recorded.run.sha256, sha256_hex(&bytes));
    let refusal = recorded.decision.refusal().unwrap();
    assert_eq!(refusal.reason, "indeterminate");
    assert!(refusal.checks[0].detail.contains("wasi:clocks/monotonic-clock@0.2.0"), "{}", refusal.checks[0].detail);
}

#[test]
fn eval_of_a_faulting_guest_with_a_ledger_records_the_refusal_and_exits_6() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let evidence = dir.path().join("e.json");
    std::fs::write(
        &evidence,
        r#"{"incident_id":"H","kind":"hostile","severity":"low","evidence":{"attack":"infinite_loop"}}"#,
    )
    .unwrap();
    let out = andon()
        .args(["eval", "--fuel", "1000000", "-c", andon_recipes::test_guest("hostile").unwrap().path, "-e"])
        .arg(&evidence)
        .arg("--ledger")
        .arg(dir.path().join("ledger"))
        .arg("--key")
        .arg(&keys.generated.hmac_path)
        .assert()
        .code(6)
        .get_output()
        .stdout
        .clone();
    let printed: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed["fault"]["class"], "out_of_fuel");
    assert_eq!(printed["decision"]["refusal"]["reason"], "indeterminate");
    let receipt = &receipts(&dir.path().join("ledger"))[0];
    assert_eq!(receipt.body.fault_class, Some(FaultClass::OutOfFuel));
    assert_eq!(receipt.hash, printed["receipt"]["hash"].as_str().unwrap());
}

fn ledger_files(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["receipts.jsonl", "checkpoints.jsonl"]
        .iter()
        .map(|f| (path.join(f), std::fs::read(path.join(f)).unwrap()))
        .collect()
}

#[rstest]
#[case::duplicate_key(
    r#"{"incident_id":"A","incident_id":"B","kind":"k","severity":"low","evidence":{}}"#,
    "duplicate key"
)]
#[case::lone_surrogate(r#"{"incident_id":"A","kind":"k","severity":"low","evidence":{"x":"\ud800"}}"#, "surrogate")]
#[case::number_beyond_2_53(
    r#"{"incident_id":"A","kind":"k","severity":"low","evidence":{"n":9007199254740993}}"#,
    "beyond ±2^53"
)]
fn rejected_evidence_leaves_the_ledger_unchanged(#[case] evidence: &str, #[case] needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let ledger = dir.path().join("ledger");
    eval_into(dir.path(), &keys, andon_recipes::shipped("approval-threshold").unwrap().path, CFO_ABSENT).success();
    let before = ledger_files(&ledger);
    eval_into(dir.path(), &keys, andon_recipes::shipped("approval-threshold").unwrap().path, evidence)
        .code(3)
        .stderr(predicates::str::contains(needle));
    assert_eq!(ledger_files(&ledger), before);
    // And a ledger that did not exist is not even created.
    let fresh = tempfile::tempdir().unwrap();
    let file = fresh.path().join("e.json");
    std::fs::write(&file, evidence).unwrap();
    andon()
        .args(["eval", "-c", andon_recipes::shipped("approval-threshold").unwrap().path, "-e"])
        .arg(&file)
        .arg("--ledger")
        .arg(fresh.path().join("never"))
        .arg("--key")
        .arg(&keys.generated.hmac_path)
        .assert()
        .code(3);
    assert!(!fresh.path().join("never").exists());
}

#[test]
fn a_fuel_limit_beyond_2_53_cannot_be_recorded_and_nothing_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let evidence = dir.path().join("e.json");
    std::fs::write(&evidence, CFO_ABSENT).unwrap();
    andon()
        .args(["eval", "--fuel", "18014398509481984", "-c", andon_recipes::shipped("approval-threshold").unwrap().path])
        .arg("-e")
        .arg(&evidence)
        .arg("--ledger")
        .arg(dir.path().join("ledger"))
        .arg("--key")
        .arg(&keys.generated.hmac_path)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("beyond 2^53"));
    assert_eq!(std::fs::read(dir.path().join("ledger/receipts.jsonl")).unwrap(), b"");
}

#[test]
fn eval_with_a_ledger_and_a_key_readable_by_others_exits_7() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    std::fs::set_permissions(&keys.generated.hmac_path, std::fs::Permissions::from_mode(0o640)).unwrap();
    eval_into(dir.path(), &keys, andon_recipes::shipped("approval-threshold").unwrap().path, CFO_ABSENT)
        .code(7)
        .stderr(predicates::str::contains("chmod 600"));
}

#[test]
fn keys_generate_through_the_cli_prints_the_key_ids() {
    let dir = tempfile::tempdir().unwrap();
    let out = andon()
        .args(["keys", "generate", "--out"])
        .arg(dir.path().join("k"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert!(json["hmac_key_id"].as_str().unwrap().starts_with("hmac-"));
    assert!(json["ed25519_key_id"].as_str().unwrap().starts_with("ed25519-"));
    andon().args(["keys", "generate", "--out"]).arg(dir.path().join("k")).assert().code(4);
}

#[test]
fn ledger_checkpoint_prints_a_checkpoint_that_verify_accepts_as_held() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    eval_into(dir.path(), &keys, andon_recipes::shipped("approval-threshold").unwrap().path, CFO_ABSENT).success();
    let ledger = dir.path().join("ledger");
    let out = andon()
        .args(["ledger", "checkpoint"])
        .arg(&ledger)
        .arg("--key")
        .arg(&keys.generated.hmac_path)
        .arg("--signing-key")
        .arg(&keys.generated.signing_path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let held = dir.path().join("held.json");
    std::fs::write(&held, &out).unwrap();
    let checkpoint: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(checkpoint["seq"], 1);
    assert_eq!(checkpoint["format"], "andon.checkpoint/1");
    andon()
        .arg("verify")
        .arg(&ledger)
        .arg("--public-key")
        .arg(&keys.generated.public_path)
        .arg("--checkpoint")
        .arg(&held)
        .assert()
        .success();
}
