//! Every tile file a static server would hand out, compared with the tree of the
//! receipts: each version of a partial tile (`<N>.p/<W>`, kept for checkpoints of
//! older sizes), every full tile, nothing beyond the receipts, nothing that is not a
//! tile. `tlog::check_leaves` reads the tiles the way Andon does (the widest
//! version); this reads them the way any tlog-tiles client may.

use std::path::Path;

use crate::tlog::{HASH_BYTES, HASHES_PER_TILE, MemoryTree, SubtreeSource, TILE_HEIGHT, Tile};

/// Most tile files read (a tree of 2^32 leaves has about 17 million).
const MAX_TILE_FILES: usize = 1 << 26;

/// Problems found: `(tile path, what)`, at most `limit`.
pub(super) fn check(tiles: &Path, tree: &mut MemoryTree, size: u64, limit: usize) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut stack = vec![tiles.join("tile")];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_TILE_FILES || problems.len() >= limit {
                return problems;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                continue;
            }
            let relative = path.strip_prefix(tiles).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            let Ok(tile) = Tile::parse_path(&relative) else {
                problems.push((relative, "not a tile path".into()));
                continue;
            };
            if !kind.is_file() {
                problems.push((relative, "not a regular file".into()));
                continue;
            }
            if let Some(problem) = compare(&path, tile, tree, size) {
                problems.push((relative, problem));
            }
        }
    }
    problems
}

/// What is wrong with the stored version of `tile` at `path`, if anything.
fn compare(path: &Path, tile: Tile, tree: &mut MemoryTree, size: u64) -> Option<String> {
    let width = usize::from(tile.width);
    let bytes = match std::fs::metadata(path) {
        Ok(meta) if meta.len() == (width * HASH_BYTES) as u64 => std::fs::read(path).ok()?,
        Ok(meta) => return Some(format!("{} bytes, not the {} of {width} hashes", meta.len(), width * HASH_BYTES)),
        Err(e) => return Some(e.to_string()),
    };
    let height = u32::from(tile.level) * TILE_HEIGHT;
    for (j, stored) in bytes.chunks_exact(HASH_BYTES).enumerate() {
        let index = tile.index * HASHES_PER_TILE as u64 + j as u64;
        let end = (height < 64).then(|| 1u64 << height).and_then(|unit| index.checked_add(1)?.checked_mul(unit));
        if end.is_none_or(|end| end > size) {
            return Some(format!("hash {j} lies beyond the {size} receipts (cut, or another log's)"));
        }
        match tree.complete(height, index) {
            Ok(hash) if hash[..] == *stored => {}
            _ => return Some(format!("hash {j} is not the hash of the receipts")),
        }
    }
    None
}
