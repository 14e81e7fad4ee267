//! Crash safety with real processes: a child `andon ledger stress` appends receipts
//! as fast as it can and prints each seq once it is durable; the parent SIGKILLs it
//! at random moments, reopens the ledger (repairing a torn tail) and checks that
//! every acknowledged receipt is there and the chain verifies. Plus hand-made torn
//! tails and damage in the middle.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use andon_ledger::ledger::scan::ProblemKind;
use andon_ledger::ledger::{self, Ledger, Options};
use andon_ledger::receipt::Kind;
use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt as _;

use crate::ledger::{content, draft, ledger_with, receipts, signing_options, test_keys, verify_all};

/// Kill cycles run by the test suite.
const CYCLES: u32 = 200;

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkilled_writers_never_lose_an_acknowledged_receipt() {
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = XorShift(seed);
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = dir.path().join("ledger");
    let andon = stress_writer();
    let mut acknowledged = 0u64;
    let (mut repairs, mut unacknowledged_kept) = (0u32, 0u32);
    for cycle in 0..CYCLES {
        // One fsync per receipt, or group commits of up to 64 receipts in one write.
        let batch = if cycle % 3 == 0 { 1 + rng.below(64) } else { 1 };
        // Half the writers append into preallocated zero padding.
        let preallocate = if rng.below(2) == 0 { 0 } else { 64 << 10 };
        let mut child = Process::new(&andon)
            .args(["--checkpoint-every", "5", "--batch", &batch.to_string()])
            .args(["--preallocate", &preallocate.to_string(), "--dir"])
            .arg(&path)
            .arg("--key")
            .arg(&keys.generated.hmac_path)
            .arg("--signing-key")
            .arg(&keys.generated.signing_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let wait_for = rng.below(10);
        let mut seen = 0;
        while seen < wait_for {
            let Some(line) = lines.next() else { break };
            let seq: u64 = line.unwrap().trim().parse().unwrap();
            assert!(seq > acknowledged, "seed {seed} cycle {cycle}: seq {seq} acknowledged twice");
            acknowledged = seq;
            seen += 1;
        }
        // Kill at a random moment: right away, or after a short random spin.
        let spin = Duration::from_micros(rng.below(4) * rng.below(1500));
        let start = Instant::now();
        while start.elapsed() < spin {
            std::hint::spin_loop();
        }
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
        // Whatever reached the pipe before the kill was acknowledged too.
        for line in lines {
            let seq: u64 = line.unwrap().trim().parse().unwrap();
            assert!(seq > acknowledged, "seed {seed} cycle {cycle}");
            acknowledged = seq;
        }

        let reopened = Ledger::open(&path, keys.hmac.clone(), Options::default())
            .unwrap_or_else(|e| panic!("seed {seed} cycle {cycle}: reopen failed: {e}"));
        if reopened.repaired().is_some() {
            repairs += 1;
        }
        if reopened.seq() - u64::from(reopened.repaired().is_some()) > acknowledged {
            // Written and whole, but killed before its seq was printed: kept.
            unacknowledged_kept += 1;
        }
        assert!(
            reopened.seq() >= acknowledged,
            "seed {seed} cycle {cycle}: ledger ends at seq {} but seq {acknowledged} was acknowledged",
            reopened.seq()
        );
        drop(reopened);
        let report = verify_all(&path, &keys);
        assert!(report.ok, "seed {seed} cycle {cycle}: {report:#?}");
    }
    // Every acknowledged seq is present, in order, exactly once.
    let all = receipts(&path);
    for (index, receipt) in all.iter().enumerate() {
        assert_eq!(receipt.body.seq, index as u64 + 1);
    }
    assert!(all.len() as u64 >= acknowledged);
    assert!(acknowledged > u64::from(CYCLES), "the children acknowledged too little: {acknowledged}");
    eprintln!(
        "crash test: seed {seed}, {CYCLES} kills, {acknowledged} acknowledged, {} receipts, {repairs} torn-tail repairs, {unacknowledged_kept} kills after a write but before its acknowledgement",
        all.len()
    );
    let report = verify_all(&path, &keys);
    assert!(report.ok && report.ledger_checkpoints > 0, "{report:#?}");
    // The tree survived the kills: every note the children signed has the root of
    // the receipts it covers (checked by verify), and after one more checkpoint the
    // stored tiles are exactly the tiles rebuilt from the receipts.
    assert!(report.log.notes_checked > 0 && report.log.tiles_checked > 0, "{report:#?}");
    let mut writer = Ledger::open(&path, keys.hmac.clone(), signing_options(&keys, 1000)).unwrap();
    writer.checkpoint().unwrap();
    drop(writer);
    let store = andon_ledger::tlog::FileTileStore::open(&path.join(andon_ledger::tlog::TILES_DIR), false).unwrap();
    let lines = ledger::read_lines(&path).unwrap();
    let tiles = andon_ledger::tlog::check(&store, lines).unwrap();
    assert!(tiles.is_clean(), "{tiles:#?}");
    let rebuilt = tempfile::tempdir().unwrap();
    let fresh = andon_ledger::tlog::FileTileStore::open(&rebuilt.path().join("tiles"), true).unwrap();
    let size = andon_ledger::tlog::rebuild(&fresh, ledger::read_lines(&path).unwrap()).unwrap();
    let root = |s: &andon_ledger::tlog::FileTileStore| {
        andon_ledger::tlog::root(&mut andon_ledger::tlog::TileReader::new(s, size), size).unwrap()
    };
    assert_eq!(root(&store), root(&fresh));
    let report = verify_all(&path, &keys);
    assert!(report.ok, "{report:#?}");
}

/// Writes `bytes` where the next receipt would go: into the preallocated zero
/// padding, as a write cut short by a crash would.
fn append_raw(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::FileExt as _;
    let end = content(path).len() as u64;
    let file = std::fs::OpenOptions::new().write(true).open(path.join("receipts.jsonl")).unwrap();
    file.write_all_at(bytes, end).unwrap();
}

#[test]
fn a_half_written_last_line_is_cut_back_and_the_repair_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 3);
    let before = content(&path);
    let third = before.split_inclusive(|&b| b == b'\n').nth(2).unwrap().to_vec();
    let half = &third[..third.len() / 2];
    append_raw(&path, half);

    let report = verify_all(&path, &keys);
    assert_eq!((report.problems[0].kind, report.first_bad_seq), (ProblemKind::TornTail, Some(4)));

    let ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    let repair = ledger.repaired().expect("the torn tail was repaired").clone();
    assert_eq!(repair.bytes_removed, half.len() as u64);
    assert_eq!(repair.last_good_seq, 3);
    assert_eq!(repair.removed_sha256, andon_core::evidence::sha256_hex(half));
    assert_eq!(ledger.seq(), 4);
    drop(ledger);

    let after = content(&path);
    assert_eq!(&after[..before.len()], &before[..], "every whole receipt is kept byte for byte");
    let all = receipts(&path);
    assert_eq!(all.len(), 4);
    assert_eq!(all[3].body.kind, Kind::LedgerRepaired);
    assert_eq!(all[3].body.repair.as_ref(), Some(&repair));
    assert_eq!(all[3].body.prev_hash, all[2].hash);
    assert!(verify_all(&path, &keys).ok);
}

#[test]
fn zeros_before_a_whole_receipt_are_refused_not_cut() {
    // Power loss with preallocation could persist a later page of a batch but not
    // an earlier one, leaving zeros before a whole receipt; but the same bytes could
    // be corruption of acknowledged receipts, so the ledger refuses rather than cut.
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 3);
    let lines = content(&path);
    let third = lines.split_inclusive(|&b| b == b'\n').nth(2).unwrap().to_vec();
    let mut hole = third.clone();
    hole[..100].fill(0);
    append_raw(&path, &[hole, third].concat());
    let err = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap_err();
    assert!(matches!(err, ledger::LedgerError::Damaged { seq: 4, .. }), "{err}");
}

#[test]
fn a_garbage_last_line_left_by_a_crash_is_cut_back() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 2);
    append_raw(&path, &[&[0u8; 700][..], b"\n"].concat());
    let ledger = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap();
    assert_eq!(ledger.repaired().unwrap().bytes_removed, 701);
    drop(ledger);
    assert!(verify_all(&path, &keys).ok);
}

#[test]
fn a_torn_checkpoint_line_is_cut_back_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 4);
    let checkpoints = std::fs::read(path.join("checkpoints.jsonl")).unwrap();
    std::fs::write(path.join("checkpoints.jsonl"), [&checkpoints[..], &checkpoints[..40]].concat()).unwrap();
    assert!(!verify_all(&path, &keys).ok);
    drop(Ledger::open(&path, keys.hmac.clone(), signing_options(&keys, 4)).unwrap());
    assert_eq!(std::fs::read(path.join("checkpoints.jsonl")).unwrap(), checkpoints);
    assert!(verify_all(&path, &keys).ok);
}

#[test]
fn damage_in_the_middle_is_not_repaired_and_opening_for_write_refuses_naming_the_seq() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 5);
    let mut bytes = std::fs::read(path.join("receipts.jsonl")).unwrap();
    let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 40;
    bytes[second] ^= 0x01;
    std::fs::write(path.join("receipts.jsonl"), &bytes).unwrap();

    let err = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap_err();
    assert!(matches!(err, ledger::LedgerError::Damaged { seq: 2, .. }), "{err}");
    assert_eq!(std::fs::read(path.join("receipts.jsonl")).unwrap(), bytes, "nothing was cut");

    // The CLI refuses with exit code 22 and names the seq.
    let evidence = dir.path().join("e.json");
    std::fs::write(
        &evidence,
        r#"{"incident_id":"I","kind":"k","severity":"low","evidence":{"evidence_level":"high"}}"#,
    )
    .unwrap();
    Command::new(assert_cmd::cargo::cargo_bin!("andon"))
        .args(["eval", "-c", andon_recipes::shipped("evidence-level").unwrap().path, "-e"])
        .arg(&evidence)
        .arg("--ledger")
        .arg(&path)
        .arg("--key")
        .arg(&keys.generated.hmac_path)
        .assert()
        .code(22)
        .stderr(predicates::str::contains("damaged at seq 2").and(predicates::str::contains("not a torn tail")));
}

#[test]
fn a_self_consistent_record_appended_out_of_order_is_damage_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let keys = test_keys(dir.path());
    let path = ledger_with(dir.path(), &keys, 3);
    let bytes = content(&path);
    let first = bytes.split_inclusive(|&b| b == b'\n').next().unwrap().to_vec();
    append_raw(&path, &first);
    let err = Ledger::open(&path, keys.hmac.clone(), Options::default()).unwrap_err();
    assert!(matches!(err, ledger::LedgerError::Damaged { seq: 4, kind: ProblemKind::UnexpectedSeq, .. }), "{err}");
    let mut ledger = Ledger::open(dir.path().join("fresh").as_path(), keys.hmac.clone(), Options::default()).unwrap();
    ledger.append(draft("X", 0)).unwrap();
}

/// The crash-test writer, a bin of the `andon-test-fixtures` package: cargo puts it
/// beside `andon` when the workspace's tests are built (`cargo test --workspace`).
fn stress_writer() -> std::path::PathBuf {
    let andon = std::path::Path::new(assert_cmd::cargo::cargo_bin!("andon"));
    let path = andon.with_file_name(format!("andon-ledger-stress{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: the crash test needs the fixture writer, built by `cargo test --workspace` \
         (or `cargo build -p andon-test-fixtures`)",
        path.display()
    );
    path
}
