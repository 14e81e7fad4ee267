//! Helpers shared by the fuzz targets of Andon (see docs/fuzzing.md).

/// The golden ledger written by the demo flow with fixed keys and clock: whole,
/// valid receipt lines that the ledger targets put in front of fuzzed bytes.
pub const GOLDEN_LEDGER: &str = include_str!("../../tests/data/golden-ledger/receipts.jsonl");

/// The HMAC key of [`GOLDEN_LEDGER`] (`tests/all/golden_ledger.rs`).
pub const GOLDEN_HMAC: [u8; 32] = [7; 32];

/// The first `n` lines of the golden ledger (each with its `\n`); `n` is taken
/// modulo the number of lines plus one.
pub fn golden_prefix(n: usize) -> &'static str {
    let lines = GOLDEN_LEDGER.lines().count();
    let n = n % (lines + 1);
    let end = GOLDEN_LEDGER.match_indices('\n').nth(n.wrapping_sub(1)).map_or(0, |(at, _)| at + 1);
    if n == 0 { "" } else { &GOLDEN_LEDGER[..end] }
}

/// RFC 8785 bytes of a value by the reference canonicalizer.
pub fn reference_canonical(value: &serde_json::Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("a serde_json value canonicalizes")
}
