//! Bundle archives: deterministic packing, and unpacking that treats every archive
//! as hostile.
//!
//! A bundle travels as a `.tar.gz` of its directory. [`unpack`] reads one into memory
//! only (it never touches the filesystem) and refuses, naming the entry:
//! - paths that escape the bundle (`..`), absolute paths and drive prefixes, paths
//!   with backslashes or NUL bytes, non-UTF-8 paths, paths over 255 bytes
//!   ([`validate_relative_path`] is the rule, shared with the manifest);
//! - symbolic and hard links, devices, fifos, sparse files and unknown entry types;
//! - two entries with the same normalized path (`a/b`, `a//b`, `./a/b`), and a file
//!   that is also the directory of another file;
//! - anything another reader could see beyond what this one reads: a missing
//!   end-of-archive marker, non-zero bytes after it (a tar member hidden there), a
//!   second gzip member or any data after the first (`gzip -d` and GNU tar join
//!   members into one stream), each named with its offset;
//! - more than [`ArchiveLimits::max_entries`] entries, an entry over
//!   [`ArchiveLimits::max_entry_bytes`] or files adding up to more than
//!   [`ArchiveLimits::max_total_bytes`]. Sizes are counted on the bytes actually
//!   read, never allocated from a header, so a gzip bomb stops at the cap.
//!
//! Tar's PAX and GNU long-name extensions are accepted (each at most 64 KiB) when the
//! path they carry validates. Extensions that would make this reader and another
//! tar disagree on the contents (a PAX `size` different from the header's, GNU
//! sparse maps, both a GNU long name and a PAX path) are refused.
//!
//! [`read_dir_files`] applies the same rules to a bundle directory opened through a
//! capability handle, and [`pack`] writes byte-for-byte reproducible archives.
//!
//! # Example
//!
//! ```
//! use andon_work::bundle::archive::{self, ArchiveLimits, BundleFiles};
//!
//! let mut files = BundleFiles::new();
//! files.insert("manifest.json".into(), b"{}".to_vec());
//! files.insert("components/gate.wasm".into(), b"\0asm".to_vec());
//! let mut packed = Vec::new();
//! archive::pack(&files, &mut packed)?;
//! assert_eq!(archive::unpack(packed.as_slice(), &ArchiveLimits::default())?, files);
//! # Ok::<(), archive::ArchiveError>(())
//! ```

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Bound;

use cap_std::fs::Dir;
use flate2::bufread::GzDecoder;
use tar::EntryType;

mod end;
mod pack;

use end::{Counted, check_end};
pub use pack::{Written, pack, write_file};

/// Longest normalized relative path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 255;

/// Largest PAX or GNU long-name extension record accepted, in bytes. Paths are at
/// most [`MAX_PATH_BYTES`], so anything bigger is an attempt to make the reader
/// buffer data outside the caps.
const MAX_EXTENSION_BYTES: u64 = 64 << 10;

/// Caps applied while unpacking an archive or reading a bundle directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries (files, directories and PAX global headers of an archive; files
    /// and directories of a directory).
    pub max_entries: usize,
    /// Largest single file, in bytes.
    pub max_entry_bytes: u64,
    /// Largest sum of all file sizes, in bytes.
    pub max_total_bytes: u64,
}

impl Default for ArchiveLimits {
    /// 1 000 entries, 64 MiB per entry, 256 MiB in total.
    fn default() -> Self {
        ArchiveLimits { max_entries: 1_000, max_entry_bytes: 64 << 20, max_total_bytes: 256 << 20 }
    }
}

/// The files of a bundle, by normalized relative path (`components/x.wasm`), in memory.
pub type BundleFiles = BTreeMap<String, Vec<u8>>;

/// The kind of a refused link entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A symbolic link.
    Symlink,
    /// A hard link.
    HardLink,
}

impl std::fmt::Display for LinkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkKind::Symlink => "symbolic link",
            LinkKind::HardLink => "hard link",
        })
    }
}

/// Why an archive, a bundle directory or a path was refused.
///
/// Paths in messages are quoted and escaped (`"../etc/passwd"`), since they come
/// from untrusted input.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The path has a `..` component.
    #[error("entry {path:?} escapes the bundle: `..` path components are not allowed")]
    PathTraversal {
        /// The path as found.
        path: String,
    },
    /// The path is absolute (leading `/`) or has a drive prefix (`C:`).
    #[error("entry {path:?} is an absolute path: bundle paths must be relative")]
    AbsolutePath {
        /// The path as found.
        path: String,
    },
    /// The path is empty, not UTF-8, too long, or has a backslash or NUL byte.
    #[error("entry {path:?} has an invalid path: {reason}")]
    InvalidPath {
        /// The path as found (lossily decoded if it is not UTF-8).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A symbolic or hard link.
    #[error("entry {path:?} is a {kind}: links are not allowed in bundles")]
    Link {
        /// The path of the link.
        path: String,
        /// Which kind of link.
        kind: LinkKind,
    },
    /// A device, fifo, socket, sparse file or unknown entry type.
    #[error("entry {path:?} is a {kind}: only regular files and directories are allowed in bundles")]
    UnsupportedEntry {
        /// The path of the entry.
        path: String,
        /// What it is, e.g. `fifo`, `character device`.
        kind: String,
    },
    /// Two entries normalize to the same path.
    #[error("duplicate entry {path:?}: an earlier entry has the same normalized path")]
    DuplicateEntry {
        /// The path of the second entry, as found.
        path: String,
    },
    /// A file's path is also the directory of another file (`a` and `a/b`).
    #[error("entry {path:?} is a file and also the directory of other entries")]
    PathConflict {
        /// The normalized path of the file.
        path: String,
    },
    /// More entries than [`ArchiveLimits::max_entries`].
    #[error("too many entries: the limit is {limit}")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
    /// A file larger than [`ArchiveLimits::max_entry_bytes`].
    #[error("entry {path:?} is larger than the limit of {limit} bytes per entry")]
    EntryTooLarge {
        /// The path of the entry.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// Files adding up to more than [`ArchiveLimits::max_total_bytes`].
    #[error("the files add up to more than the limit of {limit} bytes in total")]
    TotalTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The archive is not a well-formed, unambiguous `.tar.gz`.
    #[error("corrupt bundle archive: {reason}")]
    Corrupt {
        /// What is wrong.
        reason: String,
        /// The underlying read or decode error, if any.
        #[source]
        source: Option<io::Error>,
    },
    /// Reading a bundle directory or writing an archive failed.
    #[error("cannot {action}")]
    Io {
        /// What was being done, e.g. ``read `components/x.wasm` ``.
        action: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Result alias of this module.
pub type Result<T, E = ArchiveError> = std::result::Result<T, E>;

fn corrupt(reason: impl Into<String>) -> ArchiveError {
    ArchiveError::Corrupt { reason: reason.into(), source: None }
}

fn corrupt_io(reason: impl Into<String>) -> impl FnOnce(io::Error) -> ArchiveError {
    let reason = reason.into();
    move |source| ArchiveError::Corrupt { reason, source: Some(source) }
}

fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> ArchiveError {
    let action = action.into();
    move |source| ArchiveError::Io { action, source }
}

fn invalid(path: &str, reason: impl Into<String>) -> ArchiveError {
    ArchiveError::InvalidPath { path: path.into(), reason: reason.into() }
}

/// Checks a bundle-relative path and returns its normalized form.
///
/// The rule, shared by archive entries, bundle directories and the manifest: the path
/// is UTF-8, has no NUL byte and no backslash, does not start with `/` or a drive
/// prefix (`C:`), has no `..` component, and names something. Empty and `.`
/// components are dropped (`./a//b/` normalizes to `a/b`), and the normalized form is
/// at most [`MAX_PATH_BYTES`] bytes. A caller that wants canonical paths only (the
/// manifest) can compare the result with its input.
///
/// # Errors
/// [`ArchiveError::PathTraversal`], [`ArchiveError::AbsolutePath`] or
/// [`ArchiveError::InvalidPath`], naming the path.
pub fn validate_relative_path(path: &str) -> Result<String> {
    if path.is_empty() {
        return Err(invalid(path, "the path is empty"));
    }
    if path.contains('\0') {
        return Err(invalid(path, "it contains a NUL byte"));
    }
    if path.contains('\\') {
        return Err(invalid(path, "it contains a backslash (bundle paths use `/` separators)"));
    }
    if path.starts_with('/') || has_drive_prefix(path) {
        return Err(ArchiveError::AbsolutePath { path: path.into() });
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(ArchiveError::PathTraversal { path: path.into() }),
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(invalid(path, "it names no file (only `.` and `/`)"));
    }
    let normalized = parts.join("/");
    if normalized.len() > MAX_PATH_BYTES {
        return Err(invalid(path, format!("it is longer than {MAX_PATH_BYTES} bytes")));
    }
    Ok(normalized)
}

/// `C:`, `c:foo`, `C:/x`: a Windows drive prefix, absolute or drive-relative.
fn has_drive_prefix(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// `.`, `./`, `.//.`: the bundle root itself, as `tar -C dir .` records it.
fn is_root(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && path.split('/').all(|part| part.is_empty() || part == ".")
}

/// Refuses a file path that is also the directory of another file (`a` and `a/b`):
/// such a set cannot be written to a filesystem, so a directory and its archive
/// would not hold the same bundle.
fn check_conflicts(files: &BundleFiles) -> Result<()> {
    for path in files.keys() {
        let dir = format!("{path}/");
        if files
            .range::<str, _>((Bound::Included(dir.as_str()), Bound::Unbounded))
            .next()
            .is_some_and(|(next, _)| next.starts_with(&dir))
        {
            return Err(ArchiveError::PathConflict { path: path.clone() });
        }
    }
    Ok(())
}

/// Extension records that describe the next archive member.
#[derive(Default)]
struct Pending {
    gnu_long_name: Option<Vec<u8>>,
    gnu_long_link: bool,
    pax: Option<Vec<u8>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.gnu_long_name.is_none() && !self.gnu_long_link && self.pax.is_none()
    }
}

/// What the PAX records of one member say, as far as this reader cares.
#[derive(Default)]
struct PaxInfo {
    path: Option<Vec<u8>>,
    size: Option<u64>,
    sparse: bool,
}

fn parse_pax(data: &[u8]) -> Result<PaxInfo> {
    let mut info = PaxInfo::default();
    for record in tar::PaxExtensions::new(data) {
        let record = record.map_err(corrupt_io("malformed pax extended header"))?;
        let key = record.key().map_err(|_| corrupt("pax extended header has a non-UTF-8 key"))?;
        match key {
            "path" => info.path = Some(record.value_bytes().to_vec()),
            "size" => {
                let size = record
                    .value()
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| corrupt("pax extended header has a malformed `size`"))?;
                info.size = Some(size);
            }
            key if key.starts_with("GNU.sparse.") => info.sparse = true,
            _ => {}
        }
    }
    Ok(info)
}

/// Reads an extension record's data, refusing one over [`MAX_EXTENSION_BYTES`]
/// before reading it.
fn read_extension(entry: &mut impl Read, size: u64, what: &str) -> Result<Vec<u8>> {
    if size > MAX_EXTENSION_BYTES {
        return Err(corrupt(format!("{what} record of {size} bytes is over the {MAX_EXTENSION_BYTES}-byte limit")));
    }
    let mut data = Vec::new();
    entry
        .take(MAX_EXTENSION_BYTES)
        .read_to_end(&mut data)
        .map_err(corrupt_io(format!("cannot read a {what} record")))?;
    Ok(data)
}

fn unsupported_kind(kind: EntryType) -> String {
    match kind {
        EntryType::Char => "character device".into(),
        EntryType::Block => "block device".into(),
        EntryType::Fifo => "fifo".into(),
        EntryType::Continuous => "contiguous file".into(),
        EntryType::GNUSparse => "gnu sparse file".into(),
        other => format!("entry of unknown type {:?}", char::from(other.as_byte())),
    }
}

/// Unpacks a `.tar.gz` bundle archive into memory, enforcing `limits` and the rules
/// of the module documentation. Nothing is written to the filesystem.
///
/// Directory entries are allowed (their paths are validated) and otherwise ignored;
/// the result holds regular files only, by normalized path.
///
/// # Errors
/// The first problem found, naming the entry: [`ArchiveError::PathTraversal`],
/// [`ArchiveError::AbsolutePath`], [`ArchiveError::InvalidPath`],
/// [`ArchiveError::Link`], [`ArchiveError::UnsupportedEntry`],
/// [`ArchiveError::DuplicateEntry`], [`ArchiveError::PathConflict`],
/// [`ArchiveError::TooManyEntries`], [`ArchiveError::EntryTooLarge`],
/// [`ArchiveError::TotalTooLarge`], or [`ArchiveError::Corrupt`] for bad gzip or tar
/// data (checksums, truncation, ambiguous extensions, a missing end-of-archive
/// marker, anything but zero padding after it, a second gzip member or other data
/// after the first; the offset is named).
pub fn unpack(reader: impl Read, limits: &ArchiveLimits) -> Result<BundleFiles> {
    // `bufread::GzDecoder` stops exactly after the first gzip member, so what follows
    // it can be checked (`read::GzDecoder` would buffer it away unseen).
    let compressed = Counted { inner: io::BufReader::new(reader), count: 0 };
    let mut archive = tar::Archive::new(Counted { inner: GzDecoder::new(compressed), count: 0 });
    let mut files = BundleFiles::new();
    let mut pending = Pending::default();
    let mut members = 0usize;
    let mut total = 0u64;
    // Raw mode: this function handles the PAX and GNU extension records itself, so
    // that their size is capped before they are read (the tar crate would buffer
    // them whole) and so that ambiguous combinations are refused.
    let entries = archive.entries().map_err(corrupt_io("cannot read the archive"))?.raw(true);
    for entry in entries {
        let mut entry = entry.map_err(corrupt_io("cannot read an entry header"))?;
        let kind = entry.header().entry_type();
        let size = entry.size();
        // Other readers apply extension records only under a ustar or GNU magic and
        // read anything else as a plain member: refuse what they would read apart.
        let extension = matches!(
            kind,
            EntryType::GNULongName | EntryType::GNULongLink | EntryType::XHeader | EntryType::XGlobalHeader
        );
        if extension && entry.header().as_gnu().is_none() && entry.header().as_ustar().is_none() {
            return Err(corrupt(format!("an extension record ({kind:?}) without a ustar or GNU magic")));
        }
        match kind {
            EntryType::GNULongName => {
                if pending.gnu_long_name.is_some() {
                    return Err(corrupt("two gnu long-name records describe the same entry"));
                }
                pending.gnu_long_name = Some(read_extension(&mut entry, size, "gnu long-name")?);
                continue;
            }
            EntryType::GNULongLink => {
                if pending.gnu_long_link {
                    return Err(corrupt("two gnu long-link records describe the same entry"));
                }
                // Only links have link names, and links are refused: read and drop it.
                read_extension(&mut entry, size, "gnu long-link")?;
                pending.gnu_long_link = true;
                continue;
            }
            EntryType::XHeader => {
                if pending.pax.is_some() {
                    return Err(corrupt("two pax extended headers describe the same entry"));
                }
                pending.pax = Some(read_extension(&mut entry, size, "pax extended header")?);
                continue;
            }
            _ => {}
        }
        members += 1;
        if members > limits.max_entries {
            return Err(ArchiveError::TooManyEntries { limit: limits.max_entries });
        }
        if kind == EntryType::XGlobalHeader {
            // Global PAX headers (`git archive` writes a commit id in one) carry
            // nothing this reader uses.
            if !pending.is_empty() {
                return Err(corrupt("extension records precede a pax global header"));
            }
            read_extension(&mut entry, size, "pax global header")?;
            continue;
        }

        let Pending { gnu_long_name, pax, .. } = std::mem::take(&mut pending);
        let pax = match pax {
            Some(data) => parse_pax(&data)?,
            None => PaxInfo::default(),
        };
        let raw_path = match (gnu_long_name, pax.path) {
            (Some(_), Some(_)) => return Err(corrupt("an entry has both a gnu long name and a pax path")),
            (Some(mut name), None) => {
                // GNU tar NUL-terminates the long name.
                if name.last() == Some(&0) {
                    name.pop();
                }
                name
            }
            (None, Some(path)) => path,
            (None, None) => entry.header().path_bytes().into_owned(),
        };
        let shown = String::from_utf8_lossy(&raw_path).into_owned();
        if pax.sparse {
            return Err(ArchiveError::UnsupportedEntry { path: shown, kind: "gnu sparse file".into() });
        }
        if pax.size.is_some_and(|pax_size| pax_size != size) {
            return Err(corrupt(format!("entry {shown:?}: the pax size disagrees with the header size")));
        }
        match kind {
            EntryType::Symlink => return Err(ArchiveError::Link { path: shown, kind: LinkKind::Symlink }),
            EntryType::Link => return Err(ArchiveError::Link { path: shown, kind: LinkKind::HardLink }),
            EntryType::Regular | EntryType::Directory => {}
            other => return Err(ArchiveError::UnsupportedEntry { path: shown, kind: unsupported_kind(other) }),
        }
        let path = std::str::from_utf8(&raw_path).map_err(|_| invalid(&shown, "it is not UTF-8"))?;
        if kind == EntryType::Directory {
            // A directory with data would make the reader skip bytes it never checks.
            if size != 0 {
                return Err(corrupt(format!("directory entry {shown:?} declares {size} bytes of data")));
            }
            if !is_root(path) {
                validate_relative_path(path)?;
            }
            continue;
        }
        if path.ends_with('/') {
            // Old tars mark directories this way; other readers would make a directory.
            return Err(invalid(path, "a regular file entry must not end with `/`"));
        }
        let key = validate_relative_path(path)?;
        if files.contains_key(&key) {
            return Err(ArchiveError::DuplicateEntry { path: shown });
        }
        // The header size bounds what the tar reader yields; refusing on it first
        // avoids decompressing data that would be refused anyway.
        if size > limits.max_entry_bytes {
            return Err(ArchiveError::EntryTooLarge { path: shown, limit: limits.max_entry_bytes });
        }
        if total.saturating_add(size) > limits.max_total_bytes {
            return Err(ArchiveError::TotalTooLarge { limit: limits.max_total_bytes });
        }
        // Count what is actually read, without trusting the header for allocation.
        let mut data = Vec::new();
        (&mut entry)
            .take(limits.max_entry_bytes.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(corrupt_io(format!("cannot read entry {shown:?}")))?;
        let read = data.len() as u64;
        if read > limits.max_entry_bytes {
            return Err(ArchiveError::EntryTooLarge { path: shown, limit: limits.max_entry_bytes });
        }
        if read != size {
            return Err(corrupt(format!("entry {shown:?} is truncated: {read} of {size} bytes")));
        }
        total += read;
        if total > limits.max_total_bytes {
            return Err(ArchiveError::TotalTooLarge { limit: limits.max_total_bytes });
        }
        files.insert(key, data);
    }
    if !pending.is_empty() {
        return Err(corrupt("extension records at the end of the archive describe no entry"));
    }
    check_end(archive.into_inner())?;
    check_conflicts(&files)?;
    Ok(files)
}

/// Reads every file of a bundle directory opened with cap-std, recursively, into
/// memory, by `/`-separated normalized relative path.
///
/// Entries are visited in sorted order, so the first problem reported does not
/// depend on the filesystem. Symbolic links are refused, never followed (checked
/// with `symlink_metadata`), as are fifos, sockets and devices; names must pass
/// [`validate_relative_path`]. `limits` applies as for [`unpack`]; directories
/// count as entries.
///
/// # Errors
/// [`ArchiveError::Link`], [`ArchiveError::UnsupportedEntry`], the path errors,
/// [`ArchiveError::TooManyEntries`], [`ArchiveError::EntryTooLarge`],
/// [`ArchiveError::TotalTooLarge`], or [`ArchiveError::Io`] naming the entry.
pub fn read_dir_files(dir: &Dir, limits: &ArchiveLimits) -> Result<BundleFiles> {
    let mut walker = Walker { limits, files: BundleFiles::new(), entries: 0, total: 0 };
    walker.walk(dir, "")?;
    Ok(walker.files)
}

struct Walker<'a> {
    limits: &'a ArchiveLimits,
    files: BundleFiles,
    entries: usize,
    total: u64,
}

impl Walker<'_> {
    fn walk(&mut self, dir: &Dir, prefix: &str) -> Result<()> {
        let shown_dir = if prefix.is_empty() { "the bundle directory".to_string() } else { format!("`{prefix}`") };
        let mut names = Vec::new();
        for entry in dir.entries().map_err(io_err(format!("list {shown_dir}")))? {
            let entry = entry.map_err(io_err(format!("list {shown_dir}")))?;
            names.push(entry.file_name());
            // Bound the listing itself, not only what is kept.
            if self.entries + names.len() > self.limits.max_entries {
                return Err(ArchiveError::TooManyEntries { limit: self.limits.max_entries });
            }
        }
        names.sort();
        for name in names {
            let name = name.into_string().map_err(|name| {
                let lossy = name.to_string_lossy();
                let shown = if prefix.is_empty() { lossy.into_owned() } else { format!("{prefix}/{lossy}") };
                invalid(&shown, "it is not UTF-8")
            })?;
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(ArchiveError::TooManyEntries { limit: self.limits.max_entries });
            }
            let key = validate_relative_path(&path)?;
            let meta = dir.symlink_metadata(&name).map_err(io_err(format!("inspect `{key}`")))?;
            let file_type = meta.file_type();
            if file_type.is_symlink() {
                return Err(ArchiveError::Link { path: key, kind: LinkKind::Symlink });
            }
            if file_type.is_dir() {
                let sub = dir.open_dir(&name).map_err(io_err(format!("open directory `{key}`")))?;
                self.walk(&sub, &key)?;
                continue;
            }
            if !file_type.is_file() {
                return Err(ArchiveError::UnsupportedEntry { path: key, kind: special_kind(&file_type) });
            }
            self.read_file(dir, &name, key, meta.len())?;
        }
        Ok(())
    }

    fn read_file(&mut self, dir: &Dir, name: &str, key: String, len: u64) -> Result<()> {
        let limits = self.limits;
        if len > limits.max_entry_bytes {
            return Err(ArchiveError::EntryTooLarge { path: key, limit: limits.max_entry_bytes });
        }
        if self.total.saturating_add(len) > limits.max_total_bytes {
            return Err(ArchiveError::TotalTooLarge { limit: limits.max_total_bytes });
        }
        // The capability handle confines a swap between the check above and this
        // open to the bundle directory; the file type is checked again on what was
        // actually opened.
        let file = dir.open(name).map_err(io_err(format!("open `{key}`")))?;
        let opened = file.metadata().map_err(io_err(format!("inspect `{key}`")))?;
        if !opened.is_file() {
            return Err(ArchiveError::UnsupportedEntry { path: key, kind: special_kind(&opened.file_type()) });
        }
        let mut data = Vec::new();
        file.take(limits.max_entry_bytes.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(io_err(format!("read `{key}`")))?;
        let read = data.len() as u64;
        if read > limits.max_entry_bytes {
            return Err(ArchiveError::EntryTooLarge { path: key, limit: limits.max_entry_bytes });
        }
        self.total += read;
        if self.total > limits.max_total_bytes {
            return Err(ArchiveError::TotalTooLarge { limit: limits.max_total_bytes });
        }
        if self.files.insert(key.clone(), data).is_some() {
            return Err(ArchiveError::DuplicateEntry { path: key });
        }
        Ok(())
    }
}

fn special_kind(file_type: &cap_std::fs::FileType) -> String {
    #[cfg(unix)]
    {
        use cap_std::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "fifo".into();
        }
        if file_type.is_socket() {
            return "socket".into();
        }
        if file_type.is_char_device() {
            return "character device".into();
        }
        if file_type.is_block_device() {
            return "block device".into();
        }
    }
    let _ = file_type;
    "special file".into()
}
