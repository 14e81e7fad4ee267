//! Ledger readers and torn-tail repair, on a real `receipts.jsonl` in a temp dir:
//! the first input byte picks how many whole golden receipts come first, the rest
//! of the input follows them as the file's tail.
//!
//! - The readers (`all_receipts`, `verify`) never panic on it.
//! - Opening for writing either refuses (`Damaged`, the file untouched) or leaves
//!   a ledger that keeps every golden receipt and whose chain verifies clean,
//!   which every reader then reads whole. (Opening does not check MACs: a forged
//!   MAC that was there before is still the only thing `verify --key` reports.)
#![no_main]

use andon_fuzz::{GOLDEN_HMAC, golden_prefix};
use andon_ledger::Ledger;
use andon_ledger::keys::HmacKey;
use andon_ledger::ledger::scan::ProblemKind;
use andon_ledger::ledger::verify::{VerifyOptions, verify};
use andon_ledger::ledger::{LedgerError, Options, RECEIPTS_FILE, all_receipts};
use libfuzzer_sys::fuzz_target;

fn clock() -> String {
    "2026-12-01T00:00:00.000Z".into()
}

fn scratch() -> tempfile::TempDir {
    // tmpfs when there is one: the ledger syncs every write.
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("a temp dir")
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, tail)) = data.split_first() else {
        return;
    };
    let prefix = golden_prefix(usize::from(pick));
    let golden = prefix.lines().count() as u64;
    let dir = scratch();
    let path = dir.path().join("ledger");
    std::fs::create_dir(&path).unwrap();
    let mut content = prefix.as_bytes().to_vec();
    content.extend_from_slice(tail);
    std::fs::write(path.join(RECEIPTS_FILE), &content).unwrap();

    let keys = VerifyOptions { keys: vec![HmacKey::from_bytes(GOLDEN_HMAC)], ..VerifyOptions::default() };
    let before = verify(&path, &keys, &mut |_, _| {}).expect("verify reads a ledger");
    assert!(before.receipts >= golden, "verify lost a golden receipt");
    match all_receipts(&path) {
        Ok(receipts) => assert!(receipts.len() as u64 >= golden),
        Err(LedgerError::Unreadable { seq, .. }) => assert!(seq > golden, "a golden receipt is unreadable"),
        Err(other) => panic!("unexpected reader error: {other}"),
    }

    // No checkpoints (no signing key), no preallocation: the defaults, fixed clock.
    let options = Options { checkpoint_every: 0, clock, ..Options::default() };
    match Ledger::open(&path, HmacKey::from_bytes(GOLDEN_HMAC), options) {
        Ok(ledger) => {
            assert!(ledger.seq() >= golden, "repair cut a golden receipt");
            let seq = ledger.seq();
            drop(ledger);
            let after = verify(&path, &VerifyOptions::default(), &mut |_, _| {}).expect("verify reads a ledger");
            assert!(after.ok, "the ledger's chain does not verify after open: {:?}", after.problems);
            assert_eq!(after.head_seq, seq);
            // Opening checks the chain, not the MACs (a receipt whose MAC was
            // forged is found by `verify --key`): with the key, the only problem
            // allowed is one that was there before the open.
            let macs = verify(&path, &keys, &mut |_, _| {}).expect("verify reads a ledger");
            if let Some(problem) = macs.problems.first() {
                let kinds = [ProblemKind::BadMac, ProblemKind::WrongKey];
                assert!(kinds.contains(&problem.kind), "after open: {problem:?}");
                let old = before.problems.first().expect("the MAC problem was there before the open");
                assert_eq!((old.kind, old.seq), (problem.kind, problem.seq));
            }
            let receipts = all_receipts(&path).expect("a repaired ledger is readable");
            assert_eq!(receipts.len() as u64, seq);
        }
        Err(LedgerError::Damaged { .. }) => {
            let now = std::fs::read(path.join(RECEIPTS_FILE)).unwrap();
            assert!(now == content, "a refused open changed receipts.jsonl");
        }
        Err(other) => panic!("unexpected open error: {other}"),
    }
});
