//! C2SP `tlog-tiles` (<https://c2sp.org/tlog-tiles>): tiles of height 8, their paths,
//! the [`TileStore`] trait and the [`TileReader`] that serves proofs from tiles.
//!
//! Tile `N` at level `L` holds up to 256 consecutive hashes of tree level `8·L`:
//! entry `i` is `MTH(D[(N·256 + i)·256^L .. (N·256 + i + 1)·256^L])`. Level 0 holds
//! leaf hashes; an entry of level `L + 1` is the root of a *full* tile of level `L`.
//! A tile of fewer than 256 hashes is *partial*; it only ever grows.

use std::collections::HashMap;

use super::proof::SubtreeSource;
use super::{HASH_BYTES, Hash, Result, TlogError, node_hash};

/// Height of a tile: 8 tree levels.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile: 2^8.
pub const HASHES_PER_TILE: usize = 256;
/// Bytes of a full tile: 256 × 32.
pub const TILE_BYTES: usize = HASHES_PER_TILE * HASH_BYTES;
/// Highest tile level a path may name (C2SP: 0 to 63).
pub const MAX_TILE_LEVEL: u8 = 63;

/// A tile: level, index within the level and width (number of hashes, 1 to 256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level `L` (tree level `8·L`).
    pub level: u8,
    /// Index `N` within the level.
    pub index: u64,
    /// Number of hashes: 256 for a full tile, 1 to 255 for a partial one.
    pub width: u16,
}

impl Tile {
    /// A tile, checked: level at most 63, width 1 to 256.
    ///
    /// # Errors
    /// [`TlogError::InvalidInput`].
    pub fn new(level: u8, index: u64, width: usize) -> Result<Tile> {
        if level > MAX_TILE_LEVEL || width == 0 || width > HASHES_PER_TILE {
            return Err(TlogError::InvalidInput(format!("no tile has level {level} and width {width}")));
        }
        Ok(Tile { level, index, width: width as u16 })
    }

    /// Whether the tile holds 256 hashes.
    pub fn is_full(&self) -> bool {
        usize::from(self.width) == HASHES_PER_TILE
    }

    /// Bytes of the tile: width × 32.
    pub fn byte_len(&self) -> usize {
        usize::from(self.width) * HASH_BYTES
    }

    /// The path of the tile, relative to the log prefix: `tile/<L>/<N>` or
    /// `tile/<L>/<N>.p/<W>`, with `N` in 3-digit groups (`x001/x234/067`).
    pub fn path(&self) -> String {
        let mut path = format!("tile/{}/{}", self.level, index_path(self.index));
        if !self.is_full() {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Parses a tile path (strictly: canonical numbers only, so each tile has one path).
    ///
    /// # Errors
    /// [`TlogError::InvalidInput`].
    pub fn parse_path(path: &str) -> Result<Tile> {
        let bad = || TlogError::InvalidInput(format!("`{path}` is not a tile path"));
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let level: u8 = canonical_decimal(level).and_then(|l| u8::try_from(l).ok()).ok_or_else(bad)?;
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let width = canonical_decimal(width).filter(|w| (1..HASHES_PER_TILE as u64).contains(w));
                (index, width.ok_or_else(bad)? as usize)
            }
            None => (rest, HASHES_PER_TILE),
        };
        let mut index: u64 = 0;
        let groups: Vec<&str> = index_part.split('/').collect();
        for (i, group) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() { group.strip_prefix('x').ok_or_else(bad)? } else { group };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let group: u64 = digits.parse().map_err(|_| bad())?;
            index = index.checked_mul(1000).and_then(|n| n.checked_add(group)).ok_or_else(bad)?;
        }
        let tile = Tile::new(level, index, width).map_err(|_| bad())?;
        // One path per tile: `x000/001` is refused, `001` is the path of tile 1.
        if tile.path() != path {
            return Err(bad());
        }
        Ok(tile)
    }
}

/// A decimal with no leading zeroes (`0` itself allowed).
fn canonical_decimal(s: &str) -> Option<u64> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// `N` as C2SP path elements: 3-digit groups, all but the last prefixed with `x`
/// (1234067 → `x001/x234/067`).
pub fn index_path(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut n = index / 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// Where tiles are kept. Small on purpose: the file store and the fleet's database
/// implement the same two calls.
///
/// The store keeps, for each (level, index), the hashes of that tile; a later write
/// of the same tile may only extend it (a partial tile grows until it is full). A
/// store may keep the narrower versions too (the file store keeps the partial tiles
/// until the full tile exists, as C2SP allows).
pub trait TileStore {
    /// The widest stored version of tile `index` at `level`: its hashes, 32 bytes each
    /// (at most [`TILE_BYTES`]), or `None` when no version is stored.
    ///
    /// # Errors
    /// [`TlogError::Io`], [`TlogError::Backend`] or [`TlogError::MalformedTile`].
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>>;

    /// Stores `hashes` (exactly `tile.width` × 32 bytes) as `tile`, durably before
    /// returning. Writing a version that is a prefix of the stored one (or equal to
    /// it) changes nothing.
    ///
    /// # Errors
    /// [`TlogError::TileConflict`] when a stored version is neither a prefix of
    /// `hashes` nor extended by it; [`TlogError::Io`] or [`TlogError::Backend`].
    fn write_tile(&self, tile: Tile, hashes: &[u8]) -> Result<()>;
}

impl<T: TileStore + ?Sized> TileStore for &T {
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        (**self).read_tile(level, index)
    }

    fn write_tile(&self, tile: Tile, hashes: &[u8]) -> Result<()> {
        (**self).write_tile(tile, hashes)
    }
}

/// Checks what a store returned: whole hashes, at most one full tile.
pub(crate) fn check_tile_bytes(level: u8, index: u64, bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(HASH_BYTES) || bytes.len() > TILE_BYTES {
        return Err(TlogError::MalformedTile {
            path: format!("tile/{level}/{}", index_path(index)),
            reason: format!("{} bytes is not 1 to 256 hashes of 32 bytes", bytes.len()),
        });
    }
    Ok(())
}

/// The root of a power-of-two run of hashes (a full tile, or an aligned part of
/// one): the tree of those hashes as leaves, hashed as interior nodes.
///
/// # Panics
/// When `hashes` is not 2^k hashes of 32 bytes (k ≥ 0).
pub fn tile_root(hashes: &[u8]) -> Hash {
    let count = hashes.len() / HASH_BYTES;
    assert!(count.is_power_of_two() && hashes.len().is_multiple_of(HASH_BYTES), "a power of two of hashes");
    let mut row: Vec<Hash> = hashes.chunks_exact(HASH_BYTES).map(|h| h.try_into().expect("32 bytes")).collect();
    while row.len() > 1 {
        row = row.chunks_exact(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
    }
    row[0]
}

/// Serves the complete subtree hashes of a tree of `size` leaves from a [`TileStore`],
/// reading each tile at most once (a proof reads O(log n) tiles).
///
/// The store may hold a larger tree: tiles only grow, so the hashes of a complete
/// subtree of the smaller tree are the same.
#[derive(Debug)]
pub struct TileReader<'s, S: TileStore + ?Sized> {
    store: &'s S,
    size: u64,
    cache: HashMap<(u8, u64), Vec<u8>>,
}

impl<'s, S: TileStore + ?Sized> TileReader<'s, S> {
    /// A reader of the tree of `size` leaves kept in `store`.
    pub fn new(store: &'s S, size: u64) -> TileReader<'s, S> {
        TileReader { store, size, cache: HashMap::new() }
    }

    /// The tree size this reader serves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many tiles were read from the store so far.
    pub fn tiles_read(&self) -> usize {
        self.cache.len()
    }

    /// The hashes of tile `index` at `level`, holding at least `needed` hashes.
    fn tile(&mut self, level: u8, index: u64, needed: usize) -> Result<&[u8]> {
        if !self.cache.contains_key(&(level, index)) {
            let bytes = self.store.read_tile(level, index)?.unwrap_or_default();
            if !bytes.is_empty() {
                check_tile_bytes(level, index, &bytes)?;
            }
            self.cache.insert((level, index), bytes);
        }
        let bytes = &self.cache[&(level, index)];
        if bytes.len() < needed * HASH_BYTES {
            return Err(TlogError::MissingTile {
                tile: Tile::new(level, index, needed)?,
                needed,
                stored: bytes.len() / HASH_BYTES,
            });
        }
        Ok(bytes)
    }
}

impl<S: TileStore + ?Sized> SubtreeSource for TileReader<'_, S> {
    fn complete(&mut self, height: u32, index: u64) -> Result<Hash> {
        let inside = height < 64
            && index.checked_add(1).and_then(|end| end.checked_mul(1 << height)).is_some_and(|end| end <= self.size);
        if !inside {
            return Err(TlogError::InvalidInput(format!(
                "subtree {index} of height {height} is not inside the tree of {} leaves",
                self.size
            )));
        }
        // Tile level L holds tree level 8·L; the subtree is 2^r consecutive hashes of
        // one tile there, hashed up r levels.
        let level = (height / TILE_HEIGHT) as u8;
        let r = height % TILE_HEIGHT;
        let first = index << r;
        let tile_index = first >> TILE_HEIGHT;
        let offset = (first % HASHES_PER_TILE as u64) as usize;
        let count = 1usize << r;
        let bytes = self.tile(level, tile_index, offset + count)?;
        Ok(tile_root(&bytes[offset * HASH_BYTES..(offset + count) * HASH_BYTES]))
    }
}
