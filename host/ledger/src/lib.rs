//! `andon-ledger`: the receipt format and the crash-safe, hash-chained ledger an
//! auditor verifies: receipts (RFC 8785, HMAC-signed), the append-only ledger with
//! group commit and torn-tail repair, scanning and verification, signed checkpoints,
//! the content-addressed component store and the keys.
//!
//! It does not depend on wasmtime: a verifier builds without the engine.
//!
//! # Example
//!
//! ```
//! use andon_ledger::keys::HmacKey;
//! use andon_ledger::receipt::{self, Body, Kind};
//!
//! let key = HmacKey::from_bytes([7; 32]);
//! let body = Body {
//!     kind: Kind::Reported,
//!     incident_id: Some("INC-1".into()),
//!     ..Body::empty(1, receipt::ZERO_HASH.into(), key.key_id().into(), "2026-01-01T00:00:00.000Z".into())
//! };
//! let sealed = receipt::seal(&body, &key)?;
//! assert_eq!(sealed.hash, andon_core::evidence::sha256_hex(&sealed.body_bytes));
//! # Ok::<(), andon_ledger::receipt::ReceiptError>(())
//! ```

#![deny(missing_docs)]

pub mod checkpoint;
pub mod keys;
pub mod ledger;
pub mod note;
pub mod receipt;
pub mod store;
pub mod tlog;

pub use ledger::Ledger;
