//! Hostile input at the command line: every input is read through a capped reader
//! (memory stays bounded and the refusal names the input and the cap), a closed
//! pipe on stdout ends a command quietly, and severities have one spelling.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::{Host, andon};

fn andon_bin() -> &'static std::path::Path {
    std::path::Path::new(assert_cmd::cargo::cargo_bin!("andon"))
}

#[test]
fn evidence_larger_than_its_cap_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    // A 2 GiB sparse file: reading it whole would take seconds and 2 GiB of memory.
    let big = dir.path().join("big.json");
    std::fs::File::create(&big).unwrap().set_len(2 << 30).unwrap();
    let gate = andon_recipes::shipped("approval-threshold").unwrap().path;
    let out = Command::new(andon_bin()).args(["eval", "--component", gate, "--evidence"]).arg(&big).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("big.json") && stderr.contains("over the limit of 1048576 bytes"), "{stderr}");
}

#[test]
fn an_endless_standard_input_is_cut_off_at_the_cap() {
    let host = Host::new();
    let mut cmd = Command::new(andon_bin());
    cmd.args(["incident", "submit", "-", "--bundle"]).arg(host.path("bundle"));
    cmd.arg("--ledger").arg(host.path("ledger")).arg("--keys").arg(host.path("keys"));
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Feed zeros until andon stops reading (it must, at 1 MiB + 1).
    let writer = std::thread::spawn(move || {
        let block = vec![0u8; 64 << 10];
        let mut sent = 0usize;
        while stdin.write_all(&block).is_ok() {
            sent += block.len();
            assert!(sent < 64 << 20, "andon kept reading past 64 MiB of an endless input");
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = writer.join().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input is over the limit of 1048576 bytes"));
    assert!(sent < 64 << 20);
    assert!(!host.path("ledger/receipts.jsonl").exists() || host.ledger_text().is_empty(), "nothing recorded");
}

#[test]
fn a_closed_pipe_on_stdout_ends_a_command_quietly() {
    let gate = andon_recipes::shipped("approval-threshold").unwrap().path;
    // `andon inspect … | head -c 1`: the reader goes away after one byte.
    let mut child = Command::new(andon_bin())
        .args(["inspect", gate, "--format", "text"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "no panic on a broken pipe: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_severity_in_another_letter_case_is_refused_naming_the_lowercase_names() {
    let out = andon()
        .args(["eval", "--component", andon_recipes::shipped("approval-threshold").unwrap().path, "--evidence", "-"])
        .write_stdin(
            r#"{"incident_id":"SEV-1","kind":"approval_request","severity":"High","evidence":{"request":{"amount":1,"currency":"USD","threshold":2},"authorities":{"cfo_available":true,"board_available":true}}}"#,
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("field `severity` must be one of low, medium, high, critical")
    );
}
