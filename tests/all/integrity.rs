//! Integrity holes found from outside, each closed and held closed here through the
//! real `andon` binary:
//!
//! 1. nothing damaged is read or exported (readers refuse a damaged line; export
//!    checks what it exports): exit 22 naming the seq;
//! 2. `andon audit` requires the incident chain complete from its first receipt,
//!    and any receipt removed, added, reordered or altered fails it (exit 24,
//!    naming the place), even when the export is re-signed with the host key;
//! 3. a receipt a signed checkpoint covers is never cut automatically (exit 22),
//!    only by `andon ledger repair --cut-checkpointed-from SEQ`, with a receipt
//!    saying so;
//! 4. every ledger line must be one strict RFC 8785 object: a line that is not
//!    JSON, has a duplicate member or non-canonical bytes fails `verify` even when
//!    its hash and MAC match;
//! 5. the export is what docs/incidents.md says: the signature covers every byte
//!    before its `signature:` line, `receipt-chain.jsonl` holds the stored lines,
//!    and `checkpoint.json` (a checkpoint of the last receipt) is always there.

use std::path::{Path, PathBuf};

use andon_ledger::checkpoint::Checkpoint;
use andon_ledger::keys::{self, HmacKey};
use andon_ledger::ledger::{self, Ledger, LedgerError, Options};
use andon_ledger::receipt::{Kind, StoredReceipt};
use andon_work::bundle::archive::{ArchiveLimits, BundleFiles, pack, unpack};
use andon_work::export::{self, AUDIT_SIGNATURE, CHECKPOINT, RECEIPT_CHAIN};
use ed25519_dalek::Verifier as _;
use predicates::prelude::PredicateBooleanExt as _;
use predicates::str::contains;
use rstest::rstest;
use serde_json::Value;

use crate::support::{Host, andon};

pub(crate) const CFO_ABSENT: &str = r#"{"incident_id":"INC-2026-0001","kind":"approval_request","severity":"high","evidence":{
  "request":{"amount":1200000,"currency":"USD","threshold":1000000,"purpose":"line 3 hydraulic press"},
  "authorities":{"cfo_available":false,"board_available":true}}}"#;
pub(crate) const ID: &str = "INC-2026-0001";

// Helpers.

/// The incident submitted, executed and closed: receipts 1 to 5 (`reported`,
/// `evaluated`, `planned`, `executed`, `closed`).
pub(crate) fn closed_incident(host: &Host) {
    let (code, json) = host.submit(CFO_ABSENT, &[]);
    assert_eq!(code, 0, "{json}");
    host.cmd(&["incident", "outcome", ID, "--status", "executed", "--note", "board approved on call"]).success();
    host.cmd(&["incident", "close", ID, "--feedback", "threshold rule worked"]).success();
}

fn receipts_file(host: &Host) -> PathBuf {
    host.path("ledger/receipts.jsonl")
}

/// The ledger's lines, each with its `\n`.
fn lines(host: &Host) -> Vec<Vec<u8>> {
    std::fs::read(receipts_file(host)).unwrap().split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn write_lines(host: &Host, lines: &[Vec<u8>]) {
    std::fs::write(receipts_file(host), lines.concat()).unwrap();
}

fn hmac(host: &Host) -> HmacKey {
    keys::load_hmac_key(&host.path("keys/hmac.key")).unwrap()
}

pub(crate) fn signing(host: &Host) -> ed25519_dalek::SigningKey {
    keys::load_signing_key(&host.path("keys/ed25519.key")).unwrap().1
}

/// Recomputes the `hash` and `signature` of a raw receipt line (without `\n`) over
/// whatever its body bytes now are: what a writer holding `key` could write.
fn reseal(line: &[u8], key: &HmacKey) -> Vec<u8> {
    let text = String::from_utf8(line.to_vec()).unwrap();
    let at = text.rfind(",\"hash\":\"").unwrap() + 9;
    let sig = text.rfind(",\"signature\":\"").unwrap() + 14;
    let body = format!("{}{}{}", &text[..at - 9], &text[at + 65..sig - 14], &text[sig + 65..]);
    let hash = andon_core::evidence::sha256_hex(body.as_bytes());
    let mac = hex::encode(key.mac(hash.as_bytes()));
    format!("{}{hash}{}{mac}{}", &text[..at], &text[at + 64..sig], &text[sig + 64..]).into_bytes()
}

fn export_cmd(host: &Host, id: &str, out: &Path) -> assert_cmd::assert::Assert {
    let mut cmd = andon();
    cmd.args(["export", id, "-o"]).arg(out);
    host.host_args(&mut cmd);
    cmd.assert()
}

pub(crate) fn files_of(archive: &Path) -> BundleFiles {
    unpack(std::fs::File::open(archive).unwrap(), &ArchiveLimits::default()).unwrap()
}

/// Packs `files` after signing them with the host's key, as a re-signing exporter
/// (or anyone holding that key) would.
pub(crate) fn resigned(host: &Host, mut files: BundleFiles, name: &str) -> PathBuf {
    export::sign(&mut files, ID, &signing(host));
    let path = host.path(name);
    pack(&files, &mut std::fs::File::create(&path).unwrap()).unwrap();
    path
}

fn chain_lines(files: &BundleFiles) -> Vec<Vec<u8>> {
    files[RECEIPT_CHAIN].split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn verify(host: &Host) -> assert_cmd::assert::Assert {
    andon()
        .arg("verify")
        .arg(host.path("ledger"))
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .args(["--format", "text"])
        .assert()
}

fn ledger_checkpoint(host: &Host) -> String {
    let out = andon()
        .args(["ledger", "checkpoint"])
        .arg(host.path("ledger"))
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--signing-key")
        .arg(host.path("keys/ed25519.key"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn repair(host: &Host, extra: &[&str]) -> assert_cmd::assert::Assert {
    andon()
        .args(["ledger", "repair"])
        .arg(host.path("ledger"))
        .arg("--key")
        .arg(host.path("keys/hmac.key"))
        .arg("--signing-key")
        .arg(host.path("keys/ed25519.key"))
        .args(extra)
        .assert()
}

fn flip(line: &mut [u8], at: usize) {
    line[at] = if line[at] == b'7' { b'8' } else { b'7' };
}

// 1. Nothing damaged is read or exported.

#[test]
fn export_refuses_a_ledger_whose_closed_receipt_line_is_damaged_naming_the_seq() {
    let host = Host::new();
    closed_incident(&host);
    let mut all = lines(&host);
    all[4][0] = b'X'; // the first byte of the `closed` receipt
    write_lines(&host, &all);
    let out = host.path("export.tar.gz");
    export_cmd(&host, ID, &out).code(22).stderr(contains("damaged at seq 5 (line 5)"));
    assert!(!out.exists(), "nothing is exported");
    // No reader shows the incident as merely executed either.
    andon()
        .args(["incident", "show", ID, "--ledger"])
        .arg(host.path("ledger"))
        .assert()
        .code(22)
        .stderr(contains("damaged at seq 5"));
    andon().args(["report", "--ledger"]).arg(host.path("ledger")).assert().code(22).stderr(contains("seq 5"));
}

#[test]
fn export_refuses_damage_after_the_incidents_last_receipt() {
    // The damaged line could be a receipt of the exported incident: it is refused
    // wherever it is.
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    let mut all = lines(&host);
    let middle = all[4].len() / 2;
    flip(&mut all[4], middle);
    write_lines(&host, &all);
    export_cmd(&host, ID, &host.path("export.tar.gz")).code(22).stderr(contains("damaged at seq 5"));
}

#[test]
fn readers_refuse_a_damaged_line_instead_of_skipping_it() {
    let host = Host::new();
    closed_incident(&host);
    let mut all = lines(&host);
    all[1][0] = b' ';
    write_lines(&host, &all);
    let path = host.path("ledger");
    let err = ledger::all_receipts(&path).unwrap_err();
    assert!(matches!(err, LedgerError::Unreadable { seq: 2, line: 2, .. }), "{err}");
    assert!(matches!(ledger::receipts_of(&path, ID).unwrap_err(), LedgerError::Unreadable { seq: 2, .. }));
    assert!(ledger::receipt(&path, 1).unwrap().is_some(), "a receipt before the damage is still read");
    assert!(matches!(ledger::receipt(&path, 3).unwrap_err(), LedgerError::Unreadable { seq: 2, .. }));
}

#[test]
fn export_refuses_a_ledger_that_disagrees_with_its_own_checkpoint() {
    let host = Host::new();
    closed_incident(&host);
    let id = keys::ed25519_key_id(&signing(&host).verifying_key());
    let forged = Checkpoint::sign(2, "ab".repeat(32), &id, &signing(&host));
    let mut checkpoints = std::fs::read(host.path("ledger/checkpoints.jsonl")).unwrap();
    checkpoints.extend_from_slice(&forged.to_line());
    std::fs::write(host.path("ledger/checkpoints.jsonl"), checkpoints).unwrap();
    export_cmd(&host, ID, &host.path("export.tar.gz"))
        .code(22)
        .stderr(contains("checkpoints.jsonl").and(contains("checkpoint seq 2")));
}

// 2. The audit requires the whole incident chain.

type Tamper = fn(&Host, Vec<Vec<u8>>) -> Vec<Vec<u8>>;

fn remove_first(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    chain.remove(0);
    chain
}

fn remove_middle(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    chain.remove(2);
    chain
}

fn remove_last(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    chain.pop();
    chain
}

fn duplicate(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let copy = chain[1].clone();
    chain.insert(2, copy);
    chain
}

fn add_foreign(host: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    // A receipt of another incident, with a valid hash, from the same ledger.
    let foreign = lines(host).into_iter().last().unwrap();
    chain.insert(3, foreign);
    chain
}

fn swap(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    chain.swap(1, 2);
    chain
}

fn alter_body(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let text = String::from_utf8(chain[3].clone()).unwrap().replace("board approved", "board rejected");
    chain[3] = text.into_bytes();
    chain
}

fn alter_and_rehash(at: usize, chain: &mut [Vec<u8>]) {
    let attacker = HmacKey::from_bytes([0x66; 32]);
    let text = String::from_utf8(chain[at].clone()).unwrap();
    let text = text.replace("board approved", "board rejected").replace("threshold rule", "the CFO's rule");
    let line = reseal(text.trim_end().as_bytes(), &attacker);
    chain[at] = [line, b"\n".to_vec()].concat();
}

fn alter_middle_and_rehash(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    alter_and_rehash(3, &mut chain);
    chain
}

fn alter_last_and_rehash(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    alter_and_rehash(4, &mut chain);
    chain
}

fn whitespace(_: &Host, mut chain: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let text = String::from_utf8(chain[0].clone()).unwrap().replacen(",\"bundle\":", ", \"bundle\":", 1);
    let attacker = HmacKey::from_bytes([0x66; 32]);
    chain[0] = [reseal(text.trim_end().as_bytes(), &attacker), b"\n".to_vec()].concat();
    chain
}

#[rstest]
#[case::first_receipt_removed(remove_first, "receipt-chain.jsonl line 1 (seq 2)", "lacks its first receipt")]
#[case::middle_receipt_removed(remove_middle, "receipt-chain.jsonl line 3 (seq 4)", "broken incident chain link")]
#[case::last_receipt_removed(remove_last, "checkpoint.json", "the export does not end where its checkpoint says")]
#[case::receipt_added_twice(duplicate, "receipt-chain.jsonl line 3 (seq 2)", "out of order")]
#[case::receipt_of_another_incident_added(add_foreign, "receipt-chain.jsonl line 4 (seq 8)", "not `INC-2026-0001`")]
#[case::receipts_reordered(swap, "receipt-chain.jsonl line 2 (seq 3)", "broken incident chain link")]
#[case::receipt_altered(alter_body, "receipt-chain.jsonl line 4", "HashMismatch")]
#[case::receipt_altered_and_rehashed(
    alter_middle_and_rehash,
    "receipt-chain.jsonl line 5 (seq 5)",
    "broken incident chain link"
)]
#[case::last_receipt_altered_and_rehashed(
    alter_last_and_rehash,
    "checkpoint.json",
    "does not end where its checkpoint says"
)]
#[case::receipt_not_canonical(whitespace, "receipt-chain.jsonl line 1", "not a strict RFC 8785 receipt line")]
fn an_export_with_a_receipt_removed_added_reordered_or_altered_fails_audit_naming_the_place(
    #[case] tamper: Tamper,
    #[case] place: &str,
    #[case] problem: &str,
) {
    let host = Host::new();
    closed_incident(&host);
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    let files = files_of(&host.export(ID));
    // Re-signed untouched, the export still passes: the signature is not what fails.
    host.audit(&resigned(&host, files.clone(), "same.tar.gz")).success();

    let chain = tamper(&host, chain_lines(&files));
    let mut altered = files;
    altered.insert(RECEIPT_CHAIN.into(), chain.concat());
    let archive = resigned(&host, altered, "tampered.tar.gz");
    host.audit(&archive).code(24).stderr(contains(format!("audit failed at {place}")).and(contains(problem)));
}

// 3. Checkpointed receipts are never cut automatically.

/// A planned incident (3 receipts) under a checkpoint of seq 3, whose last line
/// is then damaged; returns the checkpoint line.
fn damaged_under_checkpoint(host: &Host) -> String {
    host.submit(CFO_ABSENT, &[]);
    let checkpoint = ledger_checkpoint(host);
    let mut all = lines(host);
    let middle = all[2].len() / 2;
    flip(&mut all[2], middle);
    write_lines(host, &all);
    checkpoint
}

#[test]
fn a_refused_duplicate_submit_never_cuts_a_checkpointed_receipt() {
    let host = Host::new();
    damaged_under_checkpoint(&host);
    let before = std::fs::read(receipts_file(&host)).unwrap();
    let file = host.path("again.json");
    std::fs::write(&file, CFO_ABSENT).unwrap();
    let mut cmd = andon();
    cmd.args(["incident", "submit"]).arg(&file).arg("--bundle").arg(host.path("bundle"));
    cmd.arg("--trust").arg(host.path("trust.json"));
    host.host_args(&mut cmd);
    cmd.assert().code(22).stderr(contains("damaged at seq 3").and(contains("checkpoint seq 3 covers it")));
    assert_eq!(std::fs::read(receipts_file(&host)).unwrap(), before, "the acknowledged receipt is still there");
    assert!(!host.ledger_text().contains("ledger_repaired"));
    // Every writer refuses the same way.
    host.cmd(&["incident", "outcome", ID, "--status", "executed"])
        .code(22)
        .stderr(contains("--cut-checkpointed-from 3"));
}

#[test]
fn ledger_repair_cuts_a_checkpointed_receipt_only_when_named_and_records_the_cut() {
    let host = Host::new();
    let held = damaged_under_checkpoint(&host);
    let before = std::fs::read(receipts_file(&host)).unwrap();
    // Without the operator's decision, and with the wrong seq, nothing is cut.
    repair(&host, &[]).code(22).stderr(contains("checkpoint seq 3 covers it"));
    repair(&host, &["--cut-checkpointed-from", "2"]).code(3).stderr(contains("the damage starts at seq 3"));
    assert_eq!(std::fs::read(receipts_file(&host)).unwrap(), before);

    repair(&host, &["--cut-checkpointed-from", "3", "--format", "text"]).success().stdout(contains("repaired"));
    let all = ledger::all_receipts(&host.path("ledger")).unwrap();
    assert_eq!(all.len(), 3);
    let kept: Vec<Vec<u8>> = before.split_inclusive(|&b| b == b'\n').take(2).map(<[u8]>::to_vec).collect();
    assert_eq!(lines(&host)[..2], kept[..], "the receipts before the damage are kept byte for byte");
    let cut = &all[2];
    assert_eq!(cut.body.kind, Kind::LedgerRepaired);
    let repair = cut.body.repair.as_ref().unwrap();
    assert_eq!(repair.last_good_seq, 2);
    assert!(repair.reason.contains("checkpointed receipts cut by the operator from seq 3"), "{}", repair.reason);
    let old: Checkpoint = Checkpoint::parse(held.as_bytes()).unwrap();
    assert!(repair.reason.contains(&format!("seq 3 (head_hash {})", old.head_hash)), "{}", repair.reason);
    // The covering checkpoint is superseded, not lost; a new one covers the repair.
    let superseded = std::fs::read_to_string(host.path("ledger").join(ledger::SUPERSEDED_FILE)).unwrap();
    // The held one and the one the writer signed when it closed, both of seq 3.
    assert!(superseded.split_inclusive('\n').any(|l| l == held), "{superseded}");
    verify(&host).success().stdout(contains("superseded 2 checkpoints"));
    // Whoever holds the old checkpoint sees the fork.
    std::fs::write(host.path("held.json"), &held).unwrap();
    andon()
        .arg("verify")
        .arg(host.path("ledger"))
        .arg("--public-key")
        .arg(host.path("keys/ed25519.pub"))
        .arg("--checkpoint")
        .arg(host.path("held.json"))
        .assert()
        .code(20)
        .stdout(contains("checkpoint_mismatch"));
    // And the ledger takes writes again.
    let (code, _) = host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    assert_eq!(code, 0);
}

#[test]
fn a_ledger_cut_below_its_checkpoint_refuses_writes_until_the_operator_records_the_loss() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    ledger_checkpoint(&host);
    let mut all = lines(&host);
    all.truncate(1); // whole lines removed: no damage to see, but the checkpoint covers seq 3
    write_lines(&host, &all);
    host.cmd(&["incident", "outcome", ID, "--status", "executed"])
        .code(22)
        .stderr(contains("damaged at seq 2").and(contains("MissingTail")).and(contains("checkpoint seq 3 covers it")));
    repair(&host, &["--cut-checkpointed-from", "2"]).success();
    let last = ledger::all_receipts(&host.path("ledger")).unwrap().pop().unwrap();
    assert_eq!((last.body.seq, last.body.kind), (2, Kind::LedgerRepaired));
    let repair = last.body.repair.unwrap();
    assert_eq!((repair.bytes_removed, repair.last_good_seq), (0, 1));
    assert!(repair.reason.contains("the ledger ends at seq 1"), "{}", repair.reason);
    verify(&host).success();
}

#[test]
fn an_interrupted_operator_cut_is_finished_by_the_next_open_and_still_says_so() {
    // The checkpoints are superseded before the cut: if the repair stops there,
    // the next open cuts and its receipt still says checkpointed receipts were cut.
    let host = Host::new();
    let held = damaged_under_checkpoint(&host);
    // Every checkpoint covering seq 3 (the held one, and the one the writer signed
    // when it closed), as the repair supersedes them before it cuts.
    let covering = std::fs::read_to_string(host.path("ledger/checkpoints.jsonl")).unwrap();
    assert!(covering.contains(held.trim_end()));
    std::fs::write(host.path("ledger").join(ledger::SUPERSEDED_FILE), &covering).unwrap();
    let ledger = Ledger::open(&host.path("ledger"), hmac(&host), Options::default()).unwrap();
    let repair = ledger.repaired().unwrap();
    assert!(repair.reason.contains("checkpointed receipts cut by the operator from seq 3"), "{}", repair.reason);
}

// 4. Every line is one strict RFC 8785 object.

type Rewrite = fn(String) -> String;

fn duplicate_decision(line: String) -> String {
    // A second top-level `decision` after the first: one reader would see one, another the other.
    line.replacen(",\"decision_sha256\":", ",\"decision\":{\"checks\":[],\"outcome\":\"pass\"},\"decision_sha256\":", 1)
}

fn space_after_a_comma(line: String) -> String {
    line.replacen(",\"components\":", ", \"components\":", 1)
}

fn not_json_before_format(line: String) -> String {
    let at = line.find("\"format\":").unwrap();
    format!("{{this is not JSON at all,{}", &line[at..])
}

fn needless_escape(line: String) -> String {
    line.replacen("\"kind\":\"approval_request\"", "\"kind\":\"approv\\u0061l_request\"", 1)
}

fn exponent_number(line: String) -> String {
    line.replacen("\"amount\":1200000", "\"amount\":1.2e6", 1)
}

#[rstest]
#[case::duplicate_top_level_decision(duplicate_decision, "`decision` where `decision_sha256` belongs")]
#[case::whitespace(space_after_a_comma, "expected a member name")]
#[case::not_json_before_format(not_json_before_format, "not RFC 8785")]
#[case::needless_escape(needless_escape, "escape RFC 8785 does not write")]
#[case::number_not_in_canonical_form(exponent_number, "is written `1200000`")]
fn verify_refuses_a_line_that_is_not_strict_rfc_8785_even_when_its_hash_and_mac_match(
    #[case] rewrite: Rewrite,
    #[case] problem: &str,
) {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    let mut all = lines(&host);
    // The last receipt (`planned`), rewritten by someone holding the HMAC key.
    let text = rewrite(String::from_utf8(all[2].clone()).unwrap().trim_end().to_string());
    all[2] = [reseal(text.as_bytes(), &hmac(&host)), b"\n".to_vec()].concat();
    write_lines(&host, &all);
    verify(&host).code(20).stdout(contains("first bad seq 3").and(contains("Malformed")).and(contains(problem)));
}

#[test]
fn a_receipt_with_a_duplicate_decision_is_refused_by_every_reader() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    let mut all = lines(&host);
    let text = duplicate_decision(String::from_utf8(all[2].clone()).unwrap().trim_end().to_string());
    all[2] = [reseal(text.as_bytes(), &hmac(&host)), b"\n".to_vec()].concat();
    write_lines(&host, &all);
    andon()
        .args(["incident", "show", ID, "--ledger"])
        .arg(host.path("ledger"))
        .assert()
        .code(22)
        .stderr(contains("damaged at seq 3"));
    andon().arg("replay").arg(host.path("ledger")).args(["--seq", "3"]).assert().code(21);
    export_cmd(&host, ID, &host.path("export.tar.gz")).code(22);
    // The writer refuses too: the line is self-consistent, so it is not a torn tail.
    host.cmd(&["incident", "outcome", ID, "--status", "executed"]).code(22).stderr(contains("not a torn tail"));
}

// 5. The export is what the docs say.

#[test]
fn the_export_signature_covers_every_byte_before_its_signature_line_including_the_key_id() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    let files = files_of(&host.export(ID));
    let text = String::from_utf8(files[AUDIT_SIGNATURE].clone()).unwrap();
    let at = text.rfind("signature: ").unwrap();
    let (signed, last) = text.split_at(at);
    assert!(signed.ends_with(&format!("key_id: {}\n", keys::ed25519_key_id(&signing(&host).verifying_key()))));
    let raw: [u8; 64] = hex::decode(last.trim_end().strip_prefix("signature: ").unwrap()).unwrap().try_into().unwrap();
    signing(&host)
        .verifying_key()
        .verify(signed.as_bytes(), &ed25519_dalek::Signature::from_bytes(&raw))
        .expect("the signature covers every byte before its line");
    // So the key id line cannot be changed without the key.
    let mut altered = files;
    let forged = text.replacen("key_id: ed25519-", "key_id: ed25519-0", 1);
    altered.insert(AUDIT_SIGNATURE.into(), forged.into_bytes());
    let path = host.path("forged.tar.gz");
    pack(&altered, &mut std::fs::File::create(&path).unwrap()).unwrap();
    host.audit(&path).code(24).stderr(contains("audit failed at audit-signature.txt"));
}

#[test]
fn receipt_chain_jsonl_holds_the_stored_lines_byte_for_byte() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    host.cmd(&["incident", "outcome", ID, "--status", "executed"]).success();
    let files = files_of(&host.export(ID));
    let stored: Vec<u8> = lines(&host)
        .into_iter()
        .filter(|l| StoredReceipt::parse(l).unwrap().body.incident_id.as_deref() == Some(ID))
        .collect::<Vec<_>>()
        .concat();
    assert_eq!(String::from_utf8_lossy(&files[RECEIPT_CHAIN]), String::from_utf8_lossy(&stored));
    assert!(!files.contains_key("receipt-chain.json"));
}

#[test]
fn every_export_holds_a_checkpoint_of_its_last_receipt_recorded_in_the_ledger() {
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    host.submit(&CFO_ABSENT.replace(ID, "INC-2026-0002"), &[]);
    // Writers checkpoint when they close; a ledger written before that (or by a
    // writer without a signing key) has none: export signs one then.
    std::fs::write(host.path("ledger/checkpoints.jsonl"), b"").unwrap();
    let files = files_of(&host.export(ID));
    let checkpoint = Checkpoint::parse(&files[CHECKPOINT]).unwrap();
    let last = StoredReceipt::parse(&lines(&host)[2]).unwrap();
    assert_eq!((checkpoint.seq, &checkpoint.head_hash), (3, &last.hash), "it covers the last exported receipt");
    let public = signing(&host).verifying_key();
    checkpoint.verify(&keys::ed25519_key_id(&public), &public).unwrap();
    // Recorded, so those receipts are never cut automatically, and reused.
    let recorded = std::fs::read(host.path("ledger/checkpoints.jsonl")).unwrap();
    assert_eq!(recorded, files[CHECKPOINT]);
    let again = files_of(&host.export(ID));
    assert_eq!(again[CHECKPOINT], files[CHECKPOINT]);
    assert_eq!(std::fs::read(host.path("ledger/checkpoints.jsonl")).unwrap(), recorded);
    verify(&host).success();
    // The audit requires it.
    let mut without = files;
    without.remove(CHECKPOINT);
    let archive = resigned(&host, without, "no-checkpoint.tar.gz");
    host.audit(&archive).code(24).stderr(contains("audit failed at checkpoint.json: missing"));
}

#[test]
fn an_export_checkpoint_of_a_service_ledger_is_appended_beside_the_running_writer() {
    // `andon serve` holds the writer lock for as long as it runs; the export's
    // checkpoint goes in under the checkpoint file's own lock instead.
    let host = Host::new();
    host.submit(CFO_ABSENT, &[]);
    let lock = std::fs::File::options().read(true).write(true).open(host.path("ledger/LOCK")).unwrap();
    lock.lock().unwrap();
    let archive = host.export(ID);
    drop(lock);
    host.audit(&archive).success();
    let value: Value = serde_json::from_slice(&std::fs::read(host.path("ledger/checkpoints.jsonl")).unwrap()).unwrap();
    assert_eq!(value["seq"], 3);
}

#[test]
fn verify_names_the_first_bad_line_of_a_ledger_large_enough_to_check_on_two_threads() {
    use crate::ledger::{ledger_with, test_keys};
    use andon_ledger::ledger::verify::VerifyOptions;
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 300);
    let original: Vec<Vec<u8>> = std::fs::read(path.join("receipts.jsonl"))
        .unwrap()
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let options = VerifyOptions { keys: vec![keys.hmac.clone()], ..Default::default() };
    let first_problem = |lines: &[Vec<u8>]| {
        std::fs::write(path.join("receipts.jsonl"), lines.concat()).unwrap();
        let report = ledger::verify::verify(&path, &options, &mut |_, _| {}).unwrap();
        let problem = report.problems.first().expect("a problem").clone();
        (format!("{:?}", problem.kind), problem.seq, problem.message)
    };
    let non_canonical = |line: &[u8]| {
        let text = String::from_utf8(line.to_vec()).unwrap().trim_end().replacen(",\"bundle\":", ", \"bundle\":", 1);
        [reseal(text.as_bytes(), &keys.hmac), b"\n".to_vec()].concat()
    };
    let mut lines = original.clone();
    lines[199] = non_canonical(&lines[199]);
    let (kind, seq, message) = first_problem(&lines);
    assert_eq!((kind.as_str(), seq), ("Malformed", 200), "{message}");
    assert!(message.contains("not a strict RFC 8785 receipt line"), "{message}");
    // An earlier altered body is named first.
    let middle = lines[149].len() / 2;
    flip(&mut lines[149], middle);
    assert_eq!(first_problem(&lines).1, 150);
    // A line that is not a receipt at all.
    lines[99] = b"not a receipt\n".to_vec();
    let (kind, seq, _) = first_problem(&lines);
    assert_eq!((kind.as_str(), seq), ("Malformed", 100));
    std::fs::write(path.join("receipts.jsonl"), original.concat()).unwrap();
    assert!(ledger::verify::verify(&path, &options, &mut |_, _| {}).unwrap().ok);
}
