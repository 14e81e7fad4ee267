//! The `andon` binary, driven through `assert_cmd` with temporary directories.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use sha2::Digest as _;

fn andon() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("andon"))
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const CFO_ABSENT: &str = r#"{"incident_id":"INC-2026-0001","kind":"approval_request","severity":"high",
 "evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000},
             "authorities":{"cfo_available":false,"board_available":true}}}"#;

#[test]
fn eval_prints_the_decision_with_the_same_hash_as_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = write(&dir, "e.json", CFO_ABSENT);
    let component = andon_recipes::shipped("approval-threshold").unwrap();
    let output = andon()
        .args(["eval", "--component", component.path, "--evidence"])
        .arg(&evidence)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: Value = serde_json::from_slice(&output).unwrap();
    // Same hash as `sha256sum` of the file.
    let sha256sum = std::process::Command::new("sha256sum").arg(component.path).output().unwrap();
    let expected = String::from_utf8(sha256sum.stdout).unwrap().split_whitespace().next().unwrap().to_string();
    assert_eq!(json["component"]["sha256"], expected);
    assert_eq!(json["decision"]["outcome"], "pass");
    assert!(json["fuel_consumed"].as_u64().unwrap() > 0);
    let checks = json["decision"]["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["name"] == "cfo_available" && c["passed"] == false));
    assert_eq!(json["engine"]["config_digest"].as_str().unwrap().len(), 64);
}

#[test]
fn eval_text_format_shows_the_plan_steps() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = write(&dir, "e.json", CFO_ABSENT);
    andon()
        .args(["eval", "--format", "text", "-c", andon_recipes::shipped("approval-routing").unwrap().path, "-e"])
        .arg(&evidence)
        .assert()
        .success()
        .stdout(predicate::str::contains("outcome    plan").and(predicate::str::contains("escalate_to_board")));
}

#[test]
fn eval_of_a_refusal_exits_10_and_prints_the_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = write(
        &dir,
        "e.json",
        r#"{"incident_id":"INC-3","kind":"field_work","severity":"high",
            "evidence":{"insurance":{"certificate_id":"INS-1","status":"expired","expires_on":"2026-01-31"},"as_of":"2026-11-20"}}"#,
    );
    let out = andon()
        .args(["eval", "-c", andon_recipes::shipped("insurance-active").unwrap().path, "-e"])
        .arg(&evidence)
        .assert()
        .code(10)
        .get_output()
        .stdout
        .clone();
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["decision"]["outcome"], "refused");
    assert_eq!(json["decision"]["refusal"]["reason"], "insurance_expired");
    assert_eq!(json["decision"]["refusal"]["missing"][0]["name"], "insurance_cert");
}

#[test]
fn eval_reads_evidence_from_stdin() {
    andon()
        .args(["eval", "-c", andon_recipes::shipped("approval-threshold").unwrap().path, "-e", "-"])
        .write_stdin(CFO_ABSENT)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"outcome\": \"pass\""));
}

#[test]
fn malformed_evidence_json_exits_3_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = write(&dir, "bad.json", r#"{"incident_id": "X", "kind": "k",, }"#);
    andon()
        .args(["eval", "-c", andon_recipes::shipped("approval-threshold").unwrap().path, "-e"])
        .arg(&evidence)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("evidence is not acceptable JSON").and(predicate::str::contains("line 1")));
}

#[test]
fn duplicate_keys_in_evidence_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let evidence =
        write(&dir, "dup.json", r#"{"incident_id":"A","incident_id":"B","kind":"k","severity":"low","evidence":{}}"#);
    andon()
        .args(["eval", "-c", andon_recipes::shipped("approval-threshold").unwrap().path, "-e"])
        .arg(&evidence)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("duplicate key `incident_id`"));
}

#[test]
fn missing_file_exits_4_naming_the_file() {
    andon()
        .args(["eval", "-c", "/nonexistent/gate.wasm", "-e", "/nonexistent/e.json"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("cannot read /nonexistent/gate.wasm"));
}

#[test]
fn eval_of_a_clock_importing_component_exits_5_naming_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("clock.wasm");
    std::fs::write(&wasm, crate::support::wat("clock-import.wat")).unwrap();
    let evidence = write(&dir, "e.json", CFO_ABSENT);
    andon()
        .arg("eval")
        .arg("-c")
        .arg(&wasm)
        .arg("-e")
        .arg(&evidence)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("wasi:clocks/monotonic-clock@0.2.0"));
}

#[test]
fn eval_of_a_hostile_guest_exits_6_with_the_fault_class() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = write(
        &dir,
        "e.json",
        r#"{"incident_id":"H","kind":"hostile","severity":"low","evidence":{"attack":"infinite_loop"}}"#,
    );
    andon()
        .args(["eval", "--fuel", "1000000", "-c", andon_recipes::test_guest("hostile").unwrap().path, "-e"])
        .arg(&evidence)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("ran out of fuel"));
}

#[test]
fn inspect_lists_no_imports_for_shipped_components() {
    for component in andon_recipes::SHIPPED {
        let out = andon().args(["inspect", component.path]).assert().success().get_output().stdout.clone();
        let json: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["imports"], serde_json::json!([]), "{}", component.id);
        assert_eq!(json["type_imports"], serde_json::json!(["andon:policy/types@0.1.0"]), "{}", component.id);
        assert_eq!(json["sha256"], hex::encode(sha2::Sha256::digest(component.bytes)));
        let world = match component.role {
            andon_recipes::Role::Gate => "andon:policy/gate@0.1.0",
            andon_recipes::Role::Recipe => "andon:policy/recipe@0.1.0",
        };
        assert_eq!(json["world"], world);
        assert_eq!(json["loadable"], true);
    }
}

#[test]
fn inspect_names_a_refused_import() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("random.wasm");
    std::fs::write(&wasm, crate::support::wat("random-import.wat")).unwrap();
    andon()
        .args(["inspect", "--format", "text"])
        .arg(&wasm)
        .assert()
        .code(5)
        .stdout(predicate::str::contains("imports  wasi:random/random@0.2.0"));
}

#[test]
fn inspect_of_random_bytes_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("junk.wasm");
    std::fs::write(&wasm, b"junk junk junk").unwrap();
    andon().arg("inspect").arg(&wasm).assert().code(5).stderr(predicate::str::contains("invalid component"));
}
