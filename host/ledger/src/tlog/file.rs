//! The file tile store: C2SP tile paths under a directory (a ledger's `tiles/`), so
//! the directory can be served as-is as the `<prefix>` of a tiled log.
//!
//! Writes are crash-safe: a tile is written to a temporary file in its directory,
//! fsynced, renamed into place, and the directory is fsynced (as is the parent of
//! every directory created on the way). A tile is only ever replaced by a longer
//! version of itself: a partial tile grows as a new `<N>.p/<W>` file beside the
//! older, narrower ones, which are removed once the full tile `<N>` is durable.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

use super::tile::{HASHES_PER_TILE, TILE_BYTES, Tile, TileStore, index_path};
use super::{HASH_BYTES, Result, TlogError};
use crate::store::sync_dir;

/// Name of the tile directory inside a ledger directory.
pub const TILES_DIR: &str = "tiles";

/// Tiles kept as files under one directory (`tile/<L>/<N>[.p/<W>]`).
#[derive(Debug)]
pub struct FileTileStore {
    dir: Dir,
    path: PathBuf,
}

fn not_found(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

/// The directories and the last element of a tile's path: `(["tile", "0", "x001"], "234")`.
fn split_path(level: u8, index: u64) -> (Vec<String>, String) {
    let mut parts: Vec<String> = ["tile".to_string(), level.to_string()].into();
    let mut groups: Vec<String> = index_path(index).split('/').map(str::to_string).collect();
    let last = groups.pop().expect("at least one group");
    parts.extend(groups);
    (parts, last)
}

impl FileTileStore {
    /// Opens the store at `path`, creating the directory (not its parents) when
    /// `create` is true.
    ///
    /// # Errors
    /// [`TlogError::Io`].
    pub fn open(path: &Path, create: bool) -> Result<FileTileStore> {
        let io = |action: &str| {
            let action = action.to_string();
            move |source| TlogError::Io { path: path.to_path_buf(), action, source }
        };
        if create && !path.is_dir() {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let name =
                path.file_name().ok_or_else(|| io("create the directory")(std::io::ErrorKind::InvalidInput.into()))?;
            let parent = Dir::open_ambient_dir(parent, ambient_authority()).map_err(io("open its parent directory"))?;
            match parent.create_dir(name) {
                Ok(()) => sync_dir(&parent).map_err(io("sync its parent directory"))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io("create the directory")(e)),
            }
        }
        let dir = Dir::open_ambient_dir(path, ambient_authority()).map_err(io("open the directory"))?;
        Ok(FileTileStore { dir, path: path.to_path_buf() })
    }

    /// Opens (and with `create`, creates) [`TILES_DIR`] inside an opened ledger directory.
    ///
    /// # Errors
    /// [`TlogError::Io`].
    pub fn open_in(ledger: &Dir, ledger_path: &Path, create: bool) -> Result<FileTileStore> {
        let path = ledger_path.join(TILES_DIR);
        let io = |action: &'static str| {
            let path = path.clone();
            move |source| TlogError::Io { path, action: action.into(), source }
        };
        if create {
            ensure_dir(ledger, TILES_DIR).map_err(io("create the directory"))?;
        }
        let dir = ledger.open_dir(TILES_DIR).map_err(io("open the directory"))?;
        Ok(FileTileStore { dir, path })
    }

    /// The directory of the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, action: String) -> impl FnOnce(std::io::Error) -> TlogError + '_ {
        move |source| TlogError::Io { path: self.path.clone(), action, source }
    }

    /// Opens the directory `parts` if it exists.
    fn open_dirs(&self, parts: &[String]) -> Result<Option<Dir>> {
        match self.dir.open_dir(parts.join("/")) {
            Ok(dir) => Ok(Some(dir)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(self.io(format!("open {}", parts.join("/")))(e)),
        }
    }

    /// Reads a tile file of at most `limit` bytes; `None` when absent.
    fn read_file(&self, dir: &Dir, name: &str, shown: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        let file = match crate::store::open_regular(dir, name) {
            Ok(file) => file,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(self.io(format!("open {shown}"))(e)),
        };
        let mut bytes = Vec::with_capacity(limit);
        // Bounded: a tile file is never longer than a full tile.
        file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(self.io(format!("read {shown}")))?;
        Ok(Some(bytes))
    }

    /// The widest partial tile stored in `<N>.p/`, or [`Partial::Vanished`] when the
    /// listed file (or the directory) went away meanwhile, as when a writer completes
    /// the full tile.
    fn widest_partial(&self, dir: &Dir, last: &str, level: u8, index: u64) -> Result<Partial> {
        let partial_dir = format!("{last}.p");
        let entries = match dir.read_dir(&partial_dir) {
            Ok(entries) => entries,
            Err(e) if not_found(&e) => return Ok(Partial::Absent),
            Err(e) => return Err(self.io(format!("list {partial_dir}"))(e)),
        };
        let mut widest = 0usize;
        for entry in entries {
            let entry = entry.map_err(self.io(format!("list {partial_dir}")))?;
            // Only canonical widths count; temporary files of a crashed write do not.
            let name = entry.file_name();
            if let Some(width) = name.to_str().and_then(parse_width) {
                widest = widest.max(width);
            }
        }
        if widest == 0 {
            return Ok(Partial::Absent);
        }
        let tile = Tile::new(level, index, widest)?;
        let parts = match dir.open_dir(&partial_dir) {
            Ok(parts) => parts,
            Err(e) if not_found(&e) => return Ok(Partial::Vanished),
            Err(e) => return Err(self.io(format!("open {partial_dir}"))(e)),
        };
        match self.read_file(&parts, &widest.to_string(), &tile.path(), tile.byte_len())? {
            Some(bytes) if bytes.len() == tile.byte_len() => Ok(Partial::Found(bytes)),
            Some(bytes) => Err(TlogError::MalformedTile {
                path: tile.path(),
                reason: format!("{} bytes, expected {}", bytes.len(), tile.byte_len()),
            }),
            None => Ok(Partial::Vanished),
        }
    }

    /// Creates the directories of `parts` as needed (each creation made durable).
    fn create_dirs(&self, parts: &[String]) -> Result<Dir> {
        let mut dir = self.dir.try_clone().map_err(self.io("open the directory".into()))?;
        for part in parts {
            ensure_dir(&dir, part).map_err(self.io(format!("create {part}")))?;
            dir = dir.open_dir(part).map_err(self.io(format!("open {part}")))?;
        }
        Ok(dir)
    }
}

/// Creates `name` in `parent` unless it exists; a creation is followed by an fsync
/// of `parent`, so the new directory survives a crash.
fn ensure_dir(parent: &Dir, name: &str) -> std::io::Result<()> {
    match parent.create_dir(name) {
        Ok(()) => sync_dir(parent),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && parent.is_dir(name) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Temp file, fsync, rename, fsync of the directory.
fn write_atomic(dir: &Dir, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temp = format!(".tmp-{name}-{}", std::process::id());
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut file = dir.open_with(&temp, &options)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    dir.rename(&temp, dir, name)?;
    sync_dir(dir)
}

/// What `<N>.p/` held.
enum Partial {
    /// The widest partial tile.
    Found(Vec<u8>),
    /// No partial tile.
    Absent,
    /// A file listed went away before it was read.
    Vanished,
}

/// A partial width as it appears in a path: a canonical decimal from 1 to 255.
fn parse_width(name: &str) -> Option<usize> {
    let canonical =
        !name.is_empty() && !name.starts_with('0') && name.len() <= 3 && name.bytes().all(|b| b.is_ascii_digit());
    let width: usize = if canonical { name.parse().ok()? } else { return None };
    (width < HASHES_PER_TILE).then_some(width)
}

impl TileStore for FileTileStore {
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        let (parts, last) = split_path(level, index);
        let Some(dir) = self.open_dirs(&parts)? else { return Ok(None) };
        let full = Tile::new(level, index, HASHES_PER_TILE)?;
        // A reader racing a writer may see a partial tile vanish as the full tile
        // replaces it: look again (the full tile is durable before the partials go).
        for _ in 0..3 {
            if let Some(bytes) = self.read_file(&dir, &last, &full.path(), TILE_BYTES)? {
                if bytes.len() != TILE_BYTES {
                    return Err(TlogError::MalformedTile {
                        path: full.path(),
                        reason: format!("{} bytes, expected {TILE_BYTES}", bytes.len()),
                    });
                }
                return Ok(Some(bytes));
            }
            match self.widest_partial(&dir, &last, level, index)? {
                Partial::Found(bytes) => return Ok(Some(bytes)),
                Partial::Absent => return Ok(None),
                Partial::Vanished => {}
            }
        }
        Err(TlogError::Io {
            path: self.path.clone(),
            action: format!("read {}: its files keep changing", full.path()),
            source: std::io::ErrorKind::Interrupted.into(),
        })
    }

    fn write_tile(&self, tile: Tile, hashes: &[u8]) -> Result<()> {
        if hashes.len() != tile.byte_len() {
            return Err(TlogError::InvalidInput(format!(
                "tile {} needs {} bytes, not {}",
                tile.path(),
                tile.byte_len(),
                hashes.len()
            )));
        }
        if let Some(stored) = self.read_tile(tile.level, tile.index)? {
            if stored.len() >= hashes.len() && stored.starts_with(hashes) {
                return Ok(());
            }
            if stored.len() >= hashes.len() || !hashes.starts_with(&stored) {
                return Err(TlogError::TileConflict { tile, stored: stored.len() / HASH_BYTES });
            }
        }
        let (parts, last) = split_path(tile.level, tile.index);
        let dir = self.create_dirs(&parts)?;
        if tile.is_full() {
            write_atomic(&dir, &last, hashes).map_err(self.io(format!("write {}", tile.path())))?;
            // The narrower versions are no longer needed (C2SP allows removing a
            // partial tile once the full one is available); a failure here leaves
            // only files that readers ignore in favour of the full tile.
            let partial_dir = format!("{last}.p");
            if dir.remove_dir_all(&partial_dir).is_ok() {
                let _ = sync_dir(&dir);
            }
        } else {
            let partial_dir = format!("{last}.p");
            ensure_dir(&dir, &partial_dir).map_err(self.io(format!("create {partial_dir}")))?;
            let dir = dir.open_dir(&partial_dir).map_err(self.io(format!("open {partial_dir}")))?;
            write_atomic(&dir, &tile.width.to_string(), hashes).map_err(self.io(format!("write {}", tile.path())))?;
        }
        Ok(())
    }
}
