//! `andon-core`: runs sandboxed, content-hashed WebAssembly policy gates and
//! remediation recipes deterministically, and returns everything a receipt needs to
//! prove which exact binary ran on which evidence with which result.
//!
//! Holds the engine, component loading and import refusal, limits, evaluation, the
//! recorded run, decisions and their one canonical hash, evidence intake and
//! redaction, the compiled-code cache, and the RFC 8785 writer. No tokio, no ledger.
//!
//! Without the default `engine` feature only the plain data (decisions, records,
//! limits, intake, canonical JSON) is built, with no wasmtime: that is what the
//! receipt format and an auditor's verifier (`andon-ledger`) depend on.
//!
//! The library never prints.
//!
//! # Example
//!
//! ```
//! use andon_core::{AndonEngine, GuestRequest, Incident, Limits, LoadedComponent};
//!
//! let engine = AndonEngine::new()?;
//! let bytes = andon_recipes::shipped("approval-threshold").unwrap().bytes;
//! let gate = LoadedComponent::load(&engine, bytes)?;
//! let incident = Incident::from_bytes(br#"{
//!     "incident_id": "INC-1", "kind": "approval_request", "severity": "high",
//!     "evidence": {"request": {"amount": 1200000, "currency": "USD", "threshold": 1000000},
//!                  "authorities": {"cfo_available": false, "board_available": true}}
//! }"#, andon_core::evidence::DEFAULT_MAX_EVIDENCE_BYTES)?;
//! let evaluation = gate.evaluate(&engine, &GuestRequest::from_incident(&incident), &Limits::default())?;
//! assert_eq!(evaluation.decision.outcome(), "pass");
//! assert_eq!(evaluation.component_sha256, andon_core::evidence::sha256_hex(bytes));
//! # Ok::<(), andon_core::Error>(())
//! ```

#![deny(missing_docs)]

#[cfg(feature = "engine")]
pub mod bindings;
#[cfg(feature = "engine")]
pub mod cache;
pub mod canonical;
#[cfg(feature = "engine")]
pub mod component;
pub mod decision;
#[cfg(feature = "engine")]
pub mod engine;
pub mod errors;
#[cfg(feature = "engine")]
pub mod eval;
pub mod evidence;
pub mod limits;
pub mod record;
pub mod redact;
pub mod refusal;
#[cfg(feature = "engine")]
pub mod run;
#[cfg(feature = "engine")]
mod state;
pub mod world;

#[cfg(feature = "engine")]
pub use component::{ComponentInfo, LoadedComponent};
pub use decision::Decision;
#[cfg(feature = "engine")]
pub use engine::{AndonEngine, EngineOptions};
pub use errors::{Error, FaultClass, Result};
#[cfg(feature = "engine")]
pub use eval::{Evaluation, GuestRequest};
pub use evidence::{Incident, Severity};
pub use limits::{Limits, MAX_COMPONENT_BYTES};
pub use record::RecordedRun;
pub use world::World;
