//! Checkpoints: Ed25519-signed statements "the ledger's receipt `seq` has hash
//! `head_hash`", which let a third party holding only the public key verify a ledger
//! and detect truncation or rollback below a checkpoint it kept.
//!
//! A checkpoint is one RFC 8785 object (one line of `checkpoints.jsonl`):
//! `{"format":"andon.checkpoint/1","head_hash":…,"key_id":…,"seq":…,"signature":…,"timestamp":…}`.
//! `signature` is the lowercase hex Ed25519 signature (64 bytes) of the RFC 8785
//! bytes of the object without `signature`. See `docs/ledger.md`.
//!
//! # Example
//!
//! ```
//! use andon_ledger::checkpoint::Checkpoint;
//!
//! let signing = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
//! let id = andon_ledger::keys::ed25519_key_id(&signing.verifying_key());
//! let checkpoint = Checkpoint::sign(3, "ab".repeat(32), &id, &signing);
//! checkpoint.verify(&id, &signing.verifying_key())?;
//! let line = checkpoint.to_line();
//! assert_eq!(Checkpoint::parse(&line)?, checkpoint);
//! # Ok::<(), andon_ledger::checkpoint::CheckpointError>(())
//! ```

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use andon_core::evidence::canonical_bytes_of;

/// Format tag of checkpoints.
pub const FORMAT: &str = "andon.checkpoint/1";
/// Most bytes of a held checkpoint file read (`andon verify --checkpoint`).
pub const MAX_CHECKPOINT_BYTES: usize = 64 << 10;

/// Why a checkpoint is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not a checkpoint object.
    #[error("not a checkpoint: {0}")]
    Malformed(String),
    /// Signed by another key than the one given.
    #[error("checkpoint at seq {seq} was signed by key `{found}`, not by the given public key `{expected}`")]
    WrongKey {
        /// Checkpoint seq.
        seq: u64,
        /// Its key id.
        found: String,
        /// The given key's id.
        expected: String,
    },
    /// The signature does not verify.
    #[error("checkpoint at seq {seq} has a bad signature")]
    BadSignature {
        /// Checkpoint seq.
        seq: u64,
    },
}

/// A signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// [`FORMAT`].
    pub format: String,
    /// Sequence number of the last receipt covered (0 for an empty ledger).
    pub seq: u64,
    /// `hash` of that receipt ([`crate::receipt::ZERO_HASH`] when `seq` is 0).
    pub head_hash: String,
    /// Host time, RFC 3339 UTC, informational.
    pub timestamp: String,
    /// Id of the Ed25519 key that signed it.
    pub key_id: String,
    /// Lowercase hex Ed25519 signature of the RFC 8785 body (all other members).
    pub signature: String,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    format: &'a str,
    seq: u64,
    head_hash: &'a str,
    timestamp: &'a str,
    key_id: &'a str,
}

impl Checkpoint {
    /// Signs a checkpoint of `seq`/`head_hash` now.
    pub fn sign(seq: u64, head_hash: String, key_id: &str, key: &SigningKey) -> Checkpoint {
        let timestamp = crate::receipt::rfc3339_now();
        let mut checkpoint = Checkpoint {
            format: FORMAT.into(),
            seq,
            head_hash,
            timestamp,
            key_id: key_id.into(),
            signature: String::new(),
        };
        checkpoint.signature = hex::encode(key.sign(&checkpoint.body_bytes()).to_bytes());
        checkpoint
    }

    /// RFC 8785 bytes of the signed body (everything but `signature`).
    pub fn body_bytes(&self) -> Vec<u8> {
        canonical_bytes_of(&BodyRef {
            format: &self.format,
            seq: self.seq,
            head_hash: &self.head_hash,
            timestamp: &self.timestamp,
            key_id: &self.key_id,
        })
        .expect("checkpoint bodies serialize")
    }

    /// Checks the format, the key id and the signature (strict Ed25519 verification).
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`], [`CheckpointError::WrongKey`] or [`CheckpointError::BadSignature`].
    pub fn verify(&self, key_id: &str, key: &VerifyingKey) -> Result<(), CheckpointError> {
        if self.format != FORMAT {
            return Err(CheckpointError::Malformed(format!("format is `{}`, expected `{FORMAT}`", self.format)));
        }
        if self.key_id != key_id {
            return Err(CheckpointError::WrongKey {
                seq: self.seq,
                found: self.key_id.clone(),
                expected: key_id.into(),
            });
        }
        let mut raw = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut raw).map_err(|_| CheckpointError::BadSignature { seq: self.seq })?;
        key.verify_strict(&self.body_bytes(), &Signature::from_bytes(&raw))
            .map_err(|_| CheckpointError::BadSignature { seq: self.seq })
    }

    /// The RFC 8785 line (with `\n`) as stored in `checkpoints.jsonl`.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = canonical_bytes_of(self).expect("checkpoints serialize");
        line.push(b'\n');
        line
    }

    /// Parses a checkpoint (one line, or a file holding one checkpoint object).
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`].
    pub fn parse(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let checkpoint: Checkpoint =
            serde_json::from_slice(bytes).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        if checkpoint.seq > crate::receipt::MAX_SAFE_INTEGER {
            return Err(CheckpointError::Malformed("seq is beyond 2^53".into()));
        }
        Ok(checkpoint)
    }
}
