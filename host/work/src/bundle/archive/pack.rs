//! Writing archives: deterministic packing and the one durable, atomic file write.

use std::io::Write;

use flate2::Compression;
use tar::{EntryType, Header};

use super::{BundleFiles, Result, check_conflicts, invalid, io_err, validate_relative_path};

/// What [`write_file`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub path: std::path::PathBuf,
    /// Lowercase hex SHA-256 of its bytes.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The paths packed in it, sorted.
    pub files: Vec<String>,
}

/// Packs `files` (see [`pack`]) and writes them to `path` durably and atomically:
/// into a temporary file beside it, fsync, rename over `path`, fsync the folder. A
/// crash leaves either the old file or the whole new one, never a torn archive.
///
/// # Errors
/// The errors of [`pack`]; [`super::ArchiveError::Io`] when the file cannot be written.
pub fn write_file(files: &BundleFiles, path: &std::path::Path) -> Result<Written> {
    let mut bytes = Vec::new();
    pack(files, &mut bytes)?;
    crate::bundle::write_atomic(path, &bytes).map_err(io_err(format!("cannot write {}", path.display())))?;
    Ok(Written {
        path: path.to_path_buf(),
        sha256: andon_core::evidence::sha256_hex(&bytes),
        bytes: bytes.len() as u64,
        files: files.keys().cloned().collect(),
    })
}

/// Packs `files` into a `.tar.gz`, deterministically: entries sorted by path,
/// regular files only (no directory entries), mtime 0, uid/gid 0, mode 0644, no user
/// or group names, and a gzip header with no timestamp and no file name. Packing the
/// same files twice yields identical bytes.
///
/// Paths longer than the 100 bytes of a tar name field are split into the ustar
/// prefix where possible, and otherwise written with a GNU long-name record.
///
/// # Errors
/// - the path errors of [`validate_relative_path`] for a key that is not a valid
///   normalized path ([`super::ArchiveError::InvalidPath`] when it is valid but not
///   normalized), and [`super::ArchiveError::PathConflict`];
/// - [`super::ArchiveError::Io`] when writing to `out` fails.
pub fn pack(files: &BundleFiles, out: &mut impl Write) -> Result<()> {
    for path in files.keys() {
        let normalized = validate_relative_path(path)?;
        if &normalized != path {
            return Err(invalid(path, format!("it is not in normalized form (`{normalized}`)")));
        }
    }
    check_conflicts(files)?;
    // Fixed header: mtime 0 means "no timestamp", no file name, OS "unknown".
    let gzip = flate2::GzBuilder::new().mtime(0).operating_system(255).write(out, Compression::default());
    let mut builder = tar::Builder::new(gzip);
    for (path, data) in files {
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        builder.append_data(&mut header, path, data.as_slice()).map_err(io_err(format!("write entry `{path}`")))?;
    }
    let gzip = builder.into_inner().map_err(io_err("finish the archive"))?;
    gzip.finish().map_err(io_err("finish the archive"))?;
    Ok(())
}
