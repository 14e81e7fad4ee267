//! The Andon host library: runs sandboxed, content-hashed WebAssembly policy gates
//! and remediation recipes deterministically and returns everything a receipt needs
//! to prove which exact binary ran on which evidence with which result.
//!
//! The library never prints; the `andon` binary is a thin shell over it.
//!
//! # Example
//!
//! ```
//! use andon_host::{AndonEngine, GuestRequest, Incident, Limits, LoadedComponent};
//!
//! let engine = AndonEngine::new()?;
//! let bytes = andon_recipes::shipped("approval-threshold").unwrap().bytes;
//! let gate = LoadedComponent::load(&engine, bytes)?;
//! let incident = Incident::from_bytes(br#"{
//!     "incident_id": "INC-1", "kind": "approval_request", "severity": "high",
//!     "evidence": {"request": {"amount": 1200000, "currency": "USD", "threshold": 1000000},
//!                  "authorities": {"cfo_available": false, "board_available": true}}
//! }"#, andon_host::evidence::DEFAULT_MAX_EVIDENCE_BYTES)?;
//! let evaluation = gate.evaluate(&engine, &GuestRequest::from_incident(&incident), &Limits::default())?;
//! assert_eq!(evaluation.decision.outcome(), "pass");
//! assert_eq!(evaluation.component_sha256, andon_host::evidence::sha256_hex(bytes));
//! # Ok::<(), andon_host::Error>(())
//! ```

pub mod bindings;
pub mod bundle;
pub mod cache;
pub mod checkpoint;
pub mod component;
pub mod decision;
pub mod engine;
pub mod errors;
pub mod eval;
pub mod evidence;
pub mod export;
pub mod incident;
pub mod keys;
pub mod ledger;
pub mod mcp;
pub mod outputs;
pub mod pipeline;
pub mod receipt;
pub mod redact;
pub mod replay;
pub mod report;
pub mod service;
pub mod store;

pub use component::{ComponentInfo, LoadedComponent, World};
pub use decision::Decision;
pub use engine::{AndonEngine, EngineOptions};
pub use errors::{Error, FaultClass, Result};
pub use eval::{Evaluation, GuestRequest, Limits};
pub use evidence::{Incident, Severity};
