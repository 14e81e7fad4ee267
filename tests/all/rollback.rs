//! The rollback guard is wired into every command that decides incidents on a
//! ledger: a bundle version lower than one the ledger already used is refused
//! (exit 8), nothing is recorded, and a server will not start on it.

use predicates::prelude::PredicateBooleanExt as _;
use serde_json::Value;

use crate::support::{Host, andon};

const CFO_ABSENT: &str = r#"{"incident_id":"ROLL-1","kind":"approval_request","severity":"high","evidence":{
  "request":{"amount":1200000,"currency":"USD","threshold":1000000},
  "authorities":{"cfo_available":false,"board_available":true}}}"#;

/// A copy of the host's bundle re-versioned to `version` and signed again with the
/// same trusted key.
fn reversioned(host: &Host, version: &str) -> std::path::PathBuf {
    let dir = host.path(&format!("bundle-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    for entry in walk(&host.path("bundle")) {
        let relative = entry.strip_prefix(host.path("bundle")).unwrap();
        let target = dir.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    let manifest_path = dir.join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["version"] = version.into();
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    andon().args(["bundle", "sign"]).arg(&dir).arg("--key").arg(host.path("keys/ed25519.key")).assert().success();
    dir
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

fn submit_with(host: &Host, bundle: &std::path::Path, evidence: &str) -> assert_cmd::assert::Assert {
    let file = host.path("evidence.json");
    std::fs::write(&file, evidence).unwrap();
    let mut cmd = andon();
    cmd.args(["incident", "submit"]).arg(&file).arg("--bundle").arg(bundle);
    cmd.arg("--trust").arg(host.path("trust.json"));
    host.host_args(&mut cmd);
    cmd.assert()
}

#[test]
fn a_lower_bundle_version_after_a_higher_one_is_refused_with_exit_8_and_records_nothing() {
    let host = Host::new();
    let newer = reversioned(&host, "9.1.0");
    let older = reversioned(&host, "9.0.0");
    submit_with(&host, &newer, CFO_ABSENT).success();
    let before = host.ledger_text();
    assert!(before.contains("\"version\":\"9.1.0\""), "the decision names the bundle version");

    submit_with(&host, &older, &CFO_ABSENT.replace("ROLL-1", "ROLL-2"))
        .code(8)
        .stderr(predicates::str::contains("rollback refused").and(predicates::str::contains("9.0.0")));
    assert_eq!(host.ledger_text(), before, "a refused load records nothing");

    // The same version again and a higher one are both fine.
    submit_with(&host, &newer, &CFO_ABSENT.replace("ROLL-1", "ROLL-3")).success();
}

#[test]
fn a_server_does_not_start_on_a_bundle_older_than_its_ledger_has_used() {
    let host = Host::new();
    let newer = reversioned(&host, "9.1.0");
    let older = reversioned(&host, "9.0.0");
    submit_with(&host, &newer, CFO_ABSENT).success();
    let mut cmd = andon();
    cmd.arg("mcp").arg("--bundle").arg(&older).arg("--trust").arg(host.path("trust.json"));
    host.host_args(&mut cmd);
    cmd.write_stdin("").assert().code(8).stderr(predicates::str::contains("rollback refused"));
}
