//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 signatures,
//! `tlog-checkpoint` bodies (<https://c2sp.org/tlog-checkpoint>) and the proof files
//! built on them (specified byte for byte in `docs/log.md`).
//!
//! A note is a text (UTF-8, every line ending in `\n`), a blank line, and one or more
//! signature lines `— <key name> <base64(key id ‖ signature)>`. The key id is the
//! first 4 bytes of `SHA-256(key name ‖ "\n" ‖ 0x01 ‖ 32-byte Ed25519 public key)`;
//! a verifier key is written `<key name>+<8 hex key id>+<base64(0x01 ‖ public key)>`.
//!
//! Parsing is strict (a bounded size, no control characters, canonical base64, no
//! stray lines) and keeps every signature line, so cosignatures by witnesses
//! (C2SP `tlog-cosignature`) survive a round trip. Verification follows the spec: a
//! signature by a known key (same name *and* key id) must verify, signatures by
//! unknown keys are ignored, and at least one known key must have signed.
//!
//! # Example
//!
//! ```
//! use andon_ledger::note::{LogCheckpoint, Note, NoteSigner, NoteVerifier};
//!
//! let signer = NoteSigner::new("andon.example/ledger-demo", ed25519_dalek::SigningKey::from_bytes(&[9; 32]))?;
//! let vkey = signer.verifier().to_string();
//! let checkpoint = LogCheckpoint::new("andon.example/ledger-demo", 3, [7; 32]);
//! let note = checkpoint.sign(&signer)?;
//! let bytes = note.to_bytes();
//!
//! let verifier = NoteVerifier::parse(&vkey)?;
//! let (opened, _) = LogCheckpoint::open(&bytes, "andon.example/ledger-demo", &[verifier])?;
//! assert_eq!(opened, checkpoint);
//! # Ok::<(), andon_ledger::note::NoteError>(())
//! ```

mod checkpoint;
mod cosignature;
mod proof;

pub use checkpoint::LogCheckpoint;
pub use cosignature::{COSIGNATURE_HEADER, COSIGNATURE_TYPE, CosignatureVerifier, Cosigner};
pub use proof::{ConsistencyProof, MAX_PROOF_FILE_BYTES, TLOG_PROOF_HEADER, TlogProof};

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::tlog::TlogError;

/// Most bytes of a note accepted (room for 16 post-quantum cosignatures and more).
pub const MAX_NOTE_BYTES: usize = 256 << 10;
/// Most signature lines in a note (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// Signature type of Ed25519 note signatures.
pub const ED25519_TYPE: u8 = 0x01;
/// What starts a signature line: an em dash (U+2014) and a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Result alias of this module.
pub type Result<T, E = NoteError> = std::result::Result<T, E>;

/// Why a note, a checkpoint, a key or a proof file was refused.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    /// Not a well-formed signed note.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// Larger than the limit.
    #[error("{what} is larger than {max} bytes")]
    TooLarge {
        /// What was read.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// A key name that the spec forbids (empty, with a space or a `+`).
    #[error("`{0}` is not a key name (non-empty, no spaces, no `+`)")]
    BadKeyName(String),
    /// Not a well-formed Ed25519 verifier key.
    #[error("malformed verifier key: {0}")]
    BadVerifierKey(String),
    /// A signature by a known key does not verify.
    #[error("the signature by `{name}` (key id {key_id:08x}) does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// No known key signed the note.
    #[error("no signature by a trusted key ({trusted})")]
    Unverified {
        /// The trusted keys, `name+id`.
        trusted: String,
    },
    /// Not a well-formed checkpoint body.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// The checkpoint is of another log.
    #[error("the checkpoint's origin is `{found}`, expected `{expected}`")]
    WrongOrigin {
        /// The checkpoint's origin line.
        found: String,
        /// The expected origin.
        expected: String,
    },
    /// Not a well-formed proof file.
    #[error("malformed proof file: {0}")]
    MalformedProof(String),
    /// The proof does not prove what it claims.
    #[error("the proof does not verify")]
    Proof(#[source] TlogError),
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Reads a note, checkpoint or proof file of at most `max` bytes.
///
/// # Errors
/// [`NoteError::Io`] or [`NoteError::TooLarge`].
pub fn read_file(path: &Path, max: usize) -> Result<Vec<u8>> {
    let io = |source| NoteError::Io { path: path.to_path_buf(), source };
    // A FIFO or device would block or never end.
    if !std::fs::symlink_metadata(path).map_err(io)?.is_file() {
        return Err(io(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() > max {
        return Err(NoteError::TooLarge { what: "the file", max });
    }
    Ok(bytes)
}

/// Whether `name` is a key name: non-empty, no Unicode space, no `+`, no control character.
pub fn is_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// The key id of an Ed25519 key: the first 4 bytes, big-endian, of
/// `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    typed_key_id(name, ED25519_TYPE, key)
}

/// The key id of an Ed25519 key of signature type `kind` (0x01 note signatures,
/// 0x04 cosignatures): the first 4 bytes, big-endian, of
/// `SHA-256(name ‖ "\n" ‖ kind ‖ public key)`.
pub(crate) fn typed_key_id(name: &str, kind: u8, key: &VerifyingKey) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([kind]);
    hasher.update(key.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Parses a verifier key string `<name>+<8 hex key id>+<base64(kind ‖ 32-byte key)>`
/// strictly (lowercase hex id, canonical base64, signature type `kind`, a valid
/// Ed25519 key, the id matching name and key); `what` names the kind in errors.
///
/// # Errors
/// [`NoteError::BadVerifierKey`].
pub(crate) fn parse_vkey(vkey: &str, kind: u8, what: &str) -> Result<(String, u32, VerifyingKey)> {
    let bad = |why: &str| NoteError::BadVerifierKey(format!("{what}{why} (expected <name>+<8 hex>+<base64>)"));
    // The name has no `+`; the base64 key may.
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("not three parts"));
    };
    if !is_key_name(name) {
        return Err(bad("the key name is empty or has a space"));
    }
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(bad("the key id is not 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| bad("the key id is not hex"))?;
    let raw = decode_base64(key).ok_or_else(|| bad("the key is not canonical base64"))?;
    let Some((&found, public)) = raw.split_first().filter(|(k, _)| **k == kind) else {
        return Err(bad(&format!("the key is not of type 0x{kind:02x}")));
    };
    let public: [u8; 32] = public.try_into().map_err(|_| bad("an Ed25519 key has 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 public key"))?;
    let derived = typed_key_id(name, found, &key);
    if derived != id {
        return Err(bad(&format!("the key id {id:08x} does not match the key (it is {derived:08x})")));
    }
    Ok((name.to_string(), id, key))
}

/// Strict standard base64 (RFC 4648 §4, padded, no stray bits).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = BASE64.decode(text).ok()?;
    // The decoder accepts only canonical input, but make the round trip explicit.
    (BASE64.encode(&bytes) == text).then_some(bytes)
}

/// Standard base64 with padding.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Checks that `text` may be signed: non-empty UTF-8 ending in `\n`, no control
/// character but `\n`.
fn check_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text does not end with a newline".into()));
    }
    if let Some(c) = text.chars().find(|&c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(format!("the text holds the control character U+{:04X}", c as u32)));
    }
    Ok(())
}

/// One signature line of a note: `— <name> <base64(key id ‖ signature)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id (the first 4 bytes of the decoded base64, big-endian).
    pub key_id: u32,
    /// The signature bytes after the key id (64 for Ed25519).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, with its `\n`.
    pub fn line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, encode_base64(&raw))
    }
}

/// An Ed25519 note signer: a key name and a signing key.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish()
    }
}

impl NoteSigner {
    /// A signer named `name` (checked with [`is_key_name`]).
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`].
    pub fn new(name: &str, key: SigningKey) -> Result<NoteSigner> {
        if !is_key_name(name) {
            return Err(NoteError::BadKeyName(name.into()));
        }
        let key_id = key_id(name, &key.verifying_key());
        Ok(NoteSigner { name: name.into(), key, key_id })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier { name: self.name.clone(), key_id: self.key_id, key: self.key.verifying_key() }
    }

    /// Signs `text` (Ed25519, RFC 8032, over the text bytes including the final `\n`).
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when the text may not be signed.
    pub fn sign(&self, text: &str) -> Result<NoteSignature> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes()).to_bytes().to_vec();
        Ok(NoteSignature { name: self.name.clone(), key_id: self.key_id, signature })
    }
}

/// An Ed25519 note verifier: key name, key id and public key. Its `Display` form is
/// the verifier key string `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ED25519_TYPE];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, encode_base64(&raw))
    }
}

impl NoteVerifier {
    /// The verifier of `key` under `name`.
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`].
    pub fn new(name: &str, key: VerifyingKey) -> Result<NoteVerifier> {
        if !is_key_name(name) {
            return Err(NoteError::BadKeyName(name.into()));
        }
        Ok(NoteVerifier { name: name.into(), key_id: key_id(name, &key), key })
    }

    /// Parses a verifier key string (strictly: lowercase hex id, canonical base64,
    /// type 0x01, a valid 32-byte Ed25519 key, the id matching name and key).
    ///
    /// # Errors
    /// [`NoteError::BadVerifierKey`].
    pub fn parse(vkey: &str) -> Result<NoteVerifier> {
        let (name, key_id, key) = parse_vkey(vkey, ED25519_TYPE, "")?;
        Ok(NoteVerifier { name, key_id, key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether `signature` is this key's signature of `text` (strict RFC 8032 verification).
    pub fn verifies(&self, text: &str, signature: &NoteSignature) -> bool {
        signature.name == self.name
            && signature.key_id == self.key_id
            && <[u8; 64]>::try_from(signature.signature.as_slice())
                .is_ok_and(|raw| self.key.verify_strict(text.as_bytes(), &Signature::from_bytes(&raw)).is_ok())
    }
}

/// A signed note: the text and its signature lines, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// The note of `text` signed by `signer`.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when the text may not be signed.
    pub fn signed(text: &str, signer: &NoteSigner) -> Result<Note> {
        let signature = signer.sign(text)?;
        Ok(Note { text: text.into(), signatures: vec![signature] })
    }

    /// The text, with its final `\n` (what the signatures sign).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every signature line, known or not, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds the signature of `signer`, replacing an earlier one by the same key.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when the note already has [`MAX_SIGNATURES`].
    pub fn sign(&mut self, signer: &NoteSigner) -> Result<()> {
        self.add_signature(signer.sign(&self.text)?)
    }

    /// Adds a signature line made elsewhere (a witness's cosignature), replacing an
    /// earlier one by the same key name and id. It is not verified here.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] for a bad key name, an empty signature or a note that
    /// already has [`MAX_SIGNATURES`].
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<()> {
        if !is_key_name(&signature.name) || signature.signature.is_empty() {
            return Err(NoteError::Malformed("a signature needs a key name and bytes".into()));
        }
        self.signatures.retain(|s| (s.name.as_str(), s.key_id) != (signature.name.as_str(), signature.key_id));
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::Malformed(format!("more than {MAX_SIGNATURES} signatures")));
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// The note's bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone().into_bytes();
        out.push(b'\n');
        for signature in &self.signatures {
            out.extend_from_slice(signature.line().as_bytes());
        }
        out
    }

    /// Parses a note without verifying it.
    ///
    /// # Errors
    /// [`NoteError::TooLarge`] or [`NoteError::Malformed`].
    pub fn parse(bytes: &[u8]) -> Result<Note> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge { what: "a note", max: MAX_NOTE_BYTES });
        }
        let malformed = |why: &str| NoteError::Malformed(why.into());
        let all = std::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8"))?;
        if let Some(c) = all.chars().find(|&c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed(format!("control character U+{:04X}", c as u32)));
        }
        // The text ends at the last blank line; the signature lines follow it.
        let split = all.rfind("\n\n").ok_or_else(|| malformed("no blank line before the signatures"))?;
        let (text, block) = (&all[..split + 1], &all[split + 2..]);
        if block.is_empty() {
            return Err(malformed("no signature lines"));
        }
        let Some(block) = block.strip_suffix('\n') else {
            return Err(malformed("the last signature line does not end with a newline"));
        };
        let mut signatures = Vec::new();
        for line in block.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::Malformed(format!("more than {MAX_SIGNATURES} signatures")));
            }
            let rest = line
                .strip_prefix(SIGNATURE_PREFIX)
                .ok_or_else(|| malformed("a signature line must start with `— `"))?;
            let (name, b64) =
                rest.split_once(' ').ok_or_else(|| malformed("a signature line needs a key name and a signature"))?;
            if !is_key_name(name) {
                return Err(NoteError::Malformed(format!("`{name}` is not a key name")));
            }
            let raw = decode_base64(b64).ok_or_else(|| malformed("a signature is not canonical base64"))?;
            if raw.len() < 5 {
                return Err(malformed("a signature is shorter than a key id and one byte"));
            }
            let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            signatures.push(NoteSignature { name: name.into(), key_id, signature: raw[4..].to_vec() });
        }
        Ok(Note { text: text.into(), signatures })
    }

    /// Verifies the note against trusted keys, as the spec says: every signature by a
    /// known key (same name and id) must verify, others are ignored, and at least one
    /// must be known. Returns the verified signatures.
    ///
    /// # Errors
    /// [`NoteError::BadSignature`] or [`NoteError::Unverified`].
    pub fn verify(&self, trusted: &[NoteVerifier]) -> Result<Vec<&NoteSignature>> {
        let mut verified = Vec::new();
        for signature in &self.signatures {
            let Some(verifier) = trusted.iter().find(|v| v.name == signature.name && v.key_id == signature.key_id)
            else {
                continue;
            };
            if !verifier.verifies(&self.text, signature) {
                return Err(NoteError::BadSignature { name: signature.name.clone(), key_id: signature.key_id });
            }
            verified.push(signature);
        }
        if verified.is_empty() {
            let trusted = trusted.iter().map(|v| format!("{}+{:08x}", v.name, v.key_id)).collect::<Vec<_>>();
            return Err(NoteError::Unverified { trusted: trusted.join(", ") });
        }
        Ok(verified)
    }

    /// A copy of `note` holding only the signatures of `verifier` (which must verify).
    pub fn signed_by(note: &Note, verifier: &NoteVerifier) -> Note {
        let signatures = note.signatures.iter().filter(|s| verifier.verifies(&note.text, s)).cloned().collect();
        Note { text: note.text.clone(), signatures }
    }

    /// Parses and verifies a note.
    ///
    /// # Errors
    /// As [`Note::parse`] and [`Note::verify`].
    pub fn open(bytes: &[u8], trusted: &[NoteVerifier]) -> Result<Note> {
        let note = Note::parse(bytes)?;
        note.verify(trusted)?;
        Ok(note)
    }
}

#[cfg(test)]
mod tests;
