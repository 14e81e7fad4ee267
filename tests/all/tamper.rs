//! Tamper detection: every single-byte change anywhere in the receipts, deleted,
//! duplicated and swapped records, truncation or rollback below a held checkpoint,
//! wrong keys: each is detected by `verify` and located at the first bad seq.

use std::path::Path;

use andon_ledger::checkpoint::Checkpoint;
use andon_ledger::keys;
use andon_ledger::ledger::scan::ProblemKind;
use andon_ledger::ledger::verify::{self, Report, VerifyOptions};
use andon_ledger::ledger::{Ledger, Options};
use andon_ledger::receipt::{self, Body, Kind, ZERO_HASH};
use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt as _;
use serde_json::Value;

use crate::ledger::{TestKeys, content, draft, ledger_with, signing_options, test_keys, verify_all};

fn andon() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("andon"))
}

fn lines(path: &Path) -> Vec<Vec<u8>> {
    let text = content(path);
    text.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    std::fs::write(path.join("receipts.jsonl"), lines.concat()).unwrap();
}

fn first_problem(report: &Report) -> (ProblemKind, u64) {
    assert!(!report.ok, "tampering went undetected: {report:#?}");
    let problem = &report.problems[0];
    (problem.kind, report.first_bad_seq.expect("a bad seq is named"))
}

#[test]
fn flipping_any_single_byte_of_the_receipts_is_detected_at_the_seq_of_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 5);
    let original = content(&path);
    let options = VerifyOptions {
        keys: vec![keys.hmac.clone()],
        public_key: Some(keys::load_verifying_key(&keys.generated.public_path).unwrap()),
        held: Vec::new(),
        since: Vec::new(),
    };
    let mut kinds = std::collections::BTreeMap::new();
    for position in 0..original.len() {
        let mut bytes = original.clone();
        bytes[position] ^= 0x01;
        std::fs::write(path.join("receipts.jsonl"), &bytes).unwrap();
        let report = verify::verify(&path, &options, &mut |_, _| {}).unwrap();
        let line_seq = original[..position].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let (kind, seq) = first_problem(&report);
        assert_eq!(seq, line_seq, "byte {position} ({:?}): {report:#?}", original[position] as char);
        *kinds.entry(format!("{kind:?}")).or_insert(0u32) += 1;
    }
    // The flips hit every kind of place: structure, body, hash, signature, newline.
    for kind in ["Malformed", "HashMismatch", "BadMac", "TornTail"] {
        assert!(kinds.contains_key(kind), "no flip was classified {kind}: {kinds:?}");
    }
    std::fs::write(path.join("receipts.jsonl"), &original).unwrap();
    assert!(verify::verify(&path, &options, &mut |_, _| {}).unwrap().ok);
}

#[test]
fn a_deleted_record_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 8);
    let mut all = lines(&path);
    all.remove(4);
    write_lines(&path, &all);
    let report = verify_all(&path, &keys);
    assert_eq!(first_problem(&report), (ProblemKind::UnexpectedSeq, 5));
    assert!(report.problems[0].message.contains("missing record"), "{report:#?}");
}

#[test]
fn a_duplicated_record_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 8);
    let mut all = lines(&path);
    let copy = all[2].clone();
    all.insert(3, copy);
    write_lines(&path, &all);
    let report = verify_all(&path, &keys);
    assert_eq!(first_problem(&report), (ProblemKind::UnexpectedSeq, 4));
    assert!(report.problems[0].message.contains("duplicate"), "{report:#?}");
}

#[test]
fn swapped_records_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 8);
    let mut all = lines(&path);
    all.swap(5, 6);
    write_lines(&path, &all);
    assert_eq!(first_problem(&verify_all(&path, &keys)), (ProblemKind::UnexpectedSeq, 6));
}

#[test]
fn a_rehashed_receipt_without_the_key_fails_the_mac_check() {
    // An attacker who rewrites a receipt and recomputes its hash (but has no HMAC
    // key) passes every hash and link check; the MAC gives it away.
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 1);
    let attacker = andon_ledger::keys::HmacKey::from_bytes([0x66; 32]);
    let body = Body {
        kind: Kind::Reported,
        incident_id: Some("INC-0".into()),
        ..Body::empty(1, ZERO_HASH.into(), keys.generated.hmac_key_id.clone(), receipt::rfc3339_now())
    };
    std::fs::write(path.join("receipts.jsonl"), receipt::seal(&body, &attacker).unwrap().line).unwrap();
    std::fs::write(path.join("checkpoints.jsonl"), b"").unwrap();
    erase_log(&path);
    let without_key = verify::verify(&path, &VerifyOptions::default(), &mut |_, _| {}).unwrap();
    assert!(without_key.ok, "hashes and links alone cannot tell");
    assert_eq!(first_problem(&verify_all(&path, &keys)), (ProblemKind::BadMac, 1));
}

#[test]
fn verify_with_a_wrong_hmac_key_is_rejected_at_seq_1() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 3);
    let other = keys::generate(&dir.path().join("other")).unwrap();
    let options = VerifyOptions { keys: vec![keys::load_hmac_key(&other.hmac_path).unwrap()], ..Default::default() };
    let report = verify::verify(&path, &options, &mut |_, _| {}).unwrap();
    assert_eq!(first_problem(&report), (ProblemKind::WrongKey, 1));
    assert!(report.problems[0].message.contains(&keys.generated.hmac_key_id));
}

#[test]
fn verify_with_a_wrong_public_key_rejects_the_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 8);
    let other = keys::generate(&dir.path().join("other")).unwrap();
    let options =
        VerifyOptions { public_key: Some(keys::load_verifying_key(&other.public_path).unwrap()), ..Default::default() };
    let report = verify::verify(&path, &options, &mut |_, _| {}).unwrap();
    assert!(!report.ok);
    // The checkpoint notes of the log fail with the wrong key too (docs/log.md).
    let wrong_key = report.problems.iter().filter(|p| p.kind == ProblemKind::CheckpointWrongKey).count();
    assert!(
        report.problems.iter().all(|p| matches!(p.kind, ProblemKind::CheckpointWrongKey | ProblemKind::NoteInvalid)),
        "{report:#?}"
    );
    assert_eq!(wrong_key, 2, "checkpoints at seq 4 and 8");
    assert_eq!(report.first_bad_seq, Some(4));
}

#[test]
fn a_checkpoint_forged_under_the_right_key_id_has_a_bad_signature() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 4);
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]);
    let head = verify_all(&path, &keys).head_hash;
    let mut forged = Checkpoint::sign(4, head, &keys.generated.ed25519_key_id, &stranger);
    forged.key_id = keys.generated.ed25519_key_id.clone();
    std::fs::write(path.join("checkpoints.jsonl"), forged.to_line()).unwrap();
    let report = verify_all(&path, &keys);
    assert_eq!(first_problem(&report), (ProblemKind::CheckpointBadSignature, 4));
}

/// What a thorough attacker also removes: the log's tiles, checkpoint notes and
/// origin (derived data a writer rebuilds).
fn erase_log(path: &Path) {
    for dir in ["tiles", "log-checkpoints"] {
        let _ = std::fs::remove_dir_all(path.join(dir));
    }
    let _ = std::fs::remove_file(path.join("origin"));
}

/// A ledger of 10 receipts and a checkpoint of seq 10 held by an auditor.
fn ledger_and_held_checkpoint(dir: &Path) -> (TestKeys, std::path::PathBuf, Checkpoint) {
    let keys = test_keys(dir);
    let path = dir.join("ledger");
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), signing_options(&keys, 0)).unwrap();
    for i in 0..10 {
        ledger.append(draft("H", i)).unwrap();
    }
    let held = ledger.checkpoint().unwrap();
    (keys, path, held)
}

fn verify_against(path: &Path, keys: &TestKeys, held: &Checkpoint) -> Report {
    let options = VerifyOptions {
        keys: Vec::new(),
        public_key: Some(keys::load_verifying_key(&keys.generated.public_path).unwrap()),
        held: vec![held.clone()],
        since: Vec::new(),
    };
    verify::verify(path, &options, &mut |_, _| {}).unwrap()
}

#[test]
fn cutting_the_tail_below_a_held_checkpoint_is_detected_as_a_missing_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, path, held) = ledger_and_held_checkpoint(dir.path());
    assert!(verify_against(&path, &keys, &held).ok);
    // The attacker cuts three whole receipts and every checkpoint in the ledger.
    let all = lines(&path);
    write_lines(&path, &all[..7]);
    std::fs::write(path.join("checkpoints.jsonl"), b"").unwrap();
    // The log's own checkpoint notes still see it ...
    let own = verify_all(&path, &keys);
    assert!(own.problems.iter().any(|p| p.kind == ProblemKind::MissingTail), "{own:#?}");
    // ... until they are erased too: then only a held checkpoint shows the cut.
    erase_log(&path);
    assert!(verify_all(&path, &keys).ok, "without the held checkpoint the cut is invisible");
    let report = verify_against(&path, &keys, &held);
    assert_eq!(first_problem(&report), (ProblemKind::MissingTail, 8));
    assert!(report.problems[0].message.contains("held checkpoint"), "{report:#?}");
}

#[test]
fn a_rollback_and_rewrite_below_a_held_checkpoint_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, path, held) = ledger_and_held_checkpoint(dir.path());
    let all = lines(&path);
    write_lines(&path, &all[..7]);
    std::fs::write(path.join("checkpoints.jsonl"), b"").unwrap();
    erase_log(&path);
    // Even the key holder cannot rewrite history past the checkpoint unnoticed.
    let mut ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    for i in 0..3 {
        ledger.append(draft("H", 100 + i)).unwrap();
    }
    drop(ledger);
    assert!(verify_all(&path, &keys).ok);
    let report = verify_against(&path, &keys, &held);
    assert_eq!(first_problem(&report), (ProblemKind::CheckpointMismatch, 10));
}

#[test]
fn cli_verify_names_the_first_bad_seq_in_json_and_exits_20() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 6);
    let ok = andon()
        .arg("verify")
        .arg(&path)
        .arg("--key")
        .arg(&keys.generated.hmac_path)
        .arg("--public-key")
        .arg(&keys.generated.public_path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let ok: Value = serde_json::from_slice(&ok).unwrap();
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["receipts"], 6);
    assert_eq!(ok["macs_checked"], true);

    let mut all = lines(&path);
    let mid = all[2].len() / 2;
    all[2][mid] ^= 0x20;
    write_lines(&path, &all);
    let out = andon()
        .arg("verify")
        .arg(&path)
        .args(["--format", "json", "--key"])
        .arg(&keys.generated.hmac_path)
        .assert()
        .code(20)
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_seq"], 3);
    assert_eq!(report["problems"][0]["line"], 3);
    assert!(["hash_mismatch", "malformed"].contains(&report["problems"][0]["kind"].as_str().unwrap()), "{report}");
}

#[test]
fn cli_verify_with_a_held_checkpoint_detects_truncation_and_the_text_format_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, path, held) = ledger_and_held_checkpoint(dir.path());
    let held_file = dir.path().join("held.json");
    std::fs::write(&held_file, held.to_line()).unwrap();
    let all = lines(&path);
    write_lines(&path, &all[..9]);
    andon()
        .arg("verify")
        .arg(&path)
        .args(["--format", "text", "--public-key"])
        .arg(&keys.generated.public_path)
        .arg("--checkpoint")
        .arg(&held_file)
        .assert()
        .code(20)
        .stdout(predicates::str::contains("first bad seq 10").and(predicates::str::contains("MissingTail")));
}

#[test]
fn cli_verify_refuses_a_held_checkpoint_without_a_public_key() {
    let dir = tempfile::tempdir().unwrap();
    andon().arg("verify").arg(dir.path()).args(["--checkpoint", "held.json"]).assert().code(2);
}
