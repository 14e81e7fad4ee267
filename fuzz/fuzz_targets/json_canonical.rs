//! The strict JSON parser and the host's own RFC 8785 writer.
//!
//! - Whatever the strict parser accepts, plain `serde_json` accepts too, and both
//!   read the same value (same canonical bytes).
//! - The host's writer (`andon_core::canonical::to_vec`) writes exactly what the
//!   reference `serde_json_canonicalizer` writes.
//! - Round trip: the canonical bytes parse strictly again and canonicalize to
//!   themselves.
#![no_main]

use andon_core::canonical;
use andon_core::evidence::parse_strict;
use andon_fuzz::reference_canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = parse_strict("input", data, usize::MAX) else {
        return;
    };
    let ours = canonical::to_vec(&value);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&reference_canonical(&value)),
        "the host's RFC 8785 writer differs from the reference"
    );

    let plain: serde_json::Value = serde_json::from_slice(data).expect("what the strict parser accepts is JSON");
    assert_eq!(reference_canonical(&plain), ours, "plain serde_json reads another value");

    let again = parse_strict("canonical", &ours, usize::MAX).expect("canonical bytes parse strictly");
    assert_eq!(canonical::to_vec(&again), ours, "canonicalization is not idempotent");
});
