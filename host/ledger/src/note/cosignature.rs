//! C2SP `tlog-cosignature` (v1, Ed25519): a witness's timestamped statement that a
//! checkpoint is the largest consistent tree head it has seen of that log.
//!
//! - key id: the first 4 bytes of `SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)`;
//! - signature bytes of the note line: `key id ‖ u64 timestamp (big-endian) ‖ Ed25519 signature`;
//! - signed message: `cosignature/v1\n` `time <timestamp>\n` and the checkpoint's
//!   whole note text (final `\n` included, signature lines excluded);
//! - verifier key: `<name>+<8 hex key id>+<base64(0x04 ‖ public key)>`.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::{Note, NoteError, NoteSignature, Result, encode_base64, is_key_name};

/// Signature type of Ed25519 cosignatures (cosignature/v1).
pub const COSIGNATURE_TYPE: u8 = 0x04;
/// Header line of the cosigned message.
pub const COSIGNATURE_HEADER: &str = "cosignature/v1";

fn cosigner_key_id(name: &str, key: &VerifyingKey) -> u32 {
    super::typed_key_id(name, COSIGNATURE_TYPE, key)
}

fn message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("{COSIGNATURE_HEADER}\ntime {timestamp}\n{text}").into_bytes()
}

/// A witness that cosigns checkpoints.
pub struct Cosigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish()
    }
}

impl Cosigner {
    /// A cosigner named `name`.
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`].
    pub fn new(name: &str, key: SigningKey) -> Result<Cosigner> {
        if !is_key_name(name) {
            return Err(NoteError::BadKeyName(name.into()));
        }
        let key_id = cosigner_key_id(name, &key.verifying_key());
        Ok(Cosigner { name: name.into(), key, key_id })
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier { name: self.name.clone(), key_id: self.key_id, key: self.key.verifying_key() }
    }

    /// Adds this witness's cosignature at `timestamp` (POSIX seconds) to `note`,
    /// replacing an earlier one of this witness.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when the timestamp is beyond 2^63 − 1.
    pub fn cosign(&self, note: &mut Note, timestamp: u64) -> Result<()> {
        if timestamp > i64::MAX as u64 {
            return Err(NoteError::Malformed("a cosignature timestamp is beyond 2^63 - 1".into()));
        }
        let signature = self.key.sign(&message(timestamp, note.text())).to_bytes();
        let mut raw = timestamp.to_be_bytes().to_vec();
        raw.extend_from_slice(&signature);
        note.add_signature(NoteSignature { name: self.name.clone(), key_id: self.key_id, signature: raw })
    }
}

/// Checks the cosignatures of one witness. Its `Display` form is the verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![COSIGNATURE_TYPE];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, encode_base64(&raw))
    }
}

impl CosignatureVerifier {
    /// Parses a witness verifier key `<name>+<8 hex>+<base64(0x04 ‖ key)>`.
    ///
    /// # Errors
    /// [`NoteError::BadVerifierKey`].
    pub fn parse(vkey: &str) -> Result<CosignatureVerifier> {
        let (name, key_id, key) = super::parse_vkey(vkey, COSIGNATURE_TYPE, "witness key: ")?;
        Ok(CosignatureVerifier { name, key_id, key })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This witness's cosignature line of `note`, when it has one that verifies.
    ///
    /// # Errors
    /// [`NoteError::BadSignature`] when a signature line of this witness does not verify.
    pub fn cosignature_of<'n>(&self, note: &'n Note) -> Result<Option<&'n NoteSignature>> {
        self.verify(note)?;
        Ok(note.signatures().iter().find(|s| s.name == self.name && s.key_id == self.key_id))
    }

    /// The timestamp of this witness's valid cosignature of `note`, if it has one.
    ///
    /// # Errors
    /// [`NoteError::BadSignature`] when a signature line of this witness does not verify.
    pub fn verify(&self, note: &Note) -> Result<Option<u64>> {
        let mut found = None;
        for signature in note.signatures().iter().filter(|s| s.name == self.name && s.key_id == self.key_id) {
            let bad = || NoteError::BadSignature { name: self.name.clone(), key_id: self.key_id };
            let raw: &[u8; 72] = signature.signature.as_slice().try_into().map_err(|_| bad())?;
            let timestamp = u64::from_be_bytes(raw[..8].try_into().expect("8 bytes"));
            let sig = Signature::from_bytes(raw[8..].try_into().expect("64 bytes"));
            if timestamp > i64::MAX as u64 || self.key.verify_strict(&message(timestamp, note.text()), &sig).is_err() {
                return Err(bad());
            }
            found = Some(timestamp);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{LogCheckpoint, NoteSigner};

    #[test]
    fn a_cosignature_verifies_survives_a_round_trip_and_fails_on_any_change() {
        let log = NoteSigner::new("andon.example/ledger-demo", SigningKey::from_bytes(&[9; 32])).unwrap();
        let mut note = LogCheckpoint::new("andon.example/ledger-demo", 3, [7; 32]).sign(&log).unwrap();
        let witness = Cosigner::new("witness.example/w1", SigningKey::from_bytes(&[5; 32])).unwrap();
        witness.cosign(&mut note, 1_700_000_000).unwrap();
        let vkey = CosignatureVerifier::parse(&witness.verifier().to_string()).unwrap();
        let parsed = Note::parse(&note.to_bytes()).unwrap();
        assert_eq!(vkey.verify(&parsed).unwrap(), Some(1_700_000_000));
        // The log's own verification ignores the cosignature (another key id).
        parsed.verify(&[log.verifier()]).unwrap();
        // Another note text: the cosignature no longer verifies.
        let other = LogCheckpoint::new("andon.example/ledger-demo", 4, [7; 32]).sign(&log).unwrap();
        let mut moved = other.clone();
        moved.add_signature(parsed.signatures()[1].clone()).unwrap();
        assert!(matches!(vkey.verify(&moved), Err(NoteError::BadSignature { .. })));
        // Another witness's key: not counted.
        let stranger = Cosigner::new("witness.example/w2", SigningKey::from_bytes(&[6; 32])).unwrap().verifier();
        assert_eq!(stranger.verify(&parsed).unwrap(), None);
        // A log key string is not a witness key.
        assert!(CosignatureVerifier::parse(&log.verifier().to_string()).is_err());
    }
}
