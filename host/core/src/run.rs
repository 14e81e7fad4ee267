//! One component run that always ends in something recordable: the component's
//! decision, or, when the guest faults (or cannot be loaded), a refusal with reason
//! `indeterminate` naming the fault class. Never a plan from a faulted run.

use serde_json::Value;

use crate::component::LoadedComponent;
use crate::decision::Decision;
use crate::engine::AndonEngine;
use crate::errors::{FaultClass, Result};
use crate::eval::GuestRequest;
use crate::evidence::sha256_hex;
use crate::limits::Limits;
use crate::record::{ComponentRun, EngineInfo, Fault, RecordedRun, RunOutcome, fault_refusal};

fn settings_value(request: &GuestRequest) -> Value {
    serde_json::from_str(&request.settings_json).expect("settings text is canonical JSON")
}

/// Loads `bytes` and evaluates them on `request`; load refusals and guest faults
/// become `indeterminate` refusals.
///
/// # Errors
/// Only errors that are not the component's fault ([`crate::Error::Engine`], I/O, input):
/// those must not be recorded as decisions.
pub fn evaluate_bytes(
    engine: &AndonEngine,
    id: &str,
    bytes: &[u8],
    request: &GuestRequest,
    limits: &Limits,
) -> Result<RecordedRun> {
    match LoadedComponent::load(engine, bytes) {
        Ok(component) => evaluate_loaded(engine, id, &component, request, limits),
        Err(err) => match err.fault_class() {
            Some(class) => Ok(faulted(id, None, sha256_hex(bytes), request, limits, class, err.to_string(), 0)),
            None => Err(err),
        },
    }
}

/// Evaluates a loaded component on `request`; guest faults become `indeterminate`
/// refusals.
///
/// # Errors
/// As [`evaluate_bytes`].
pub fn evaluate_loaded(
    engine: &AndonEngine,
    id: &str,
    component: &LoadedComponent,
    request: &GuestRequest,
    limits: &Limits,
) -> Result<RecordedRun> {
    match component.evaluate(engine, request, limits) {
        Ok(evaluation) => {
            let outcome = match &evaluation.decision {
                Decision::Pass { .. } => RunOutcome::Pass,
                Decision::Plan { .. } => RunOutcome::Plan,
                Decision::Refused { .. } => RunOutcome::Refused,
            };
            Ok(RecordedRun {
                run: ComponentRun {
                    id: id.into(),
                    role: Some(component.world()),
                    sha256: evaluation.component_sha256,
                    fuel_consumed: evaluation.fuel_consumed,
                    limits: *limits,
                    settings: settings_value(request),
                    output_sha256: Some(evaluation.output_sha256),
                    outcome,
                    fault_class: None,
                },
                decision: evaluation.decision,
                fault: None,
            })
        }
        Err(err) => match err.fault_class() {
            Some(class) => Ok(faulted(
                id,
                Some(component.world()),
                component.sha256().into(),
                request,
                limits,
                class,
                err.to_string(),
                err.fuel_consumed(),
            )),
            None => Err(err),
        },
    }
}

#[expect(clippy::too_many_arguments, reason = "a private constructor of one record")]
fn faulted(
    id: &str,
    role: Option<crate::world::World>,
    sha256: String,
    request: &GuestRequest,
    limits: &Limits,
    class: FaultClass,
    message: String,
    fuel_consumed: u64,
) -> RecordedRun {
    RecordedRun {
        run: ComponentRun {
            id: id.into(),
            role,
            sha256,
            fuel_consumed,
            limits: *limits,
            settings: settings_value(request),
            output_sha256: None,
            outcome: RunOutcome::Fault,
            fault_class: Some(class),
        },
        decision: fault_refusal(class, &message),
        fault: Some(Fault { class, message }),
    }
}

impl EngineInfo {
    /// The versions and digest of `engine`.
    pub fn of(engine: &AndonEngine) -> EngineInfo {
        EngineInfo {
            wasmtime: engine.settings().wasmtime.clone(),
            host: crate::engine::HOST_VERSION.into(),
            config_digest: engine.config_digest().into(),
        }
    }
}
