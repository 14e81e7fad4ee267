//! Incidents end to end through the real `andon` binary: the doctrine's stories,
//! lifecycle receipts, redaction, export and offline audit.

use std::path::{Path, PathBuf};

use predicates::prelude::PredicateBooleanExt as _;
use serde_json::Value;

use crate::support::Host;

fn andon() -> assert_cmd::Command {
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("andon"))
}

const CFO_ABSENT: &str = r#"{"incident_id":"INC-2026-0001","kind":"approval_request","severity":"high","evidence":{
  "request":{"amount":1200000,"currency":"USD","threshold":1000000,"purpose":"line 3 hydraulic press"},
  "authorities":{"cfo_available":false,"board_available":true}}}"#;

const INSURANCE_EXPIRED: &str = r#"{"incident_id":"INC-2026-0032","kind":"config_hash_mismatch","severity":"high","evidence":{
  "target":"payments-gateway","deployed_config_sha256":"af5f2730f0725e2f4a1ca593598bb588ffdbc728b8ddb616506fb5897002f3a8",
  "spec_config_sha256":"f7d8ba9a6937ff7aa4e857ea4e7ad38dd189ab4785b7587964d59878f2f57207","spec_ref":"git:ops/specs@a1b2c3",
  "tests_available":true,"evidence_level":"high","as_of":"2026-11-20",
  "customer_approval":{"documented":true,"reference":"CHG-4411","approved_by":"j.doe@customer.example"},
  "insurance":{"certificate_id":"INS-77","status":"active","expires_on":"2026-10-31"}}}"#;

#[test]
fn doctrine_story_end_to_end_plan_outcome_close_export_and_audit() {
    let host = Host::new();
    let (code, json) = host.submit(CFO_ABSENT, &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["status"], "planned");
    let actions: Vec<&str> =
        json["decision"]["plan"]["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"escalate_to_board"), "{actions:?}");
    let kinds: Vec<String> = host
        .ledger_text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["reported", "evaluated", "planned"]);

    host.cmd(&["incident", "outcome", "INC-2026-0001", "--status", "executed", "--note", "board approved on call"])
        .success();
    // An outcome cannot be recorded twice.
    host.cmd(&["incident", "outcome", "INC-2026-0001", "--status", "executed"])
        .code(9)
        .stderr(predicates::str::contains("illegal transition"));
    host.cmd(&["incident", "close", "INC-2026-0001", "--feedback", "threshold rule worked"]).success();
    host.cmd(&["incident", "close", "INC-2026-0001"]).code(9).stderr(predicates::str::contains("close again"));

    let archive = host.export("INC-2026-0001");
    host.audit(&archive).success().stdout(predicates::str::contains("verdict    PASS"));
    andon()
        .args(["verify"])
        .arg(host.path("ledger"))
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .assert()
        .success();
}

#[test]
fn threshold_as_a_string_is_refused_naming_the_field_and_cannot_get_an_outcome() {
    let host = Host::new();
    let evidence = CFO_ABSENT.replace("\"threshold\":1000000", "\"threshold\":\"1000000\"");
    let (code, json) = host.submit(&evidence, &[]);
    assert_eq!(code, 10);
    assert_eq!(json["decision"]["refusal"]["reason"], "evidence_schema_violation");
    let checks = json["decision"]["refusal"]["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["name"] == "schema:evidence/request/threshold"), "{checks:?}");
    host.cmd(&["incident", "outcome", "INC-2026-0001", "--status", "executed"])
        .code(9)
        .stderr(predicates::str::contains("refused"));
    let archive = host.export("INC-2026-0001");
    host.audit(&archive).success();
}

#[test]
fn unknown_incident_kind_gets_the_no_standard_work_refusal() {
    let host = Host::new();
    let (code, json) =
        host.submit(r#"{"incident_id":"INC-X","kind":"printer_on_fire","severity":"critical","evidence":{}}"#, &[]);
    assert_eq!(code, 10);
    assert_eq!(json["decision"]["refusal"]["reason"], "no_standard_work");
    assert!(
        json["decision"]["refusal"]["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("no standard work for this incident class")
    );
}

#[test]
fn expired_insurance_is_refused_listing_insurance_cert_with_a_next_lawful_step() {
    let host = Host::new();
    let (code, json) = host.submit(INSURANCE_EXPIRED, &[]);
    assert_eq!(code, 10, "{json}");
    let refusal = &json["decision"]["refusal"];
    assert_eq!(refusal["reason"], "insurance_expired");
    assert_eq!(refusal["missing"][0]["name"], "insurance_cert");
    assert!(refusal["next_lawful_step"].as_str().unwrap().contains("renew"), "{refusal}");
    // Checks of the earlier gates are kept: evidence level and customer approval passed.
    let checks = refusal["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["name"] == "customer_approval_documented" && c["passed"] == true));
    let archive = host.export("INC-2026-0032");
    host.audit(&archive).success();
}

#[test]
fn secrets_are_redacted_everywhere_and_the_incident_still_audits_clean() {
    let host = Host::new();
    let password = "hunter2-Sup3rS3cret!";
    let token = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let evidence = CFO_ABSENT.replace(
        "\"purpose\":\"line 3 hydraulic press\"",
        &format!("\"purpose\":\"line 3 press, ask ops with {token}\",\"db_password\":\"{password}\""),
    );
    let (code, json) = host.submit(&evidence, &[]);
    assert_eq!(code, 0, "{json}");
    assert!(!json.to_string().contains(password) && !json.to_string().contains(token));
    host.cmd(&["incident", "outcome", "INC-2026-0001", "--status", "executed", "--note", &format!("used {token}")])
        .success();
    let archive = host.export("INC-2026-0001");
    // Nowhere in the ledger directory (receipts, checkpoints, store) ...
    for entry in walk(&host.path("ledger")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!contains(&bytes, password.as_bytes()) && !contains(&bytes, token.as_bytes()), "{}", entry.display());
    }
    // ... nor in the export (decompressed), nor in the outputs.
    let files = andon_work::bundle::archive::unpack(
        std::fs::File::open(&archive).unwrap(),
        &andon_work::bundle::archive::ArchiveLimits::default(),
    )
    .unwrap();
    for (name, bytes) in &files {
        assert!(!contains(bytes, password.as_bytes()) && !contains(bytes, token.as_bytes()), "{name}");
        assert!(!name.contains("hmac"), "the HMAC key is never exported");
    }
    assert!(contains(&files["evidence.json"], b"[REDACTED:key]"));
    assert!(contains(&files["evidence.json"], b"[REDACTED:github_token]"));
    host.audit(&archive).success();
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn altering_any_byte_of_an_export_makes_the_audit_fail_and_say_where() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    let archive = host.export("INC-2026-0001");
    let files = andon_work::bundle::archive::unpack(
        std::fs::File::open(&archive).unwrap(),
        &andon_work::bundle::archive::ArchiveLimits::default(),
    )
    .unwrap();
    let component = files.keys().find(|k| k.starts_with("components/")).unwrap().clone();
    for (target, needle) in [
        ("receipt-chain.jsonl".to_string(), "receipt-chain.jsonl"),
        (component.clone(), component.as_str()),
        ("evidence.json".to_string(), "evidence.json"),
        ("narrative.md".to_string(), "narrative.md"),
    ] {
        let mut altered = files.clone();
        let bytes = altered.get_mut(&target).unwrap();
        let at = bytes.len() / 2;
        bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
        let path = host.path("altered.tar.gz");
        andon_work::bundle::archive::pack(&altered, &mut std::fs::File::create(&path).unwrap()).unwrap();
        host.audit(&path)
            .code(24)
            .stderr(predicates::str::contains(needle).and(predicates::str::contains("audit failed")));
    }
}

#[test]
fn evaluation_mode_marks_receipts_and_exports_as_advisory() {
    let host = Host::new();
    let (_, json) = host.submit(CFO_ABSENT, &["--evaluation-mode"]);
    assert_eq!(json["evaluation_mode"], true);
    for line in host.ledger_text().lines() {
        assert_eq!(serde_json::from_str::<Value>(line).unwrap()["evaluation_mode"], true);
    }
    let archive = host.export("INC-2026-0001");
    host.audit(&archive).success().stdout(predicates::str::contains("advisory"));
}

#[test]
fn narrative_and_runbook_are_byte_identical_when_regenerated() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    host.cmd(&["incident", "outcome", "INC-2026-0001", "--status", "executed"]).success();
    for output in ["narrative.md", "runbook.md", "checklist.md", "sla.json"] {
        let run = || {
            andon()
                .args(["incident", "show", "INC-2026-0001", "--output", output, "--ledger"])
                .arg(host.path("ledger"))
                .output()
                .unwrap()
                .stdout
        };
        let first = run();
        assert!(!first.is_empty());
        assert_eq!(first, run(), "{output} differs when regenerated");
    }
    let a = host.export("INC-2026-0001");
    let first = std::fs::read(&a).unwrap();
    let b = host.export("INC-2026-0001");
    assert_eq!(first, std::fs::read(&b).unwrap(), "exports are byte-identical");
}

#[test]
fn a_duplicate_incident_id_is_refused_and_nothing_is_recorded() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    let before = host.ledger_text();
    let (code, _) = {
        let file = host.path("again.json");
        std::fs::write(&file, CFO_ABSENT).unwrap();
        let mut cmd = andon();
        cmd.args(["incident", "submit"]).arg(&file).arg("--bundle").arg(host.path("bundle"));
        host.host_args(&mut cmd);
        let out = cmd.output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(code, 9);
    assert_eq!(before, host.ledger_text());
}

#[test]
fn kaizen_report_counts_recipes_refusals_recurrences_and_sla() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    host.cmd(&["incident", "outcome", "INC-2026-0001", "--status", "executed"]).success();
    host.submit(&CFO_ABSENT.replace("INC-2026-0001", "INC-2026-0002"), &[]);
    host.cmd(&["incident", "outcome", "INC-2026-0002", "--status", "failed", "--note", "board unreachable"]).success();
    host.submit(
        &CFO_ABSENT.replace("INC-2026-0001", "INC-2026-0003").replace("\"threshold\":1000000", "\"threshold\":\"x\""),
        &[],
    );
    host.submit(
        &CFO_ABSENT.replace("INC-2026-0001", "INC-2026-0004").replace("\"threshold\":1000000", "\"threshold\":\"y\""),
        &[],
    );
    let out = andon().args(["report", "--format", "json", "--ledger"]).arg(host.path("ledger")).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["incidents"], 4);
    let recipe = &report["recipes"]["approval-routing"];
    assert_eq!(recipe["incidents"], 4);
    assert_eq!(recipe["approvals"], 2);
    assert_eq!(recipe["refusals"]["evidence_schema_violation"], 2);
    assert_eq!(recipe["executions"], 2);
    assert_eq!(recipe["success_rate"], 0.5);
    assert_eq!(report["recurring_kinds"]["approval_request"], 4);
    assert_eq!(report["recurring_refusals"]["evidence_schema_violation"], 2);
    assert_eq!(report["sla"]["high"]["target_minutes"], 8);
    assert_eq!(report["sla"]["high"]["decisions"], 4);
    assert_eq!(report["sla"]["high"]["within_target"], 4);
    andon()
        .args(["report", "--ledger"])
        .arg(host.path("ledger"))
        .assert()
        .success()
        .stdout(predicates::str::contains("approval-routing").and(predicates::str::contains("time to decision")));
}
