//! C2SP `tlog-checkpoint`: the body of a signed note that states a log's tree head.
//!
//! ```text
//! <origin>\n
//! <tree size, decimal, no leading zeroes>\n
//! <base64 of the 32-byte root hash>\n
//! [<extension line>\n]...
//! ```

use super::{Note, NoteError, NoteSigner, NoteVerifier, Result, decode_base64, encode_base64};
use crate::tlog::Hash;

/// A log checkpoint: origin, tree size, root hash and (rarely) extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheckpoint {
    /// The log's identity, e.g. `andon.example/ledger-demo`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root hash of the tree of `size` leaves.
    pub root: Hash,
    /// Opaque extension lines (non-empty; Andon writes none).
    pub extensions: Vec<String>,
}

impl LogCheckpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> LogCheckpoint {
        LogCheckpoint { origin: origin.into(), size, root, extensions: Vec::new() }
    }

    /// The note text: one line each for origin, size, root and extensions.
    pub fn text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, encode_base64(&self.root));
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Parses a note text as a checkpoint (strictly).
    ///
    /// # Errors
    /// [`NoteError::MalformedCheckpoint`].
    pub fn parse_text(text: &str) -> Result<LogCheckpoint> {
        let bad = |why: &str| NoteError::MalformedCheckpoint(why.into());
        let body = text.strip_suffix('\n').ok_or_else(|| bad("the text does not end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(bad("fewer than three lines"));
        };
        if origin.is_empty() {
            return Err(bad("the origin line is empty"));
        }
        if let Some(c) = text.chars().find(|&c| c < ' ' && c != '\n') {
            return Err(NoteError::MalformedCheckpoint(format!("control character U+{:04X}", c as u32)));
        }
        let canonical =
            !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        let size: u64 = if canonical { size.parse().ok() } else { None }
            .ok_or_else(|| bad("the tree size is not a decimal without leading zeroes"))?;
        let root: Hash = decode_base64(root)
            .and_then(|raw| raw.try_into().ok())
            .ok_or_else(|| bad("the root hash is not the base64 of 32 bytes"))?;
        if size == 0 && root != crate::tlog::EMPTY_ROOT {
            return Err(bad("a checkpoint of the empty tree must have the empty tree's root"));
        }
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an extension line is empty"));
        }
        Ok(LogCheckpoint { origin: origin.into(), size, root, extensions })
    }

    /// The signed note of this checkpoint.
    ///
    /// # Errors
    /// [`NoteError::MalformedCheckpoint`] when the fields do not make a checkpoint
    /// (an empty origin, a newline inside a line, an empty extension line).
    pub fn sign(&self, signer: &NoteSigner) -> Result<Note> {
        let text = self.text();
        if LogCheckpoint::parse_text(&text)? != *self {
            return Err(NoteError::MalformedCheckpoint("a line holds a newline".into()));
        }
        Note::signed(&text, signer)
    }

    /// Parses and verifies a signed checkpoint of the log `origin`.
    ///
    /// # Errors
    /// The errors of [`Note::open`] and [`LogCheckpoint::parse_text`], and
    /// [`NoteError::WrongOrigin`].
    pub fn open(bytes: &[u8], origin: &str, trusted: &[NoteVerifier]) -> Result<(LogCheckpoint, Note)> {
        // The text means nothing until a trusted key's signature is checked.
        let note = Note::open(bytes, trusted)?;
        let checkpoint = LogCheckpoint::from_note(&note, origin)?;
        Ok((checkpoint, note))
    }

    /// The checkpoint of a parsed note, checked to be of the log `origin` (the
    /// signatures are not verified here).
    ///
    /// # Errors
    /// [`NoteError::MalformedCheckpoint`] or [`NoteError::WrongOrigin`].
    pub fn from_note(note: &Note, origin: &str) -> Result<LogCheckpoint> {
        let checkpoint = LogCheckpoint::parse_text(note.text())?;
        if checkpoint.origin != origin {
            return Err(NoteError::WrongOrigin { found: checkpoint.origin, expected: origin.into() });
        }
        Ok(checkpoint)
    }
}
