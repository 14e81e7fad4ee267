//! Keeping the tiles of a growing tree: [`TileWriter`] (append leaves, write the tiles
//! they complete, flush the partial ones), [`rebuild`] (every tile from the lines),
//! [`check`] (stored tiles against the lines) and [`stored_size`].
//!
//! Crash safety: each tile write is durable before the next starts, and tiles are
//! written bottom-up (a full tile before the entry it adds to the level above). A
//! crash therefore leaves level 0 the most advanced; [`TileWriter::resume`] recomputes
//! and rewrites whatever the levels above missed.

use super::tile::{HASHES_PER_TILE, TILE_BYTES, TILE_HEIGHT, Tile, TileStore, check_tile_bytes, tile_root};
use super::{HASH_BYTES, Hash, Result, TlogError, leaf_hash};

/// Most problems a [`CheckReport`] lists.
pub const MAX_REPORTED_PROBLEMS: usize = 64;

/// `n >> (8·level)`, 0 once the shift passes 64 bits.
fn at_level(n: u64, level: usize) -> u64 {
    u32::try_from(level * TILE_HEIGHT as usize).ok().and_then(|shift| n.checked_shr(shift)).unwrap_or(0)
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// The right edge of a tree: for each tile level, the hashes of its rightmost,
/// incomplete tile. Pushing a leaf hands every tile it completes to `full`.
#[derive(Debug, Default)]
struct Edge {
    size: u64,
    rows: Vec<Vec<Hash>>,
}

impl Edge {
    fn push(&mut self, leaf: Hash, full: &mut impl FnMut(Tile, &[u8]) -> Result<()>) -> Result<()> {
        let new_size = self.size + 1;
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.rows.len() == level {
                self.rows.push(Vec::with_capacity(HASHES_PER_TILE));
            }
            self.rows[level].push(hash);
            if self.rows[level].len() < HASHES_PER_TILE {
                break;
            }
            let bytes = concat(&self.rows[level]);
            let index = at_level(new_size, level + 1) - 1;
            full(Tile::new(level as u8, index, HASHES_PER_TILE)?, &bytes)?;
            hash = tile_root(&bytes);
            self.rows[level].clear();
            level += 1;
        }
        self.size = new_size;
        Ok(())
    }

    /// The partial tiles of the edge (levels with at least one hash), bottom-up.
    fn partials(&self) -> impl Iterator<Item = (Tile, Vec<u8>)> + '_ {
        self.rows.iter().enumerate().filter(|(_, row)| !row.is_empty()).map(|(level, row)| {
            let tile = Tile::new(level as u8, at_level(self.size, level + 1), row.len()).expect("1 to 255 hashes");
            (tile, concat(row))
        })
    }
}

/// Appends leaves to the tiles of a [`TileStore`].
///
/// Full tiles are written as soon as a leaf completes them; partial tiles are
/// written by [`TileWriter::flush`]. After an error the writer refuses further use:
/// open a new one with [`TileWriter::resume`] at [`stored_size`].
#[derive(Debug)]
pub struct TileWriter<S: TileStore> {
    store: S,
    edge: Edge,
    /// For each level, how many hashes of its partial tile are known to be stored.
    stored: Vec<usize>,
    poisoned: bool,
}

impl<S: TileStore> TileWriter<S> {
    /// A writer of a new, empty tree.
    pub fn new(store: S) -> TileWriter<S> {
        TileWriter { store, edge: Edge::default(), stored: Vec::new(), poisoned: false }
    }

    /// A writer continuing the tree of `size` leaves whose tiles are in `store`.
    ///
    /// Reads the rightmost tile of each level. Entries that a level above lacks (a
    /// crash between writes) are recomputed from the full tiles below them, and the
    /// missing full tiles are rewritten; the repaired partial tiles are written by the
    /// next [`TileWriter::flush`].
    ///
    /// # Errors
    /// [`TlogError::MissingTile`] when level 0 does not cover `size` leaves (resume
    /// at [`stored_size`] and push the missing lines); store errors.
    pub fn resume(store: S, size: u64) -> Result<TileWriter<S>> {
        let mut rows = Vec::new();
        let mut stored = Vec::new();
        let mut level = 0;
        while at_level(size, level) > 0 {
            let width = (at_level(size, level) % HASHES_PER_TILE as u64) as usize;
            let index = at_level(size, level + 1);
            let mut row: Vec<Hash> = Vec::with_capacity(HASHES_PER_TILE);
            if width > 0 {
                let bytes = read_checked(&store, level as u8, index)?.unwrap_or_default();
                row.extend(bytes.chunks_exact(HASH_BYTES).take(width).map(to_hash));
                stored.push(row.len());
                for j in row.len()..width {
                    if level == 0 {
                        return Err(TlogError::MissingTile {
                            tile: Tile::new(0, index, width)?,
                            needed: width,
                            stored: row.len(),
                        });
                    }
                    row.push(full_tile_root(&store, level as u8 - 1, index * HASHES_PER_TILE as u64 + j as u64)?);
                }
            } else {
                stored.push(0);
            }
            rows.push(row);
            level += 1;
        }
        Ok(TileWriter { store, edge: Edge { size, rows }, stored, poisoned: false })
    }

    /// The store the tiles are written to.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Number of leaves pushed (stored or not yet flushed).
    pub fn size(&self) -> u64 {
        self.edge.size
    }

    /// Appends the leaf of `line` (a receipt line without its `\n`).
    ///
    /// # Errors
    /// Store errors, and [`TlogError::InvalidInput`] after an earlier error.
    pub fn push_line(&mut self, line: &[u8]) -> Result<()> {
        self.push_leaf_hash(leaf_hash(line))
    }

    /// Appends a leaf given by its hash.
    ///
    /// # Errors
    /// Store errors, and [`TlogError::InvalidInput`] after an earlier error.
    pub fn push_leaf_hash(&mut self, hash: Hash) -> Result<()> {
        self.usable()?;
        let store = &self.store;
        let stored = &mut self.stored;
        let result = self.edge.push(hash, &mut |tile, bytes| {
            store.write_tile(tile, bytes)?;
            if stored.len() <= usize::from(tile.level) {
                stored.resize(usize::from(tile.level) + 1, 0);
            }
            stored[usize::from(tile.level)] = 0;
            Ok(())
        });
        self.poisoned = result.is_err();
        result
    }

    /// Writes the partial tiles that changed since they were last written, bottom-up.
    /// After it returns, the store holds every tile of the tree of [`TileWriter::size`].
    ///
    /// # Errors
    /// Store errors, and [`TlogError::InvalidInput`] after an earlier error.
    pub fn flush(&mut self) -> Result<()> {
        self.usable()?;
        for (tile, bytes) in self.edge.partials() {
            let level = usize::from(tile.level);
            if self.stored.get(level).copied().unwrap_or(0) == usize::from(tile.width) {
                continue;
            }
            if let Err(e) = self.store.write_tile(tile, &bytes) {
                self.poisoned = true;
                return Err(e);
            }
            if self.stored.len() <= level {
                self.stored.resize(level + 1, 0);
            }
            self.stored[level] = usize::from(tile.width);
        }
        Ok(())
    }

    fn usable(&self) -> Result<()> {
        if self.poisoned {
            return Err(TlogError::InvalidInput("the tile writer failed earlier; resume it from the store".into()));
        }
        Ok(())
    }
}

fn to_hash(bytes: &[u8]) -> Hash {
    bytes.try_into().expect("32-byte chunk")
}

fn read_checked<S: TileStore + ?Sized>(store: &S, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
    let bytes = store.read_tile(level, index)?;
    if let Some(bytes) = &bytes {
        check_tile_bytes(level, index, bytes)?;
    }
    Ok(bytes)
}

/// The root of full tile `index` at `level`, recomputing (from the level below) and
/// rewriting it when it is missing or only partly stored.
fn full_tile_root<S: TileStore + ?Sized>(store: &S, level: u8, index: u64) -> Result<Hash> {
    let bytes = read_checked(store, level, index)?.unwrap_or_default();
    if bytes.len() == TILE_BYTES {
        return Ok(tile_root(&bytes));
    }
    if level == 0 {
        let stored = bytes.len() / HASH_BYTES;
        return Err(TlogError::MissingTile {
            tile: Tile::new(0, index, HASHES_PER_TILE)?,
            needed: HASHES_PER_TILE,
            stored,
        });
    }
    let mut full = bytes;
    for j in full.len() / HASH_BYTES..HASHES_PER_TILE {
        full.extend_from_slice(&full_tile_root(store, level - 1, index * HASHES_PER_TILE as u64 + j as u64)?);
    }
    store.write_tile(Tile::new(level, index, HASHES_PER_TILE)?, &full)?;
    Ok(tile_root(&full))
}

/// The number of leaves level 0 of the store covers: full tiles, then the widest
/// partial tile after them. O(log n) tile reads.
///
/// # Errors
/// Store errors.
pub fn stored_size<S: TileStore + ?Sized>(store: &S) -> Result<u64> {
    let width = |index: u64| -> Result<usize> {
        Ok(read_checked(store, 0, index)?.map_or(0, |bytes| bytes.len() / HASH_BYTES))
    };
    let is_full = |index: u64| -> Result<bool> { Ok(width(index)? == HASHES_PER_TILE) };
    // Gallop to a tile that is not full, then bisect: tiles are written in order.
    let (mut lo, mut hi) = (0u64, 1u64);
    if !is_full(0)? {
        return Ok(width(0)? as u64);
    }
    while is_full(hi)? {
        lo = hi;
        hi = hi.checked_mul(2).ok_or_else(|| TlogError::InvalidInput("the store claims 2^64 tiles".into()))?;
    }
    // Invariant: tile lo is full, tile hi is not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if is_full(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi * HASHES_PER_TILE as u64 + width(hi)? as u64)
}

fn line_error<E: Into<Box<dyn std::error::Error + Send + Sync>>>(index: u64) -> impl FnOnce(E) -> TlogError {
    move |e| TlogError::Lines { index, source: e.into() }
}

/// Writes every tile of the tree of `lines` (each a receipt line without its `\n`)
/// into `store`, and returns the number of leaves. Stored tiles that agree are left
/// as they are; one that disagrees is an error, never overwritten.
///
/// # Errors
/// [`TlogError::Lines`] when a line cannot be read; store errors, including
/// [`TlogError::TileConflict`].
pub fn rebuild<S, I, L, E>(store: &S, lines: I) -> Result<u64>
where
    S: TileStore + ?Sized,
    I: IntoIterator<Item = std::result::Result<L, E>>,
    L: AsRef<[u8]>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut writer = TileWriter::new(store);
    for line in lines {
        let line = line.map_err(line_error(writer.size()))?;
        writer.push_line(line.as_ref())?;
    }
    writer.flush()?;
    Ok(writer.size())
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Number of lines (leaves) read.
    pub leaves: u64,
    /// Number of tiles compared.
    pub tiles_checked: u64,
    /// The problems found, at most [`MAX_REPORTED_PROBLEMS`].
    pub problems: Vec<TileProblem>,
}

impl CheckReport {
    /// Whether every tile of the lines is stored exactly, and nothing beyond them.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn add(&mut self, tile: Tile, kind: TileProblemKind) {
        if self.problems.len() < MAX_REPORTED_PROBLEMS {
            self.problems.push(TileProblem { tile, kind });
        }
    }
}

/// A tile that does not agree with the lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileProblem {
    /// The tile the lines imply (or, for [`TileProblemKind::Ahead`], the stored one).
    pub tile: Tile,
    /// What is wrong.
    pub kind: TileProblemKind,
}

/// What is wrong with a tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileProblemKind {
    /// A full tile inside the tree is not stored.
    Missing,
    /// The stored hashes differ from the hashes of the lines.
    Mismatch,
    /// The tile at the right edge holds a prefix of what the lines imply: the tiles
    /// were not yet written up to the last line.
    Behind {
        /// Hashes stored.
        stored: usize,
    },
    /// The store holds hashes beyond the last line: the lines were cut (or the tiles
    /// belong to another log).
    Ahead {
        /// Hashes stored.
        stored: usize,
    },
}

/// Compares the stored tiles with the tiles of `lines`: every full tile, the partial
/// tile of each level, and that nothing is stored beyond them.
///
/// # Errors
/// [`TlogError::Lines`] when a line cannot be read; store errors.
pub fn check<S, I, L, E>(store: &S, lines: I) -> Result<CheckReport>
where
    S: TileStore + ?Sized,
    I: IntoIterator<Item = std::result::Result<L, E>>,
    L: AsRef<[u8]>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut failed = None;
    let leaves = lines.into_iter().enumerate().map_while(|(index, line)| match line {
        Ok(line) => Some(leaf_hash(line.as_ref())),
        Err(e) => {
            failed = Some(line_error(index as u64)(e));
            None
        }
    });
    let report = check_leaves(store, leaves)?;
    match failed {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// [`check`] given the leaf hashes instead of the lines.
///
/// # Errors
/// Store errors.
pub fn check_leaves<S, I>(store: &S, leaves: I) -> Result<CheckReport>
where
    S: TileStore + ?Sized,
    I: IntoIterator<Item = Hash>,
{
    let mut report = CheckReport::default();
    let mut edge = Edge::default();
    for leaf in leaves {
        edge.push(leaf, &mut |tile, bytes| {
            report.tiles_checked += 1;
            compare(store, tile, bytes, &mut report)
        })?;
    }
    report.leaves = edge.size;
    for (tile, bytes) in edge.partials() {
        report.tiles_checked += 1;
        compare(store, tile, &bytes, &mut report)?;
    }
    // Nothing may be stored after the last tile of each level.
    let mut level = 0;
    loop {
        let count = at_level(edge.size, level);
        let next = count.div_ceil(HASHES_PER_TILE as u64);
        if let Some(bytes) = read_checked(store, level as u8, next)? {
            let stored = bytes.len() / HASH_BYTES;
            report.add(Tile::new(level as u8, next, stored)?, TileProblemKind::Ahead { stored });
        }
        if count == 0 || level as u32 * TILE_HEIGHT >= 56 {
            break;
        }
        level += 1;
    }
    Ok(report)
}

fn compare<S: TileStore + ?Sized>(store: &S, tile: Tile, expected: &[u8], report: &mut CheckReport) -> Result<()> {
    let Some(stored) = read_checked(store, tile.level, tile.index)? else {
        let kind = if tile.is_full() { TileProblemKind::Missing } else { TileProblemKind::Behind { stored: 0 } };
        report.add(tile, kind);
        return Ok(());
    };
    let common = stored.len().min(expected.len());
    let width = stored.len() / HASH_BYTES;
    if stored[..common] != expected[..common] {
        report.add(tile, TileProblemKind::Mismatch);
    } else if stored.len() < expected.len() {
        report.add(tile, TileProblemKind::Behind { stored: width });
    } else if stored.len() > expected.len() {
        report.add(tile, TileProblemKind::Ahead { stored: width });
    }
    Ok(())
}
