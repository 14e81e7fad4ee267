//! The checkpoint files of a ledger.
//!
//! `checkpoints.jsonl` holds one checkpoint per line. More than one process appends
//! to it (the writer, and `andon export`, which signs a checkpoint of the last
//! receipt it exports when none exists), so every append, and the cut of an
//! unterminated fragment that a crash left, happens under an exclusive `flock` of
//! the file itself, and readers take a shared one: nobody sees half a line.
//!
//! `checkpoints-superseded.jsonl` holds copies of the lines of checkpoints whose
//! receipts an operator cut (`andon ledger repair --cut-checkpointed-from`). A
//! checkpoint whose line is there no longer counts: it neither protects receipts
//! from a cut nor is compared with the receipts by `verify`. Holders of a copy of
//! it still see the fork, which is the point; the `ledger_repaired` receipt says
//! why.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};

use cap_std::fs::{Dir, OpenOptions};

use super::CHECKPOINTS_FILE;
use crate::checkpoint::Checkpoint;
use crate::store::sync_dir;

/// Copies of the lines of superseded checkpoints (see the module docs).
pub const SUPERSEDED_FILE: &str = "checkpoints-superseded.jsonl";

/// One whole line of `checkpoints.jsonl`.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// 1-based line number.
    pub line: u64,
    /// The bytes of the line, without `\n`.
    pub bytes: Vec<u8>,
    /// The checkpoint, or why the line is not one.
    pub parsed: Result<Checkpoint, String>,
    /// Whether an operator's cut superseded it.
    pub superseded: bool,
}

/// The checkpoints of a ledger as read at one moment.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Every whole line, in order.
    pub entries: Vec<Entry>,
    /// The line number and length of an unterminated last fragment.
    pub fragment: Option<(u64, usize)>,
}

impl Listing {
    /// The checkpoints that count: whole, readable, not superseded.
    pub fn live(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.parsed.is_ok() && !e.superseded)
    }

    /// The highest seq a live checkpoint covers (0 when none).
    pub fn covered(&self) -> u64 {
        self.live().filter_map(|e| e.parsed.as_ref().ok()).map(|c| c.seq).max().unwrap_or(0)
    }
}

/// Holds an exclusive or shared `flock` of a file until dropped.
struct Locked<'a>(&'a File);

impl<'a> Locked<'a> {
    fn exclusive(file: &'a File) -> std::io::Result<Locked<'a>> {
        file.lock()?;
        Ok(Locked(file))
    }

    fn shared(file: &'a File) -> std::io::Result<Locked<'a>> {
        file.lock_shared()?;
        Ok(Locked(file))
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn read_all(file: &File) -> std::io::Result<Vec<u8>> {
    let mut text = Vec::new();
    (&*file).seek(std::io::SeekFrom::Start(0))?;
    (&*file).read_to_end(&mut text)?;
    Ok(text)
}

/// The lines of `checkpoints-superseded.jsonl` (none when it is missing).
fn superseded_lines(dir: &Dir) -> std::io::Result<HashSet<Vec<u8>>> {
    match dir.read(SUPERSEDED_FILE) {
        Ok(text) => Ok(text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(e),
    }
}

fn parse(text: &[u8], superseded: &HashSet<Vec<u8>>) -> Listing {
    let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut listing = Listing::default();
    for (index, line) in text[..whole].split_inclusive(|&b| b == b'\n').enumerate() {
        let bytes = &line[..line.len() - 1];
        listing.entries.push(Entry {
            line: index as u64 + 1,
            bytes: bytes.to_vec(),
            parsed: Checkpoint::parse(bytes).map_err(|e| e.to_string()),
            superseded: superseded.contains(bytes),
        });
    }
    if whole < text.len() {
        listing.fragment = Some((listing.entries.len() as u64 + 1, text.len() - whole));
    }
    listing
}

/// Reads the checkpoints under a shared lock of `checkpoints.jsonl` (read-only:
/// nothing is created or cut). `None` when the ledger has no `checkpoints.jsonl`.
pub(crate) fn read(dir: &Dir) -> std::io::Result<Option<Listing>> {
    let file = match crate::store::open_regular(dir, CHECKPOINTS_FILE) {
        Ok(file) => file.into_std(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let text = {
        let _shared = Locked::shared(&file)?;
        read_all(&file)?
    };
    Ok(Some(parse(&text, &superseded_lines(dir)?)))
}

/// Cuts an unterminated fragment from the end of `file` (a crash's torn append: a
/// checkpoint is acknowledged only once its whole line is synced). The caller holds
/// the exclusive lock.
fn cut_fragment(file: &File, text: &[u8]) -> std::io::Result<()> {
    let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if whole < text.len() {
        file.set_len(whole as u64)?;
        file.sync_all()?;
    }
    Ok(())
}

/// Under the exclusive lock of `file` (`checkpoints.jsonl`, opened for appending),
/// cuts an unterminated fragment and returns the checkpoints.
pub(crate) fn repair(dir: &Dir, file: &File) -> std::io::Result<Listing> {
    let _exclusive = Locked::exclusive(file)?;
    let text = read_all(file)?;
    cut_fragment(file, &text)?;
    let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    Ok(parse(&text[..whole], &superseded_lines(dir)?))
}

/// Under the exclusive lock of `file` (`checkpoints.jsonl`, opened for appending),
/// cuts an unterminated fragment, appends `line` (with its `\n`) in one write and
/// syncs it.
pub(crate) fn append(file: &File, line: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt as _;
    let _exclusive = Locked::exclusive(file)?;
    // Only a file whose last byte is not `\n` needs reading whole.
    let len = file.metadata()?.len();
    let mut last = [b'\n'];
    if len > 0 {
        file.read_exact_at(&mut last, len - 1)?;
    }
    if last[0] != b'\n' {
        cut_fragment(file, &read_all(file)?)?;
    }
    (&*file).write_all(line)?;
    file.sync_data()
}

/// Opens `checkpoints.jsonl` of the ledger in `dir` for appending.
pub(crate) fn open_for_append(dir: &Dir) -> std::io::Result<File> {
    Ok(dir.open_with(CHECKPOINTS_FILE, OpenOptions::new().read(true).append(true))?.into_std())
}

/// Appends `lines` (each without `\n`) to `checkpoints-superseded.jsonl`, creating
/// it if needed, and syncs it (and the directory when it was created).
pub(crate) fn supersede(dir: &Dir, lines: &[&[u8]]) -> std::io::Result<()> {
    let created = match dir.open_with(SUPERSEDED_FILE, OpenOptions::new().write(true).create_new(true)) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    let mut file = dir.open_with(SUPERSEDED_FILE, OpenOptions::new().read(true).append(true))?.into_std();
    let text = read_all(&file)?;
    if !text.is_empty() && text.last() != Some(&b'\n') {
        file.write_all(b"\n")?;
    }
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    file.write_all(&bytes)?;
    file.sync_all()?;
    if created {
        sync_dir(dir)?;
    }
    Ok(())
}
