//! `andon-work`: the standard work around the engine and the ledger: signed bundles
//! and their archives, trust and rollback, the ontology gate, the decision pipeline
//! and golden cases, the incident lifecycle and its outputs, the kaizen report,
//! replay, export of evidence bundles and their offline audit.
//!
//! No tokio, axum or rmcp: the governed service (`andon-service`) builds on this.

#![deny(missing_docs)]

pub mod bundle;
pub mod demo;
pub mod export;
pub mod golden;
pub mod incident;
pub mod outputs;
pub mod pipeline;
pub mod replay;
pub mod report;
