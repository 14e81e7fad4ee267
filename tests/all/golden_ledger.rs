//! The demo's operator flow, run with fixed keys and a fixed clock, writes exactly
//! the receipts pinned in `tests/data/golden-ledger/receipts.jsonl`.
//!
//! The pinned file was written by the code as it stood before the crate split
//! (commit 14a985d, with only its key generator and clock fixed the same way), so
//! this test shows the split changed no receipt byte. A deliberate change to a
//! shipped recipe, the receipt format or the demo's scenarios changes the file:
//! re-pin it with `ANDON_PIN_GOLDEN_LEDGER=1 cargo test -p andon-cli --test all
//! golden_ledger` and say why in the commit.

use andon_core::AndonEngine;
use andon_ledger::keys::HmacKey;
use andon_work::bundle::build;
use andon_work::demo::{self, DemoOptions};
use ed25519_dalek::SigningKey;

use crate::support::root;

fn fixed_clock() -> String {
    "2026-01-01T00:00:00.000Z".into()
}

#[test]
fn demo_flow_with_fixed_keys_and_clock_writes_the_pinned_golden_ledger() {
    let engine = AndonEngine::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let components = build::shipped();
    let report = demo::run(
        &engine,
        DemoOptions {
            source: &root().join("recipes-wasm"),
            components: &components,
            work: dir.path(),
            hmac: HmacKey::from_bytes([7; 32]),
            signing: SigningKey::from_bytes(&[9; 32]),
            clock: fixed_clock,
        },
    )
    .unwrap();
    assert!(report.export.as_ref().is_some_and(|e| e.ok), "the demo's own audit passes: {:?}", report.export);
    let written = std::fs::read_to_string(dir.path().join("ledger/receipts.jsonl")).unwrap();
    let pinned_path = root().join("tests/data/golden-ledger/receipts.jsonl");
    if std::env::var_os("ANDON_PIN_GOLDEN_LEDGER").is_some() {
        std::fs::create_dir_all(pinned_path.parent().unwrap()).unwrap();
        std::fs::write(&pinned_path, &written).unwrap();
    }
    let pinned = std::fs::read_to_string(&pinned_path).unwrap();
    assert_eq!(written.lines().count(), pinned.lines().count(), "receipt count differs from the pinned ledger");
    for (seq, (got, want)) in written.lines().zip(pinned.lines()).enumerate() {
        assert_eq!(got, want, "receipt {} differs from the pinned golden ledger", seq + 1);
    }
    assert_eq!(written, pinned);
}
