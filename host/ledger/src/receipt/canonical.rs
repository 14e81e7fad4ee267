//! The RFC 8785 writer of receipt bodies (the shape is fixed, so members are written
//! directly in sorted order with [`andon_core::canonical::Obj`]).
//!
//! In debug builds every sealed body is compared with `serde_json_canonicalizer`'s
//! output, so every test that writes a receipt checks this writer.

use andon_core::canonical::{Obj, null_or, write_decision, write_engine, write_list, write_run, write_value};

use super::{Body, Repair};

pub(crate) use andon_core::canonical::hex32;

fn write_repair(out: &mut Vec<u8>, repair: &Repair) {
    let mut o = Obj::new(out);
    o.u64("bytes_removed", repair.bytes_removed);
    o.u64("last_good_seq", repair.last_good_seq);
    o.str("reason", &repair.reason);
    o.str("removed_sha256", &repair.removed_sha256);
    o.end();
}

/// Writes the RFC 8785 form of a receipt body and returns the two offsets where
/// `hash` (after `format`) and `signature` (after `seq`) belong in the full receipt.
pub(crate) fn write_body(out: &mut Vec<u8>, body: &Body) -> (usize, usize) {
    let mut o = Obj::new(out);
    null_or(o.key("annotation"), body.annotation.as_ref(), write_value);
    null_or(o.key("bundle"), body.bundle.as_ref(), write_value);
    write_list(o.key("components"), &body.components, write_run);
    null_or(o.key("decision"), body.decision.as_ref(), write_decision);
    o.opt_str("decision_sha256", body.decision_sha256.as_deref());
    null_or(o.key("engine"), body.engine.as_ref(), write_engine);
    o.bool("evaluation_mode", body.evaluation_mode);
    null_or(o.key("evidence"), body.evidence.as_ref(), write_value);
    o.opt_str("evidence_sha256", body.evidence_sha256.as_deref());
    o.opt_str("fault_class", body.fault_class.map(|c| c.as_str()));
    o.str("format", &body.format);
    let after_format = o.len();
    o.opt_str("incident_id", body.incident_id.as_deref());
    o.opt_str("incident_prev_hash", body.incident_prev_hash.as_deref());
    o.str("key_id", &body.key_id);
    o.str("kind", body.kind.as_str());
    o.str("prev_hash", &body.prev_hash);
    null_or(o.key("repair"), body.repair.as_ref(), write_repair);
    o.u64("seq", body.seq);
    let after_seq = o.len();
    o.str("timestamp", &body.timestamp);
    o.end();
    (after_format, after_seq)
}
