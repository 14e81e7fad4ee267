//! Evaluating a loaded component: a fresh store and instance per call, fuel and
//! memory limits, a wall-clock backstop and an output cap.

use wasmtime::{Store, Trap};

use crate::bindings::wit;
use crate::component::{LoadedComponent, Pre};
use crate::decision::Decision;
use crate::engine::{AndonEngine, EPOCH_TICK};
use crate::errors::{Error, Result};
use crate::evidence::{Envelope, Incident, Severity, sha256_hex};
use crate::limits::Limits;
use crate::state::{Limiter, StoreState};
use crate::world::World;

/// What a guest is asked to judge: the envelope, the canonical evidence text and the
/// canonical settings text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRequest {
    /// The typed envelope.
    pub envelope: Envelope,
    /// RFC 8785 text of the evidence object.
    pub evidence_json: String,
    /// RFC 8785 text of the route settings (`{}` when none).
    pub settings_json: String,
}

impl GuestRequest {
    /// The request for `incident` with no settings.
    pub fn from_incident(incident: &Incident) -> GuestRequest {
        GuestRequest {
            envelope: incident.envelope.clone(),
            evidence_json: incident.evidence_json.clone(),
            settings_json: "{}".into(),
        }
    }

    /// Replaces the settings with the RFC 8785 text of `settings`.
    pub fn with_settings(mut self, settings: &serde_json::Value) -> GuestRequest {
        self.settings_json =
            String::from_utf8(crate::evidence::canonical_bytes(settings)).expect("canonical JSON is UTF-8");
        self
    }

    fn to_wit(&self) -> wit::Request {
        wit::Request {
            envelope: wit::Envelope {
                incident_id: self.envelope.incident_id.clone(),
                kind: self.envelope.kind.clone(),
                severity: match self.envelope.severity {
                    Severity::Low => wit::Severity::Low,
                    Severity::Medium => wit::Severity::Medium,
                    Severity::High => wit::Severity::High,
                    Severity::Critical => wit::Severity::Critical,
                },
            },
            evidence: self.evidence_json.clone(),
            settings: self.settings_json.clone(),
        }
    }
}

/// The result of one successful evaluation: everything a receipt needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// SHA-256 of the component bytes that ran.
    pub component_sha256: String,
    /// Its world.
    pub world: World,
    /// The decision.
    pub decision: Decision,
    /// RFC 8785 bytes of `decision`.
    pub output: Vec<u8>,
    /// SHA-256 of `output`.
    pub output_sha256: String,
    /// Fuel consumed.
    pub fuel_consumed: u64,
    /// The limits it ran under.
    pub limits: Limits,
}

impl LoadedComponent {
    /// Evaluates the component on `request` in a fresh store and instance.
    ///
    /// # Errors
    /// A guest fault ([`Error::Trap`], [`Error::OutOfFuel`], [`Error::OutOfMemory`],
    /// [`Error::StackOverflow`], [`Error::Deadline`], [`Error::OutputTooLarge`]) or
    /// [`Error::Engine`]. A refusal is not an error: it is a [`Decision`].
    pub fn evaluate(&self, engine: &AndonEngine, request: &GuestRequest, limits: &Limits) -> Result<Evaluation> {
        let memory_limit = usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX);
        let mut store = Store::new(engine.wasmtime(), StoreState { limiter: Limiter { memory_limit, denied: None } });
        store.limiter(|state| &mut state.limiter);
        store.set_fuel(limits.fuel).map_err(|e| Error::Engine(format!("{e:#}")))?;
        let ticks = limits.deadline_ms.div_ceil(EPOCH_TICK.as_millis() as u64).max(1);
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let wit_request = request.to_wit();
        let result: wasmtime::Result<Decision> = match &self.pre {
            Pre::Gate(pre) => pre.instantiate(&mut store).and_then(|gate| {
                gate.andon_policy_policy_gate().call_check(&mut store, &wit_request).map(Decision::from)
            }),
            Pre::Recipe(pre) => pre.instantiate(&mut store).and_then(|recipe| {
                recipe.andon_policy_remediation_recipe().call_plan(&mut store, &wit_request).map(Decision::from)
            }),
        };
        let remaining = store.get_fuel().unwrap_or(0);
        let fuel_consumed = limits.fuel.saturating_sub(remaining);
        let decision = match result {
            Ok(decision) => decision,
            Err(err) => return Err(classify(err, &store, limits, fuel_consumed)),
        };
        let output = decision.canonical_bytes();
        if output.len() as u64 > limits.max_output_bytes {
            return Err(Error::OutputTooLarge {
                size: output.len() as u64,
                limit: limits.max_output_bytes,
                fuel_consumed,
            });
        }
        Ok(Evaluation {
            component_sha256: self.sha256().to_string(),
            world: self.world(),
            output_sha256: sha256_hex(&output),
            decision,
            output,
            fuel_consumed,
            limits: *limits,
        })
    }
}

fn classify(err: wasmtime::Error, store: &Store<StoreState>, limits: &Limits, fuel_consumed: u64) -> Error {
    if let Some(requested) = store.data().limiter.denied {
        return Error::OutOfMemory {
            limit_bytes: limits.memory_bytes,
            requested_bytes: requested as u64,
            fuel_consumed,
        };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Error::OutOfFuel { limit: limits.fuel },
        Some(Trap::StackOverflow) => Error::StackOverflow { fuel_consumed },
        Some(Trap::Interrupt) => Error::Deadline { deadline_ms: limits.deadline_ms, fuel_consumed },
        Some(trap) => Error::Trap { message: trap.to_string(), fuel_consumed },
        None => Error::Trap { message: format!("{err:#}"), fuel_consumed },
    }
}
