//! Every exit code documented in `docs/cli.md`, produced by the real `andon` binary
//! in a situation that must produce it: the exact code, and the problem named where
//! a user reads it (stderr; stdout for the codes whose report is the output: 0, 10,
//! 20, 21, and a guest fault recorded by `eval --ledger`).
//!
//! Several cases reach their library error through `#[error(transparent)]` wrappers
//! (an `IncidentError` around a ledger error, an `ExportError` around an
//! `IncidentError`, …), which a plain `source()` walk does not see through.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use rstest::rstest;

use crate::support::{Host, andon, root};

const CFO_ABSENT: &str = r#"{"incident_id":"INC-2026-0001","kind":"approval_request","severity":"high","evidence":{
  "request":{"amount":1200000,"currency":"USD","threshold":1000000,"purpose":"line 3 hydraulic press"},
  "authorities":{"cfo_available":false,"board_available":true}}}"#;

const INSURANCE_EXPIRED: &str = r#"{"incident_id":"INC-3","kind":"field_work","severity":"high",
 "evidence":{"insurance":{"certificate_id":"INS-1","status":"expired","expires_on":"2026-01-31"},
             "as_of":"2026-11-20"}}"#;

const INFINITE_LOOP: &str =
    r#"{"incident_id":"INC-H-1","kind":"hostile","severity":"low","evidence":{"attack":"infinite_loop"}}"#;

/// Every code with a case below; checked against the table in `docs/cli.md`.
const COVERED: [i32; 17] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 22, 23, 24, 25];

/// Where a case's problem is named.
#[derive(Debug, Clone, Copy)]
enum Says {
    Stdout,
    Stderr,
}

/// The command a case runs, and a ledger lock held while it runs.
struct Run {
    cmd: Command,
    _lock: Option<std::fs::File>,
}

impl From<Command> for Run {
    fn from(cmd: Command) -> Run {
        Run { cmd, _lock: None }
    }
}

/// Sets the situation up on a fresh host and returns what to run in it.
type Scenario = fn(&Host) -> Run;

#[rstest]
#[case::ok_incident_submit_planned(0, planned, Says::Stdout, r#""status": "planned""#)]
#[case::internal_demo_golden_case_mismatch(1, demo_mismatch, Says::Stderr, "1 golden case(s) did not match")]
#[case::usage_unknown_flag(2, unknown_flag, Says::Stderr, "unexpected argument '--no-such-flag'")]
#[case::usage_missing_argument(2, missing_argument, Says::Stderr, "required arguments were not provided")]
#[case::bad_input_malformed_evidence_on_submit(3, malformed_evidence, Says::Stderr, "evidence is not acceptable JSON")]
#[case::bad_input_missing_field_on_submit(3, missing_kind, Says::Stderr, "field `kind` is missing")]
#[case::bad_input_number_beyond_2_53(3, big_number, Says::Stderr, "beyond ±2^53")]
#[case::bad_input_fuel_beyond_2_53_in_a_receipt(3, unrecordable_fuel, Says::Stderr, "beyond 2^53")]
#[case::bad_input_replay_of_an_unknown_seq(3, replay_unknown_seq, Says::Stderr, "no receipt matches seq 999999")]
#[case::io_missing_evidence_file(4, missing_evidence, Says::Stderr, "absent.json")]
#[case::io_not_a_ledger_for_incident_show(4, show_not_a_ledger, Says::Stderr, "is not a ledger")]
#[case::io_not_a_ledger_for_export(4, export_not_a_ledger, Says::Stderr, "is not a ledger")]
#[case::io_not_a_ledger_for_report(4, report_not_a_ledger, Says::Stderr, "is not a ledger")]
#[case::component_refused_clock_import(5, clock_import, Says::Stderr, "wasi:clocks/monotonic-clock@0.2.0")]
#[case::component_refused_not_a_component(5, not_a_component, Says::Stderr, "invalid component")]
#[case::guest_fault_out_of_fuel(6, out_of_fuel, Says::Stderr, "ran out of fuel")]
#[case::guest_fault_recorded_by_eval_ledger(6, out_of_fuel_recorded, Says::Stdout, r#""class": "out_of_fuel""#)]
#[case::key_invalid(7, invalid_key, Says::Stderr, "invalid key file")]
#[case::key_readable_by_group(7, readable_key, Says::Stderr, "chmod 600")]
#[case::bundle_unsigned_under_a_trust_policy(8, unsigned_bundle, Says::Stderr, "is unsigned")]
#[case::bundle_untrusted_key(8, untrusted_key, Says::Stderr, "untrusted key")]
#[case::bundle_hash_mismatch(8, altered_component, Says::Stderr, "does not match its sha256")]
#[case::bundle_extra_file(8, extra_file, Says::Stderr, "extra unlisted file `notes.txt`")]
#[case::bundle_unsafe_entry(8, symlink_in_bundle, Says::Stderr, "links are not allowed")]
#[case::bundle_failed_golden_case(8, failing_golden_case, Says::Stderr, "1 golden case(s) failed")]
#[case::incident_duplicate_id(9, duplicate_incident, Says::Stderr, "already exists")]
#[case::incident_unknown_id(9, unknown_incident_outcome, Says::Stderr, "no incident `INC-NOPE`")]
#[case::incident_unknown_id_for_export(9, unknown_incident_export, Says::Stderr, "no incident `INC-NOPE`")]
#[case::incident_unknown_id_for_show(9, unknown_incident_show, Says::Stderr, "no incident `INC-NOPE`")]
#[case::incident_illegal_transition(9, second_outcome, Says::Stderr, "illegal transition")]
#[case::refused_decision_of_eval(10, refused_eval, Says::Stdout, "insurance_expired")]
#[case::refused_decision_of_incident_submit(10, refused_submit, Says::Stdout, "no_standard_work")]
#[case::verify_found_a_bad_receipt(20, verify_damaged, Says::Stdout, "first bad seq 2")]
#[case::replay_mismatch(21, replay_altered_component, Says::Stdout, "component bytes do not match their hash")]
#[case::ledger_damaged_during_incident_submit(22, submit_to_damaged, Says::Stderr, "damaged at seq 2")]
#[case::ledger_damaged_during_incident_outcome(22, outcome_to_damaged, Says::Stderr, "damaged at seq 2")]
#[case::ledger_damaged_during_eval_ledger(22, eval_to_damaged, Says::Stderr, "damaged at seq 2")]
#[case::ledger_damaged_at_mcp_start(22, mcp_on_damaged, Says::Stderr, "damaged at seq 2")]
#[case::ledger_busy_during_incident_submit(23, submit_to_locked, Says::Stderr, "locked by another writer")]
#[case::ledger_busy_during_eval_ledger(23, eval_to_locked, Says::Stderr, "locked by another writer")]
#[case::audit_of_an_altered_evidence_bundle(24, altered_export, Says::Stderr, "audit failed at narrative.md")]
#[case::audit_of_a_file_that_is_not_an_archive(24, junk_export, Says::Stderr, "corrupt bundle archive")]
#[case::log_proof_of_a_receipt_outside_the_tree(25, prove_beyond_the_tree, Says::Stderr, "is not in the tree of size")]
#[case::log_proof_against_another_key(25, prove_with_another_key, Says::Stderr, "no signature by a trusted key")]
fn andon_exits_with_the_documented_code(
    #[case] code: i32,
    #[case] scenario: Scenario,
    #[case] says: Says,
    #[case] needle: &str,
) {
    let host = Host::new();
    let mut run = scenario(&host);
    let out = run.cmd.timeout(Duration::from_secs(300)).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let said = match says {
        Says::Stdout => &stdout,
        Says::Stderr => &stderr,
    };
    assert!(said.contains(needle), "{says:?} does not name `{needle}`:\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
}

#[test]
fn every_exit_code_documented_in_cli_md_has_a_case_here() {
    let docs = std::fs::read_to_string(root().join("docs/cli.md")).unwrap();
    let table = docs.split("## Exit codes").nth(1).expect("docs/cli.md has an `## Exit codes` section");
    let documented: BTreeSet<i32> = table
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.trim_start_matches('|').split('|').next()?.trim().parse().ok())
        .collect();
    assert!(documented.len() > 10, "the exit-code table was not found: {documented:?}");
    assert_eq!(documented, COVERED.into_iter().collect::<BTreeSet<_>>());
}

// The situations.

fn planned(host: &Host) -> Run {
    submit(host, CFO_ABSENT).into()
}

fn demo_mismatch(host: &Host) -> Run {
    let golden = host.path("golden");
    copy_dir(&root().join("recipes-wasm/golden"), &golden);
    expect_outcome(&golden.join("approval-threshold/cfo_present_passes.json"), "refused");
    let mut cmd = andon();
    cmd.args(["demo", "--format", "json", "--golden"]).arg(golden);
    cmd.into()
}

fn unknown_flag(_: &Host) -> Run {
    let mut cmd = andon();
    cmd.args(["eval", "--no-such-flag"]);
    cmd.into()
}

fn missing_argument(_: &Host) -> Run {
    let mut cmd = andon();
    cmd.args(["incident", "submit"]);
    cmd.into()
}

fn malformed_evidence(host: &Host) -> Run {
    submit(host, r#"{"incident_id": "X", "kind": "k",, }"#).into()
}

fn missing_kind(host: &Host) -> Run {
    submit(host, r#"{"incident_id":"INC-1","severity":"low","evidence":{}}"#).into()
}

fn big_number(host: &Host) -> Run {
    let evidence = r#"{"incident_id":"A","kind":"k","severity":"low","evidence":{"n":9007199254740993}}"#;
    eval(host, andon_recipes::shipped("approval-threshold").unwrap().path, evidence).into()
}

/// The receipt error comes wrapped twice: `IncidentError::Ledger(ledger::LedgerError::Receipt(…))`.
fn unrecordable_fuel(host: &Host) -> Run {
    let mut cmd = eval_into_ledger(host, andon_recipes::shipped("approval-threshold").unwrap().path, CFO_ABSENT);
    cmd.args(["--fuel", "18014398509481984"]);
    cmd.into()
}

fn replay_unknown_seq(host: &Host) -> Run {
    submitted(host);
    let mut cmd = andon();
    cmd.arg("replay").arg(host.path("ledger")).args(["--seq", "999999"]);
    cmd.into()
}

fn missing_evidence(host: &Host) -> Run {
    let mut cmd = andon();
    cmd.args(["incident", "submit"]).arg(host.path("absent.json")).arg("--bundle").arg(host.path("bundle"));
    host.host_args(&mut cmd);
    cmd.into()
}

/// `IncidentError::Ledger(ledger::LedgerError::NotALedger)`.
fn show_not_a_ledger(host: &Host) -> Run {
    let mut cmd = andon();
    cmd.args(["incident", "show", "INC-2026-0001", "--ledger"]).arg(empty_dir(host));
    cmd.into()
}

/// `ExportError::Incident(IncidentError::Ledger(ledger::LedgerError::NotALedger))`.
fn export_not_a_ledger(host: &Host) -> Run {
    let mut cmd = andon();
    cmd.args(["export", "INC-2026-0001", "-o"]).arg(host.path("out.tar.gz"));
    cmd.arg("--ledger").arg(empty_dir(host)).arg("--keys").arg(host.path("keys"));
    cmd.into()
}

fn report_not_a_ledger(host: &Host) -> Run {
    let mut cmd = andon();
    cmd.args(["report", "--ledger"]).arg(empty_dir(host));
    cmd.into()
}

fn clock_import(host: &Host) -> Run {
    let wasm = host.path("clock.wasm");
    std::fs::write(&wasm, crate::support::wat("clock-import.wat")).unwrap();
    eval(host, wasm.to_str().unwrap(), CFO_ABSENT).into()
}

fn not_a_component(host: &Host) -> Run {
    let wasm = host.path("junk.wasm");
    std::fs::write(&wasm, b"junk junk junk").unwrap();
    eval(host, wasm.to_str().unwrap(), CFO_ABSENT).into()
}

fn out_of_fuel(host: &Host) -> Run {
    let mut cmd = eval(host, andon_recipes::test_guest("hostile").unwrap().path, INFINITE_LOOP);
    cmd.args(["--fuel", "1000000"]);
    cmd.into()
}

fn out_of_fuel_recorded(host: &Host) -> Run {
    let mut cmd = eval_into_ledger(host, andon_recipes::test_guest("hostile").unwrap().path, INFINITE_LOOP);
    cmd.args(["--fuel", "1000000"]);
    cmd.into()
}

fn invalid_key(host: &Host) -> Run {
    std::fs::write(host.path("keys/hmac.key"), b"{\"algorithm\":\"rot13\"}").unwrap();
    submit(host, CFO_ABSENT).into()
}

fn readable_key(host: &Host) -> Run {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(host.path("keys/ed25519.key"), std::fs::Permissions::from_mode(0o640)).unwrap();
    submit(host, CFO_ABSENT).into()
}

fn unsigned_bundle(host: &Host) -> Run {
    andon().current_dir(root()).args(["bundle", "build", "-o"]).arg(host.path("unsigned")).assert().success();
    submit_to(host, &host.path("unsigned"), CFO_ABSENT).into()
}

fn untrusted_key(host: &Host) -> Run {
    andon().args(["keys", "generate", "--out"]).arg(host.path("other")).assert().success();
    andon()
        .args(["bundle", "trust", "--public-key"])
        .arg(host.path("other/ed25519.pub"))
        .args(["--bundle", "tai-standard-work", "-o"])
        .arg(host.path("trust.json"))
        .assert()
        .success();
    submit(host, CFO_ABSENT).into()
}

fn altered_component(host: &Host) -> Run {
    flip_middle_byte(&host.path("bundle/components/stalled-job.wasm"));
    submit(host, CFO_ABSENT).into()
}

fn extra_file(host: &Host) -> Run {
    std::fs::write(host.path("bundle/notes.txt"), b"not in the manifest").unwrap();
    submit(host, CFO_ABSENT).into()
}

/// `BundleError::Archive(ArchiveError::Link)`.
fn symlink_in_bundle(host: &Host) -> Run {
    std::os::unix::fs::symlink("/etc/passwd", host.path("bundle/passwd")).unwrap();
    let mut cmd = andon();
    cmd.args(["bundle", "verify"]).arg(host.path("bundle")).arg("--trust").arg(host.path("trust.json"));
    cmd.into()
}

fn failing_golden_case(host: &Host) -> Run {
    let source = host.path("source");
    for part in ["bundle.json", "schemas", "golden", "scenarios"] {
        copy_dir(&root().join("recipes-wasm").join(part), &source.join(part));
    }
    expect_outcome(&source.join("golden/approval-threshold/cfo_present_passes.json"), "refused");
    andon().args(["bundle", "build", "--source"]).arg(&source).arg("-o").arg(host.path("b2")).assert().success();
    let mut cmd = andon();
    cmd.args(["bundle", "test"]).arg(host.path("b2"));
    cmd.into()
}

fn duplicate_incident(host: &Host) -> Run {
    submitted(host);
    submit(host, CFO_ABSENT).into()
}

fn unknown_incident_outcome(host: &Host) -> Run {
    submitted(host);
    host_cmd(host, &["incident", "outcome", "INC-NOPE", "--status", "executed"]).into()
}

/// `ExportError::Incident(IncidentError::NotFound)`.
fn unknown_incident_export(host: &Host) -> Run {
    submitted(host);
    let out = host.path("out.tar.gz");
    host_cmd(host, &["export", "INC-NOPE", "-o", out.to_str().unwrap()]).into()
}

fn unknown_incident_show(host: &Host) -> Run {
    submitted(host);
    let mut cmd = andon();
    cmd.args(["incident", "show", "INC-NOPE", "--ledger"]).arg(host.path("ledger"));
    cmd.into()
}

fn second_outcome(host: &Host) -> Run {
    submitted(host);
    host_cmd(host, &["incident", "outcome", "INC-2026-0001", "--status", "executed"]).assert().success();
    host_cmd(host, &["incident", "outcome", "INC-2026-0001", "--status", "executed"]).into()
}

fn refused_eval(host: &Host) -> Run {
    eval(host, andon_recipes::shipped("insurance-active").unwrap().path, INSURANCE_EXPIRED).into()
}

fn refused_submit(host: &Host) -> Run {
    submit(host, r#"{"incident_id":"INC-X","kind":"printer_on_fire","severity":"critical","evidence":{}}"#).into()
}

fn verify_damaged(host: &Host) -> Run {
    submitted(host);
    damage(host);
    let mut cmd = andon();
    cmd.arg("verify").arg(host.path("ledger")).args(["--format", "text", "--key"]).arg(host.path("keys/hmac.key"));
    cmd.into()
}

fn replay_altered_component(host: &Host) -> Run {
    submitted(host);
    let store = std::fs::read_dir(host.path("ledger/sha256")).unwrap();
    let wasm = store.map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "wasm")).unwrap();
    flip_middle_byte(&wasm);
    let mut cmd = andon();
    cmd.args(["replay", "--format", "text"]).arg(host.path("ledger"));
    cmd.into()
}

/// The reported case. The command opens the ledger itself, so `ledger::LedgerError` heads
/// the chain; met inside `incident::submit` it comes as `IncidentError::Ledger`.
fn submit_to_damaged(host: &Host) -> Run {
    submitted(host);
    damage(host);
    submit(host, &CFO_ABSENT.replace("INC-2026-0001", "INC-2026-0002")).into()
}

fn outcome_to_damaged(host: &Host) -> Run {
    submitted(host);
    damage(host);
    host_cmd(host, &["incident", "outcome", "INC-2026-0001", "--status", "executed"]).into()
}

fn eval_to_damaged(host: &Host) -> Run {
    submitted(host);
    damage(host);
    eval_into_ledger(host, andon_recipes::shipped("approval-threshold").unwrap().path, CFO_ABSENT).into()
}

fn mcp_on_damaged(host: &Host) -> Run {
    submitted(host);
    damage(host);
    let mut cmd = andon();
    // An empty stdin ends the session at once should the server start after all.
    cmd.arg("mcp").args(host.server_args()).write_stdin("");
    cmd.into()
}

fn submit_to_locked(host: &Host) -> Run {
    submitted(host);
    Run { cmd: submit(host, &CFO_ABSENT.replace("INC-2026-0001", "INC-2026-0002")), _lock: Some(lock(host)) }
}

fn eval_to_locked(host: &Host) -> Run {
    submitted(host);
    let cmd = eval_into_ledger(host, andon_recipes::shipped("approval-threshold").unwrap().path, CFO_ABSENT);
    Run { cmd, _lock: Some(lock(host)) }
}

fn altered_export(host: &Host) -> Run {
    use andon_work::bundle::archive::{ArchiveLimits, pack, unpack};
    submitted(host);
    let archive = host.export("INC-2026-0001");
    let mut files = unpack(std::fs::File::open(&archive).unwrap(), &ArchiveLimits::default()).unwrap();
    files.get_mut("narrative.md").unwrap().extend_from_slice(b"\nAnd then the board said no.\n");
    pack(&files, &mut std::fs::File::create(&archive).unwrap()).unwrap();
    audit(host, &archive).into()
}

/// `LedgerError::Log`: the newest note's tree ends before the seq asked for.
fn prove_beyond_the_tree(host: &Host) -> Run {
    submitted(host);
    let mut cmd = andon();
    cmd.arg("prove")
        .arg(host.path("ledger"))
        .args(["--seq", "999"])
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"));
    cmd.into()
}

/// `LedgerError::Log`: the stored notes are not signed by the key given.
fn prove_with_another_key(host: &Host) -> Run {
    submitted(host);
    andon().args(["keys", "generate", "--out"]).arg(host.path("other-keys")).assert().success();
    let mut cmd = andon();
    cmd.arg("prove")
        .arg(host.path("ledger"))
        .args(["--seq", "1"])
        .arg("--public-key")
        .arg(host.path("other-keys/ed25519.pub"));
    cmd.into()
}

/// `ExportError::Archive(ArchiveError::Corrupt)`.
fn junk_export(host: &Host) -> Run {
    let archive = host.path("junk.tar.gz");
    std::fs::write(&archive, b"this is not a tar.gz").unwrap();
    audit(host, &archive).into()
}

// Helpers.

/// `andon ARGS --ledger … --keys …` of `host`.
fn host_cmd(host: &Host, args: &[&str]) -> Command {
    let mut cmd = andon();
    cmd.args(args);
    host.host_args(&mut cmd);
    cmd
}

fn write_evidence(host: &Host, evidence: &str) -> PathBuf {
    let file = host.path(&format!("evidence-{}.json", andon_core::evidence::sha256_hex(evidence.as_bytes())));
    std::fs::write(&file, evidence).unwrap();
    file
}

/// `andon incident submit` of `evidence` to the host's signed bundle under its trust policy.
fn submit(host: &Host, evidence: &str) -> Command {
    submit_to(host, &host.path("bundle"), evidence)
}

fn submit_to(host: &Host, bundle: &Path, evidence: &str) -> Command {
    let file = write_evidence(host, evidence);
    let mut cmd = andon();
    cmd.args(["incident", "submit"]).arg(file).arg("--bundle").arg(bundle);
    cmd.arg("--trust").arg(host.path("trust.json"));
    host.host_args(&mut cmd);
    cmd
}

/// The CFO-absent incident, planned, on the host's ledger (3 receipts).
fn submitted(host: &Host) {
    let (code, json) = host.submit(CFO_ABSENT, &[]);
    assert_eq!(code, 0, "{json}");
}

fn eval(host: &Host, component: &str, evidence: &str) -> Command {
    let mut cmd = andon();
    cmd.args(["eval", "-c", component, "-e"]).arg(write_evidence(host, evidence));
    cmd
}

fn eval_into_ledger(host: &Host, component: &str, evidence: &str) -> Command {
    let mut cmd = eval(host, component, evidence);
    cmd.arg("--ledger").arg(host.path("ledger")).arg("--key").arg(host.path("keys/hmac.key"));
    cmd
}

fn audit(host: &Host, archive: &Path) -> Command {
    let mut cmd = andon();
    cmd.arg("audit").arg(archive).arg("--public-key").arg(host.path("keys/ed25519.pub"));
    cmd
}

fn empty_dir(host: &Host) -> PathBuf {
    let dir = host.path("empty");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Damages the ledger in the middle (one bit of receipt 2, not a torn tail).
fn damage(host: &Host) {
    let file = host.path("ledger/receipts.jsonl");
    let mut bytes = std::fs::read(&file).unwrap();
    let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 40;
    bytes[second] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
}

/// Holds the ledger's writer lock, as a running `andon serve` does.
fn lock(host: &Host) -> std::fs::File {
    let file = std::fs::File::options().read(true).write(true).open(host.path("ledger/LOCK")).unwrap();
    file.lock().unwrap();
    file
}

fn flip_middle_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

/// Rewrites a golden case's expected outcome.
fn expect_outcome(case: &Path, outcome: &str) {
    let mut value: serde_json::Value = serde_json::from_slice(&std::fs::read(case).unwrap()).unwrap();
    assert_ne!(value["expect"]["outcome"], outcome, "{}", case.display());
    value["expect"]["outcome"] = outcome.into();
    std::fs::write(case, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

/// Copies a file, or a folder recursively.
fn copy_dir(from: &Path, to: &Path) {
    if from.is_file() {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
        return;
    }
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        copy_dir(&entry.path(), &to.join(entry.file_name()));
    }
}
