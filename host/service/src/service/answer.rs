//! What callers hear back: receipt references and decisions.

use serde::Serialize;
use tokio::sync::oneshot;

use andon_core::decision::Decision;
use andon_ledger::ledger::Appended;
use andon_ledger::receipt::{Kind, StoredReceipt};

/// A receipt reference returned to clients.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReceiptRef {
    /// Ledger sequence number.
    pub seq: u64,
    /// Receipt hash.
    pub hash: String,
    /// Receipt kind.
    pub kind: String,
    /// Resource URI of the receipt (`andon://receipts/<seq>`).
    pub uri: String,
}

impl ReceiptRef {
    /// The reference of a stored receipt.
    pub fn of(receipt: &StoredReceipt) -> ReceiptRef {
        ReceiptRef {
            seq: receipt.body.seq,
            hash: receipt.hash.clone(),
            kind: receipt.body.kind.as_str().into(),
            uri: receipt_uri(receipt.body.seq),
        }
    }

    /// The reference of a receipt just appended (the append result does not
    /// carry the kind, so the caller names it).
    pub(super) fn new(appended: &Appended, kind: Kind) -> ReceiptRef {
        ReceiptRef {
            seq: appended.seq,
            hash: appended.hash.clone(),
            kind: kind.as_str().into(),
            uri: receipt_uri(appended.seq),
        }
    }
}

/// The resource URI of receipt `seq`.
pub fn receipt_uri(seq: u64) -> String {
    format!("andon://receipts/{seq}")
}

/// The answer to a submission.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Decided {
    /// Incident id.
    pub incident_id: String,
    /// `planned`, `refused` (a policy refusal) or `overloaded` (refused by capacity
    /// governance before evaluation; the same evidence may be submitted again).
    pub status: String,
    /// The decision: a plan, or a refusal with reason, checks, missing
    /// prerequisites, next lawful step and policy reference.
    pub decision: Decision,
    /// Where the pipeline stopped (`routing`, `ontology`, `gate:<id>`,
    /// `recipe:<id>`), or `governance`.
    pub stage: String,
    /// SHA-256 of the redacted canonical evidence.
    pub evidence_sha256: String,
    /// Severity.
    pub severity: String,
    /// The receipts written for this submission, in order.
    pub receipts: Vec<ReceiptRef>,
    /// Milliseconds from acceptance to the start of evaluation.
    pub queued_ms: f64,
    /// Milliseconds from acceptance to the durable decision.
    pub decision_ms: f64,
    /// Whether the decision deadline passed before the decision.
    pub sla_breached: bool,
    /// What intake redacted (`pointer (rule)`).
    pub redactions: Vec<String>,
}

/// What a submission turned into before its decision.
#[derive(Debug)]
pub enum Accepted {
    /// Queued; the decision arrives on the receiver.
    Queued(oneshot::Receiver<Result<Decided, String>>),
    /// Refused at once by capacity governance (already recorded).
    Overloaded(Box<Decided>),
}
