//! Ledger line parsing: `check_line` (one strict RFC 8785 receipt line with a
//! matching hash) on any bytes, and the shape parser `StoredReceipt::parse`.
//!
//! A line `check_line` accepts must be exactly the RFC 8785 form of the JSON value
//! plain `serde_json` reads from it (what every other reader would see), and must
//! parse as a stored receipt.
//!
//! The input is fuzzed as is, and also spliced into a golden receipt line (the
//! first byte picks the line and the cut), so mutations start from real receipts.
#![no_main]

use andon_fuzz::{GOLDEN_LEDGER, reference_canonical};
use andon_ledger::ledger::scan::{check_line, hash_matches_body};
use andon_ledger::receipt::StoredReceipt;
use libfuzzer_sys::fuzz_target;

fn check(line: &[u8]) {
    let accepted = check_line(line).is_ok();
    assert_eq!(accepted, hash_matches_body(line));
    let stored = StoredReceipt::parse(line);
    if accepted {
        let value: serde_json::Value = serde_json::from_slice(line).expect("an accepted line is JSON");
        assert_eq!(
            String::from_utf8_lossy(&reference_canonical(&value)),
            String::from_utf8_lossy(line),
            "an accepted line is not the RFC 8785 form of what it holds"
        );
        stored.expect("an accepted line is a stored receipt");
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some((&pick, rest)) = data.split_first() {
        let lines: Vec<&str> = GOLDEN_LEDGER.lines().collect();
        let line = lines[usize::from(pick) % lines.len()].as_bytes();
        // Replace a window of the golden line by the rest of the input.
        let at = rest.first().map_or(0, |&b| usize::from(b) * line.len() / 256);
        let cut = rest.get(1).map_or(0, |&b| usize::from(b));
        let rest = rest.get(2..).unwrap_or_default();
        let mut spliced = line[..at].to_vec();
        spliced.extend_from_slice(rest);
        spliced.extend_from_slice(&line[(at + cut).min(line.len())..]);
        check(&spliced);
    }
});
