//! Proof files: an inclusion proof as a C2SP `tlog-proof` (<https://c2sp.org/tlog-proof>,
//! a draft without a tagged version when this was written), and a consistency proof
//! in the body format of C2SP `tlog-witness`'s `add-checkpoint` request
//! (<https://c2sp.org/tlog-witness>), the form witnesses take it in.
//!
//! ```text
//! c2sp.org/tlog-proof@v1          old <old tree size>
//! [extra <base64>]                <base64 hash>...
//! index <leaf index>
//! <base64 hash>...                <new checkpoint note>
//!
//! <checkpoint note>
//! ```

use super::{LogCheckpoint, MAX_NOTE_BYTES, Note, NoteError, NoteVerifier, Result, decode_base64, encode_base64};
use crate::tlog::{self, Hash, MAX_PROOF_HASHES};

/// First line of an inclusion proof file.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most bytes of a proof file: a note and 63 hash lines, with room for `extra`.
pub const MAX_PROOF_FILE_BYTES: usize = MAX_NOTE_BYTES + (16 << 10);

fn bad(why: &str) -> NoteError {
    NoteError::MalformedProof(why.into())
}

/// Splits off the first line (without its `\n`).
fn next_line(rest: &str) -> Result<(&str, &str)> {
    rest.split_once('\n').ok_or_else(|| bad("a line does not end with a newline"))
}

/// A decimal with no leading zeroes.
fn decimal(text: &str, what: &str) -> Result<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
        .ok_or_else(|| NoteError::MalformedProof(format!("the {what} is not a decimal without leading zeroes")))
}

/// Hash lines up to the blank line; returns them and what follows the blank line.
fn hash_lines(mut rest: &str) -> Result<(Vec<Hash>, &str)> {
    let mut path = Vec::new();
    loop {
        let (line, after) = next_line(rest)?;
        rest = after;
        if line.is_empty() {
            return Ok((path, rest));
        }
        if path.len() == MAX_PROOF_HASHES {
            return Err(NoteError::MalformedProof(format!("more than {MAX_PROOF_HASHES} hashes")));
        }
        let hash = decode_base64(line).and_then(|raw| raw.try_into().ok());
        path.push(hash.ok_or_else(|| bad("a hash line is not the base64 of 32 bytes"))?);
    }
}

fn check_size(bytes: &[u8]) -> Result<&str> {
    if bytes.len() > MAX_PROOF_FILE_BYTES {
        return Err(NoteError::TooLarge { what: "a proof file", max: MAX_PROOF_FILE_BYTES });
    }
    std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))
}

fn push_hashes(out: &mut String, path: &[Hash]) {
    for hash in path {
        out.push_str(&encode_base64(hash));
        out.push('\n');
    }
    out.push('\n');
}

/// An inclusion proof file (C2SP `tlog-proof@v1`): leaf `index` is in the tree of the
/// checkpoint, by the RFC 9162 audit `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data (Andon writes none).
    pub extra: Option<Vec<u8>>,
    /// 0-based leaf index (receipt seq − 1).
    pub index: u64,
    /// The audit path, from the leaf's sibling up to the root's child.
    pub path: Vec<Hash>,
    /// The signed checkpoint, verbatim (cosignatures included).
    pub checkpoint: Note,
}

impl TlogProof {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", encode_base64(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        push_hashes(&mut out, &self.path);
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint.to_bytes());
        bytes
    }

    /// Parses a proof file (strictly; the checkpoint's signatures are not verified here).
    ///
    /// # Errors
    /// [`NoteError::TooLarge`], [`NoteError::MalformedProof`] or the note's errors.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof> {
        let text = check_size(bytes)?;
        let (header, mut rest) = next_line(text)?;
        if header != TLOG_PROOF_HEADER {
            return Err(NoteError::MalformedProof(format!("the first line is not `{TLOG_PROOF_HEADER}`")));
        }
        let mut extra = None;
        let (mut line, after) = next_line(rest)?;
        rest = after;
        if let Some(data) = line.strip_prefix("extra ") {
            extra = Some(decode_base64(data).ok_or_else(|| bad("the extra data is not canonical base64"))?);
            (line, rest) = next_line(rest)?;
        }
        let index = decimal(line.strip_prefix("index ").ok_or_else(|| bad("no `index` line"))?, "index")?;
        let (path, rest) = hash_lines(rest)?;
        let checkpoint = Note::parse(rest.as_bytes())?;
        Ok(TlogProof { extra, index, path, checkpoint })
    }

    /// Verifies the proof for the leaf `line` (a receipt line without its `\n`): the
    /// checkpoint is of the log `origin` and signed by a trusted key, and the path
    /// leads from the leaf to its root. Returns the checkpoint.
    ///
    /// # Errors
    /// The checkpoint's errors, or [`NoteError::Proof`].
    pub fn verify(&self, line: &[u8], origin: &str, trusted: &[NoteVerifier]) -> Result<LogCheckpoint> {
        self.checkpoint.verify(trusted)?;
        let checkpoint = LogCheckpoint::from_note(&self.checkpoint, origin)?;
        tlog::verify_inclusion(&tlog::leaf_hash(line), self.index, checkpoint.size, &self.path, &checkpoint.root)
            .map_err(NoteError::Proof)?;
        Ok(checkpoint)
    }
}

/// A consistency proof file (the body of a C2SP `tlog-witness` `add-checkpoint`
/// request): the tree of `old_size` leaves is a prefix of the checkpoint's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The size of the older tree.
    pub old_size: u64,
    /// The RFC 9162 consistency proof from `old_size` to the checkpoint's size.
    pub path: Vec<Hash>,
    /// The newer signed checkpoint, verbatim.
    pub checkpoint: Note,
}

impl ConsistencyProof {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size);
        push_hashes(&mut out, &self.path);
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint.to_bytes());
        bytes
    }

    /// Parses a consistency proof file (strictly; signatures are not verified here).
    ///
    /// # Errors
    /// [`NoteError::TooLarge`], [`NoteError::MalformedProof`] or the note's errors.
    pub fn parse(bytes: &[u8]) -> Result<ConsistencyProof> {
        let text = check_size(bytes)?;
        let (line, rest) = next_line(text)?;
        let old_size = decimal(line.strip_prefix("old ").ok_or_else(|| bad("no `old` line"))?, "old size")?;
        let (path, rest) = hash_lines(rest)?;
        let checkpoint = Note::parse(rest.as_bytes())?;
        Ok(ConsistencyProof { old_size, path, checkpoint })
    }

    /// Verifies that the checkpoint extends `old` (a checkpoint of the same log the
    /// caller already verified): same origin, `old_size` is `old.size`, the newer
    /// checkpoint is signed by a trusted key, and the proof holds. Returns the newer
    /// checkpoint.
    ///
    /// # Errors
    /// The checkpoint's errors, [`NoteError::MalformedProof`] when the sizes differ,
    /// or [`NoteError::Proof`].
    pub fn verify(&self, old: &LogCheckpoint, trusted: &[NoteVerifier]) -> Result<LogCheckpoint> {
        self.checkpoint.verify(trusted)?;
        let new = LogCheckpoint::from_note(&self.checkpoint, &old.origin)?;
        if self.old_size != old.size {
            return Err(NoteError::MalformedProof(format!(
                "the proof starts at size {}, the old checkpoint has size {}",
                self.old_size, old.size
            )));
        }
        tlog::verify_consistency(old.size, new.size, &old.root, &new.root, &self.path).map_err(NoteError::Proof)?;
        Ok(new)
    }
}
