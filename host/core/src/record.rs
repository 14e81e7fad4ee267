//! What one component run leaves on the record: its outcome, its hashes, the limits
//! it ran under, and, when the guest faulted, the `indeterminate` refusal that
//! stands for the fault. Plain data (no engine), so the receipt format can carry
//! it without depending on wasmtime.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decision::{Check, Decision};
use crate::errors::FaultClass;
use crate::limits::Limits;
use crate::world::World;

/// Policy reference of refusals caused by guest faults (see [`crate::refusal`]).
pub const FAULT_POLICY: &str = crate::refusal::GUEST_FAULT.policy;
/// Refusal reason of refusals caused by guest faults.
pub const INDETERMINATE: &str = crate::refusal::GUEST_FAULT.reason;
/// Next lawful step of refusals caused by guest faults.
pub const FAULT_NEXT_STEP: &str = crate::refusal::GUEST_FAULT.next_lawful_step;
/// How one component run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// A gate passed.
    Pass,
    /// A recipe planned.
    Plan,
    /// The component refused.
    Refused,
    /// The component faulted (see `fault_class`).
    Fault,
}

impl RunOutcome {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Pass => "pass",
            RunOutcome::Plan => "plan",
            RunOutcome::Refused => "refused",
            RunOutcome::Fault => "fault",
        }
    }
}

/// One component run inside a receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentRun {
    /// Component id (bundle id, or the file stem for `andon eval`).
    pub id: String,
    /// `gate` or `recipe`; null when the component could not be loaded.
    pub role: Option<World>,
    /// SHA-256 of the component bytes; the key into the content-addressed store.
    pub sha256: String,
    /// Fuel consumed.
    pub fuel_consumed: u64,
    /// The limits it ran under (replay uses the same).
    pub limits: Limits,
    /// The settings handed to the guest, as JSON (`{}` when none).
    pub settings: Value,
    /// SHA-256 of the RFC 8785 bytes of the component's decision; null on a fault.
    pub output_sha256: Option<String>,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The fault class when `outcome` is `fault`.
    pub fault_class: Option<FaultClass>,
}

/// Engine and host versions and the engine config digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineInfo {
    /// Wasmtime version.
    pub wasmtime: String,
    /// Andon host version.
    pub host: String,
    /// SHA-256 of the RFC 8785 engine settings.
    pub config_digest: String,
}

/// A guest fault, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Its class.
    pub class: FaultClass,
    /// The error message.
    pub message: String,
}

/// The refusal that stands for a guest fault: reason `indeterminate`, one failed
/// check named `guest_fault:<class>` carrying the message, the next lawful step and
/// the `ANDON-FAULT-CONTAINMENT` policy reference.
pub fn fault_refusal(class: FaultClass, message: &str) -> Decision {
    let check = Check { name: format!("guest_fault:{class}"), passed: false, detail: message.into() };
    Decision::Refused { refusal: crate::refusal::GUEST_FAULT.refusal(vec![check], Vec::new()) }
}

/// A component run with its recordable outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRun {
    /// What goes into the receipt's `components`.
    pub run: ComponentRun,
    /// The component's decision, or the `indeterminate` refusal of a fault.
    pub decision: Decision,
    /// The fault, if the run faulted.
    pub fault: Option<Fault>,
}
