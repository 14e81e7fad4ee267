//! The usual mistakes of a person at the command line get a clear answer, a
//! documented exit code, and change nothing (issue: the CLI as a person meets it).

use predicates::prelude::PredicateBooleanExt as _;
use predicates::str::contains;

use crate::integrity::{CFO_ABSENT, ID, closed_incident};
use crate::support::{Host, andon};

#[test]
fn a_mistyped_ledger_path_is_refused_and_never_created() {
    let host = Host::new();
    closed_incident(&host);
    let typo = host.path("ledgr");
    let keys = host.path("keys");
    for args in [
        vec!["incident", "outcome", ID, "--status", "executed"],
        vec!["incident", "close", ID, "--feedback", "done"],
        vec!["export", ID, "-o", "x.tar.gz"],
    ] {
        andon()
            .args(&args)
            .arg("--ledger")
            .arg(&typo)
            .arg("--keys")
            .arg(&keys)
            .current_dir(host.path(""))
            .assert()
            .code(4)
            .stderr(contains("is not a ledger"));
        assert!(!typo.exists(), "`andon {}` created {}", args.join(" "), typo.display());
    }
    andon().args(["incident", "show", ID, "--ledger"]).arg(&typo).assert().code(4).stderr(contains("is not a ledger"));
    assert!(!typo.exists());
}

#[test]
fn report_since_takes_a_time_or_a_date_and_refuses_anything_else() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    let report =
        |since: &str| andon().args(["report", "--ledger"]).arg(host.path("ledger")).args(["--since", since]).assert();
    for bad in ["garbage", "2026-13-01", "2026-02-30T00:00:00Z", "2026-01-01T0\u{e9}:00:00Z", "2026-01-01 00:00:00"] {
        report(bad).code(3).stderr(contains(format!("--since `{bad}` is not a UTC time")));
    }
    report("2099-01-01").success().stdout(contains("since 2099-01-01T00:00:00Z").and(contains("INC-2026-0001").not()));
    report("2020-01-01T00:00:00.000Z").success();
}

#[test]
fn an_unknown_output_name_lists_the_valid_ones() {
    let host = Host::new();
    closed_incident(&host);
    andon()
        .args(["incident", "show", ID, "--output", "narrative", "--ledger"])
        .arg(host.path("ledger"))
        .assert()
        .code(3)
        .stderr(contains("no output `narrative`; the outputs are: ").and(contains("narrative.md")));
}

#[test]
fn export_never_overwrites_without_force() {
    let host = Host::new();
    closed_incident(&host);
    let out = host.path("exists.tar.gz");
    std::fs::write(&out, b"keep me").unwrap();
    let export = |force: bool| {
        let mut cmd = andon();
        cmd.args(["export", ID, "-o"]).arg(&out);
        if force {
            cmd.arg("--force");
        }
        host.host_args(&mut cmd);
        cmd.assert()
    };
    export(false).code(3).stderr(contains("exists; nothing is overwritten without --force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    export(true).success();
    host.audit(&out).success();
}

#[test]
fn an_audit_says_its_verdict_first_and_a_pass_on_the_embedded_key_is_weak() {
    let host = Host::new();
    closed_incident(&host);
    let archive = host.export(ID);
    let out = andon().arg("audit").arg(&archive).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.starts_with("verdict    PASS against the key inside the bundle only (WEAK"), "{text}");
    let other = host.path("other");
    andon().args(["keys", "generate", "--out"]).arg(&other).assert().success();
    let out = andon().arg("audit").arg(&archive).arg("--public-key").arg(other.join("ed25519.pub")).assert().code(24);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.starts_with("verdict    FAIL at "), "{text}");
    assert!(text.contains("receipts   5 checked") && !text.contains("receipts   5 verified"), "{text}");
    andon()
        .arg("audit")
        .arg(&archive)
        .args(["--quorum", "2"])
        .assert()
        .code(3)
        .stderr(contains("--quorum 2 is more than the 0 --witness keys given"));
}

#[test]
fn a_key_file_of_the_wrong_kind_is_named_as_such() {
    let host = Host::new();
    let sign = |key: &str| {
        andon().args(["bundle", "sign"]).arg(host.path("bundle")).arg("--key").arg(host.path(key)).assert().code(7)
    };
    let out = sign("keys/ed25519.pub");
    let text = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        text.contains("this is the Ed25519 public key file (ed25519.pub); the Ed25519 secret key file (ed25519.key) is needed here"),
        "{text}"
    );
    assert!(!text.contains("chmod"), "a public key is not a secret: {text}");
    sign("keys/hmac.key").stderr(contains("this is the HMAC receipt key file (hmac.key)"));
}

#[test]
fn a_golden_case_given_as_evidence_is_recognised() {
    let host = Host::new();
    let golden =
        crate::support::root().join("recipes-wasm/golden/approval-threshold/cfo_absent_escalates_to_board.json");
    let mut cmd = andon();
    cmd.args(["incident", "submit"]).arg(&golden).arg("--bundle").arg(host.path("bundle"));
    cmd.arg("--trust").arg(host.path("trust.json"));
    host.host_args(&mut cmd);
    cmd.assert().code(3).stderr(contains("this looks like a golden case: the incident is its `incident` member"));
}

#[test]
fn version_names_the_engine_and_a_submit_without_trust_warns() {
    let out = andon().arg("--version").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("wasmtime 48.") && text.contains("engine config digest "), "{text}");
    let host = Host::new();
    let file = host.path("e.json");
    std::fs::write(&file, CFO_ABSENT).unwrap();
    let mut cmd = andon();
    cmd.args(["incident", "submit"]).arg(&file).arg("--bundle").arg(host.path("bundle"));
    host.host_args(&mut cmd);
    cmd.assert().success().stderr(contains("warning: no --trust policy"));
}

#[test]
fn text_output_carries_what_a_person_needs_to_act() {
    let host = Host::new();
    let (code, _) = host.submit(CFO_ABSENT, &[]);
    assert_eq!(code, 0);
    let text = |evidence: &str, id: &str| {
        let file = host.path(&format!("{id}.json"));
        std::fs::write(&file, evidence.replace(ID, id)).unwrap();
        let mut cmd = andon();
        cmd.args(["incident", "submit"]).arg(&file).arg("--bundle").arg(host.path("bundle"));
        cmd.arg("--trust").arg(host.path("trust.json")).args(["--format", "text"]);
        host.host_args(&mut cmd);
        let out = cmd.output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (code, plan) = text(CFO_ABSENT, "INC-TEXT-1");
    assert_eq!(code, 0, "{plan}");
    assert!(plan.contains("recipe     "), "{plan}");
    // Every step with its parameters, every check analyzed.
    assert!(plan.lines().any(|l| l.starts_with("  step 1: ") && l.contains('=')), "{plan}");
    assert!(plan.contains("  [pass] ") && plan.contains("  [FAIL] cfo_available"), "{plan}");
    let refused = CFO_ABSENT.replace("\"board_available\":true", "\"board_available\":false");
    let (code, refusal) = text(&refused, "INC-TEXT-2");
    assert_eq!(code, 10, "{refusal}");
    for part in ["reason     ", "next step  ", "policy     ", "  [FAIL] "] {
        assert!(refusal.contains(part), "`{part}` in {refusal}");
    }
}

#[test]
fn completions_and_a_manual_page_come_from_the_same_definitions() {
    let out = andon().args(["completions", "bash"]).assert().success();
    let script = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(script.contains("_andon()") && script.contains("prove") && script.contains("--public-key"), "{script}");
    let out = andon().arg("man").assert().success();
    let page = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(page.starts_with(".ie") || page.contains(".TH andon"), "{}", &page[..page.len().min(200)]);
    andon().args(["completions", "tcsh"]).assert().code(2).stderr(contains("possible values"));
}

#[test]
fn quiet_silences_notes_but_never_errors() {
    let host = Host::new();
    let file = host.path("e.json");
    std::fs::write(&file, CFO_ABSENT).unwrap();
    let mut cmd = andon();
    cmd.args(["--quiet", "incident", "submit"]).arg(&file).arg("--bundle").arg(host.path("bundle"));
    host.host_args(&mut cmd);
    let out = cmd.assert().success();
    assert!(out.get_output().stderr.is_empty(), "{}", String::from_utf8_lossy(&out.get_output().stderr));
    andon()
        .args(["-q", "incident", "show", "INC-NOPE", "--ledger"])
        .arg(host.path("ledger"))
        .assert()
        .code(9)
        .stderr(contains("error: "));
    andon().args(["-q", "-v", "report", "--ledger"]).arg(host.path("ledger")).assert().code(2);
    andon().args(["--color", "never", "-vv", "report", "--ledger"]).arg(host.path("ledger")).assert().success();
}
