//! Receipts: the canonical, hash-chained, HMAC-signed record of one decision (or of
//! one ledger event), as specified in `docs/receipts.md`.
//!
//! A receipt is one RFC 8785 JSON object. Its *body* is every member except `hash`
//! and `signature`; `hash` is the lowercase hex SHA-256 of the body's RFC 8785
//! bytes, and `signature` is the lowercase hex HMAC-SHA256, under the key named by
//! the body's `key_id`, of the 64 ASCII characters of `hash`.
//!
//! Building a receipt: run components with `andon_core::run::evaluate_bytes` (faults
//! become `indeterminate` refusals, never plans), turn the runs into a [`Draft`] with
//! [`Draft::from_runs`], and append the draft to a [`crate::ledger::Ledger`], which
//! fills in the sequence number, the chain links, the key id and the timestamp and
//! seals it with [`seal`].
//!
//! # Example
//!
//! ```
//! use andon_ledger::receipt::{self, Body, Kind};
//! use andon_ledger::keys::HmacKey;
//!
//! let key = HmacKey::from_bytes([7; 32]);
//! let body = Body {
//!     kind: Kind::Reported,
//!     incident_id: Some("INC-1".into()),
//!     ..Body::empty(1, receipt::ZERO_HASH.into(), key.key_id().into(), "2026-01-01T00:00:00.000Z".into())
//! };
//! let sealed = receipt::seal(&body, &key)?;
//! assert_eq!(sealed.hash, andon_core::evidence::sha256_hex(&sealed.body_bytes));
//! assert!(key.verify(sealed.hash.as_bytes(), &hex::decode(&sealed.signature).unwrap()));
//! assert!(sealed.line.ends_with(b"}\n"));
//! # Ok::<(), andon_ledger::receipt::ReceiptError>(())
//! ```

mod canonical;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest as _;

use andon_core::decision::Decision;
use andon_core::errors::FaultClass;
use andon_core::evidence::canonical_bytes_of;
use andon_core::record::RecordedRun;
pub use andon_core::record::{ComponentRun, EngineInfo, RunOutcome};

use crate::keys::HmacKey;

/// Format tag of receipts specified by `docs/receipts.md`.
pub const FORMAT: &str = "andon.receipt/1";
/// `prev_hash` of the first receipt: 64 zeros.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
pub use andon_core::canonical::MAX_SAFE_INTEGER;

/// Result alias of this module.
pub type Result<T, E = ReceiptError> = std::result::Result<T, E>;

/// Why a receipt could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// An integer field is beyond 2^53 and would not survive RFC 8785 exactly.
    #[error("receipt field `{field}` is {value}, beyond 2^53; RFC 8785 cannot represent it exactly")]
    NumberTooLarge {
        /// The field, e.g. `components[0].limits.fuel`.
        field: String,
        /// Its value.
        value: u64,
    },
    /// Serialization failed (never for well-formed bodies).
    #[error("cannot canonicalize the receipt")]
    Canonical(#[source] andon_core::evidence::InputError),
}

/// What a receipt records. Serialized in snake_case.
///
/// New kinds may be added in later versions; verifiers never depend on the kind
/// (the hash and links are checked on the stored bytes), and replay skips kinds it
/// does not replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// A decision that is a pass or a plan.
    Evaluated,
    /// A decision that is a refusal (including guest faults: reason `indeterminate`).
    Refused,
    /// An incident was reported.
    Reported,
    /// A plan was approved for execution.
    Planned,
    /// A plan was executed.
    Executed,
    /// An incident was closed.
    Closed,
    /// An incident was archived.
    Archived,
    /// A component or recipe was decommissioned.
    Decommissioned,
    /// The ledger cut back a torn tail left by a crash (see [`Repair`]).
    LedgerRepaired,
    /// A decision deadline was missed.
    SlaBreached,
    /// The host refused work because it was overloaded.
    Overloaded,
}

impl Kind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Evaluated => "evaluated",
            Kind::Refused => "refused",
            Kind::Reported => "reported",
            Kind::Planned => "planned",
            Kind::Executed => "executed",
            Kind::Closed => "closed",
            Kind::Archived => "archived",
            Kind::Decommissioned => "decommissioned",
            Kind::LedgerRepaired => "ledger_repaired",
            Kind::SlaBreached => "sla_breached",
            Kind::Overloaded => "overloaded",
        }
    }
}

/// What a `ledger_repaired` receipt records about the cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repair {
    /// Bytes cut from the end of `receipts.jsonl`.
    pub bytes_removed: u64,
    /// Sequence number of the last whole receipt kept (0 when none).
    pub last_good_seq: u64,
    /// SHA-256 of the bytes that were cut.
    pub removed_sha256: String,
    /// Why the bytes were cut.
    pub reason: String,
}

/// A receipt body: every member but `hash` and `signature`.
///
/// Absent values are `null`, never omitted, so the member set is fixed by the format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Free-form facts of lifecycle receipts (recipe, stage, policies, outcome
    /// status and note, closing feedback, redactions), or null.
    pub annotation: Option<Value>,
    /// The bundle that decided: `{name, version, digest, signer}`, or null.
    pub bundle: Option<Value>,
    /// [`FORMAT`].
    pub format: String,
    /// Sequence number: 1 for the first receipt, then +1.
    pub seq: u64,
    /// `hash` of the previous receipt ([`ZERO_HASH`] for the first).
    pub prev_hash: String,
    /// `hash` of the previous receipt of the same incident, or null.
    pub incident_prev_hash: Option<String>,
    /// What the receipt records.
    pub kind: Kind,
    /// Incident id, or null for ledger events.
    pub incident_id: Option<String>,
    /// Component runs, in order; the last one's decision is the final decision.
    pub components: Vec<ComponentRun>,
    /// SHA-256 of the RFC 8785 bytes of `evidence`.
    pub evidence_sha256: Option<String>,
    /// The whole incident document (`incident_id`, `kind`, `severity`, `evidence`),
    /// as accepted by intake; embedded so a receipt replays from the ledger alone.
    pub evidence: Option<Value>,
    /// The final decision.
    pub decision: Option<Decision>,
    /// SHA-256 of the RFC 8785 bytes of `decision`.
    pub decision_sha256: Option<String>,
    /// The fault class when the decision is an `indeterminate` refusal.
    pub fault_class: Option<FaultClass>,
    /// Engine and host versions.
    pub engine: Option<EngineInfo>,
    /// True when the decision was made in evaluation (dry-run) mode.
    pub evaluation_mode: bool,
    /// What a `ledger_repaired` receipt cut.
    pub repair: Option<Repair>,
    /// Host time, RFC 3339 UTC; informational, never compared by replay.
    pub timestamp: String,
    /// Id of the HMAC key that signs this receipt.
    pub key_id: String,
}

impl Body {
    /// A body with the given links and nothing else (kind `reported`).
    pub fn empty(seq: u64, prev_hash: String, key_id: String, timestamp: String) -> Body {
        let links = Links { seq, prev_hash, incident_prev_hash: None };
        Body::from_draft(Draft::new(Kind::Reported), links, key_id, timestamp)
    }

    /// Fills in a draft with its place in the ledger.
    pub fn from_draft(draft: Draft, links: Links, key_id: String, timestamp: String) -> Body {
        Body {
            annotation: draft.annotation,
            bundle: draft.bundle,
            format: FORMAT.into(),
            seq: links.seq,
            prev_hash: links.prev_hash,
            incident_prev_hash: links.incident_prev_hash,
            kind: draft.kind,
            incident_id: draft.incident_id,
            components: draft.components,
            evidence_sha256: draft.evidence_sha256,
            evidence: draft.evidence,
            decision: draft.decision,
            decision_sha256: draft.decision_sha256,
            fault_class: draft.fault_class,
            engine: draft.engine,
            evaluation_mode: draft.evaluation_mode,
            repair: draft.repair,
            timestamp,
            key_id,
        }
    }
}

/// A receipt's place in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// Sequence number.
    pub seq: u64,
    /// Hash of the previous receipt.
    pub prev_hash: String,
    /// Hash of the previous receipt of the same incident.
    pub incident_prev_hash: Option<String>,
}

/// A receipt before the ledger gives it a place: everything but `seq`, the links,
/// `key_id` and `timestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Kind.
    pub kind: Kind,
    /// Lifecycle facts (see [`Body::annotation`]).
    pub annotation: Option<Value>,
    /// The deciding bundle (see [`Body::bundle`]).
    pub bundle: Option<Value>,
    /// Incident id (null for ledger events).
    pub incident_id: Option<String>,
    /// Component runs.
    pub components: Vec<ComponentRun>,
    /// SHA-256 of the evidence's RFC 8785 bytes.
    pub evidence_sha256: Option<String>,
    /// The incident document.
    pub evidence: Option<Value>,
    /// The final decision.
    pub decision: Option<Decision>,
    /// Its SHA-256.
    pub decision_sha256: Option<String>,
    /// Fault class of an `indeterminate` refusal.
    pub fault_class: Option<FaultClass>,
    /// Engine info.
    pub engine: Option<EngineInfo>,
    /// Evaluation (dry-run) mode.
    pub evaluation_mode: bool,
    /// Repair details of a `ledger_repaired` receipt.
    pub repair: Option<Repair>,
}

impl Draft {
    /// A draft of kind `kind` with nothing else filled in.
    pub fn new(kind: Kind) -> Draft {
        Draft {
            kind,
            annotation: None,
            bundle: None,
            incident_id: None,
            components: Vec::new(),
            evidence_sha256: None,
            evidence: None,
            decision: None,
            decision_sha256: None,
            fault_class: None,
            engine: None,
            evaluation_mode: false,
            repair: None,
        }
    }

    /// The draft of a decision made by `runs` (in order) on `incident`.
    ///
    /// The final decision is the decision of the last run; the kind is `refused`
    /// when it is a refusal (including a fault's `indeterminate` refusal) and
    /// `evaluated` otherwise.
    ///
    /// # Panics
    /// When `runs` is empty.
    pub fn from_runs(
        incident: &andon_core::Incident,
        runs: &[RecordedRun],
        engine: EngineInfo,
        evaluation_mode: bool,
    ) -> Draft {
        let last = runs.last().expect("a decision needs at least one component run");
        let decision = last.decision.clone();
        let decision_sha256 = decision.sha256();
        Draft {
            annotation: None,
            bundle: None,
            kind: if decision.refusal().is_some() { Kind::Refused } else { Kind::Evaluated },
            incident_id: Some(incident.envelope.incident_id.clone()),
            components: runs.iter().map(|r| r.run.clone()).collect(),
            evidence_sha256: Some(incident.sha256.clone()),
            evidence: Some(incident.document.clone()),
            decision: Some(decision),
            decision_sha256: Some(decision_sha256),
            fault_class: last.fault.as_ref().map(|f| f.class),
            engine: Some(engine),
            evaluation_mode,
            repair: None,
        }
    }
}

/// A sealed receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Sequence number.
    pub seq: u64,
    /// Lowercase hex SHA-256 of `body_bytes`.
    pub hash: String,
    /// Lowercase hex HMAC-SHA256 of the ASCII `hash`.
    pub signature: String,
    /// RFC 8785 bytes of the body.
    pub body_bytes: Vec<u8>,
    /// RFC 8785 bytes of the whole receipt followed by `\n`: one ledger line.
    pub line: Vec<u8>,
}

fn check_numbers(body: &Body) -> Result<()> {
    // Field names are only formatted on failure: this runs for every receipt.
    fn check(value: u64, field: impl FnOnce() -> String) -> Result<()> {
        if value > MAX_SAFE_INTEGER { Err(ReceiptError::NumberTooLarge { field: field(), value }) } else { Ok(()) }
    }
    check(body.seq, || "seq".into())?;
    for (i, run) in body.components.iter().enumerate() {
        check(run.fuel_consumed, || format!("components[{i}].fuel_consumed"))?;
        check(run.limits.fuel, || format!("components[{i}].limits.fuel"))?;
        check(run.limits.memory_bytes, || format!("components[{i}].limits.memory_bytes"))?;
        check(run.limits.deadline_ms, || format!("components[{i}].limits.deadline_ms"))?;
        check(run.limits.max_output_bytes, || format!("components[{i}].limits.max_output_bytes"))?;
    }
    if let Some(repair) = &body.repair {
        check(repair.bytes_removed, || "repair.bytes_removed".into())?;
        check(repair.last_good_seq, || "repair.last_good_seq".into())?;
    }
    Ok(())
}

/// Seals `body` with `key`: canonicalizes it, hashes it, MACs the hash, and lays out
/// the ledger line.
///
/// The body is written by `canonical::write_body` (checked against the reference
/// canonicalizer in debug builds), and the line is produced by splicing `hash` and
/// `signature` into it at their sorted places (after `format` and after `seq`); a
/// test checks that the result equals the RFC 8785 form of the whole receipt.
///
/// # Errors
/// [`ReceiptError::NumberTooLarge`] when an integer exceeds 2^53, [`ReceiptError::Canonical`] when
/// serialization fails.
pub fn seal(body: &Body, key: &HmacKey) -> Result<Sealed> {
    check_numbers(body)?;
    let mut body_bytes = Vec::with_capacity(2048);
    let (after_format, after_seq) = canonical::write_body(&mut body_bytes, body);
    debug_assert_eq!(
        String::from_utf8_lossy(&body_bytes),
        String::from_utf8_lossy(&canonical_bytes_of(body).map_err(ReceiptError::Canonical)?),
        "the fast receipt writer disagrees with the reference RFC 8785 canonicalizer"
    );
    let hash = canonical::hex32(&sha2::Sha256::digest(&body_bytes).into());
    let signature = canonical::hex32(&key.mac(hash.as_bytes()));
    let mut line = Vec::with_capacity(body_bytes.len() + 160);
    line.extend_from_slice(&body_bytes[..after_format]);
    line.extend_from_slice(b",\"hash\":\"");
    line.extend_from_slice(hash.as_bytes());
    line.push(b'"');
    line.extend_from_slice(&body_bytes[after_format..after_seq]);
    line.extend_from_slice(b",\"signature\":\"");
    line.extend_from_slice(signature.as_bytes());
    line.push(b'"');
    line.extend_from_slice(&body_bytes[after_seq..]);
    line.push(b'\n');
    Ok(Sealed { seq: body.seq, hash, signature, body_bytes, line })
}

/// A stored receipt: the body plus `hash` and `signature`, as read back from a
/// ledger line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredReceipt {
    /// The body.
    #[serde(flatten)]
    pub body: Body,
    /// `hash`.
    pub hash: String,
    /// `signature`.
    pub signature: String,
}

impl StoredReceipt {
    /// Parses one ledger line (without checking anything but its shape).
    ///
    /// # Errors
    /// When the line is not a receipt of this format.
    pub fn parse(line: &[u8]) -> std::result::Result<StoredReceipt, serde_json::Error> {
        // `deny_unknown_fields` does not combine with `flatten`, so the body is read
        // from a map with `hash` and `signature` taken out.
        let mut map: serde_json::Map<String, Value> = serde_json::from_slice(line)?;
        let take = |map: &mut serde_json::Map<String, Value>, name: &str| match map.remove(name) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(serde::de::Error::custom(format_args!("`{name}` is missing or not a string"))),
        };
        let hash = take(&mut map, "hash")?;
        let signature = take(&mut map, "signature")?;
        let body = serde_json::from_value(Value::Object(map))?;
        Ok(StoredReceipt { body, hash, signature })
    }
}

/// The current host time as RFC 3339 UTC with milliseconds, e.g.
/// `2026-11-23T12:34:56.789Z`.
pub fn rfc3339_now() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(now.as_secs(), now.subsec_millis())
}

/// Formats seconds since the Unix epoch (and milliseconds) as RFC 3339 UTC.
pub fn rfc3339(secs: u64, millis: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (H. Hinnant's algorithm), valid for the whole u64 range we use.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_798_761_599, 999), "2026-12-31T23:59:59.999Z");
    }

    #[test]
    fn sealed_line_is_the_canonical_form_of_the_whole_receipt() {
        let key = HmacKey::from_bytes([1; 32]);
        let mut body = Body::empty(7, "ab".repeat(32), key.key_id().into(), rfc3339(1, 2));
        body.incident_id = Some("INC \"quoted\" \u{1F602}".into());
        body.incident_prev_hash = Some("cd".repeat(32));
        body.evidence = Some(serde_json::json!({"hash": "x", "signature": [1, 2.5], "z": {"a": null}}));
        body.repair =
            Some(Repair { bytes_removed: 3, last_good_seq: 6, removed_sha256: "00".repeat(32), reason: "torn".into() });
        let sealed = seal(&body, &key).unwrap();
        let mut whole = serde_json::to_value(&body).unwrap();
        whole["hash"] = sealed.hash.clone().into();
        whole["signature"] = sealed.signature.clone().into();
        let mut expected = andon_core::evidence::canonical_bytes(&whole);
        expected.push(b'\n');
        assert_eq!(String::from_utf8(sealed.line.clone()).unwrap(), String::from_utf8(expected).unwrap());
        let back = StoredReceipt::parse(&sealed.line).unwrap();
        assert_eq!(back.body, body);
        assert_eq!(back.hash, sealed.hash);
    }

    #[test]
    fn numbers_beyond_2_53_are_refused() {
        let key = HmacKey::from_bytes([1; 32]);
        let body = Body::empty(MAX_SAFE_INTEGER + 1, ZERO_HASH.into(), key.key_id().into(), rfc3339(0, 0));
        assert!(matches!(seal(&body, &key), Err(ReceiptError::NumberTooLarge { .. })));
    }
}
