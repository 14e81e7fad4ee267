//! The ledger as a Merkle tree: RFC 9162 (Certificate Transparency v2) hashing over
//! receipt lines, inclusion and consistency proofs, and their storage as C2SP
//! `tlog-tiles` (specified byte for byte in `docs/log.md`).
//!
//! Leaf *i* (0-based) of the tree is receipt seq *i + 1*: the bytes of line *i + 1* of
//! `receipts.jsonl` **without** its `\n`.
//!
//! - leaf hash: `SHA-256(0x00 ‖ line)` ([`leaf_hash`]);
//! - interior node: `SHA-256(0x01 ‖ left ‖ right)` ([`node_hash`]);
//! - root of the empty tree: `SHA-256("")` ([`EMPTY_ROOT`]).
//!
//! Proofs are computed from any [`SubtreeSource`]: a [`MemoryTree`] (every hash in
//! memory, for small trees and tests) or a [`TileReader`] over a [`TileStore`], which
//! reads O(log n) tiles per proof. [`TileWriter`] keeps the tiles of a growing tree,
//! [`rebuild`] writes every tile from the lines, [`check`] compares stored tiles with
//! the lines, and [`FileTileStore`] keeps them in a ledger's `tiles/` folder.
//!
//! # Example
//!
//! ```
//! use andon_ledger::tlog::{self, FileTileStore, TileReader};
//!
//! let lines: Vec<Vec<u8>> = (1..=5).map(|seq| format!("{{\"seq\":{seq}}}").into_bytes()).collect();
//! let dir = tempfile::tempdir()?;
//! let store = FileTileStore::open(&dir.path().join("tiles"), true)?;
//! let size = tlog::rebuild(&store, lines.iter().map(Ok::<_, std::io::Error>))?;
//! assert_eq!(size, 5);
//!
//! let mut reader = TileReader::new(&store, size);
//! let root = tlog::root(&mut reader, size)?;
//! let proof = tlog::inclusion_proof(&mut reader, 3, size)?;
//! tlog::verify_inclusion(&tlog::leaf_hash(&lines[3]), 3, size, &proof, &root)?;
//!
//! let old_root = tlog::root(&mut reader, 2)?;
//! let consistency = tlog::consistency_proof(&mut reader, 2, size)?;
//! tlog::verify_consistency(2, size, &old_root, &root, &consistency)?;
//! assert!(tlog::check(&store, lines.iter().map(Ok::<_, std::io::Error>))?.problems.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod file;
mod memory;
mod proof;
mod tile;

pub use build::{
    CheckReport, MAX_REPORTED_PROBLEMS, TileProblem, TileProblemKind, TileWriter, check, check_leaves, rebuild,
    stored_size,
};
pub use file::{FileTileStore, TILES_DIR};
pub use memory::MemoryTree;
pub use proof::{
    SubtreeSource, consistency_proof, inclusion_proof, root, root_from_inclusion_proof, subtree_root,
    verify_consistency, verify_inclusion,
};
pub use tile::{
    HASHES_PER_TILE, MAX_TILE_LEVEL, TILE_BYTES, TILE_HEIGHT, Tile, TileReader, TileStore, index_path, tile_root,
};

use sha2::{Digest as _, Sha256};

/// A SHA-256 hash: a leaf, a node or a root of the tree.
pub type Hash = [u8; 32];

/// Bytes of a [`Hash`](type@Hash).
pub const HASH_BYTES: usize = 32;

/// Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41,
    0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Most hashes in an inclusion or consistency proof of a tree of at most 2^63 leaves.
pub const MAX_PROOF_HASHES: usize = 63;

/// Result alias of this module.
pub type Result<T, E = TlogError> = std::result::Result<T, E>;

/// Why a tree, a proof or a tile could not be computed, stored or verified.
#[derive(Debug, thiserror::Error)]
pub enum TlogError {
    /// The arguments do not describe a tree position (an index beyond the size,
    /// sizes out of order).
    #[error("invalid tree position: {0}")]
    InvalidInput(String),
    /// A proof does not verify.
    #[error("{kind} proof does not verify: {reason}")]
    ProofFailed {
        /// `inclusion` or `consistency`.
        kind: &'static str,
        /// What did not match.
        reason: &'static str,
    },
    /// A tile the computation needs is not stored (or is narrower than needed).
    #[error("tile {} is not stored with at least {needed} hashes (stored: {stored})", tile.path())]
    MissingTile {
        /// The tile, at the width needed.
        tile: Tile,
        /// Hashes needed.
        needed: usize,
        /// Hashes stored (0 when the tile is absent).
        stored: usize,
    },
    /// Writing a tile would change or shorten a stored one.
    #[error("tile {} conflicts with the stored {} hashes: a tile may only be replaced by a longer version of itself", tile.path(), stored)]
    TileConflict {
        /// The tile being written.
        tile: Tile,
        /// Hashes of the stored version.
        stored: usize,
    },
    /// A stored tile is not a whole number of hashes, or is wider than a tile.
    #[error("stored tile {path} is malformed: {reason}")]
    MalformedTile {
        /// Its path under the store.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file operation of the file store failed.
    #[error("tile store {}: cannot {action}", path.display())]
    Io {
        /// The store directory.
        path: std::path::PathBuf,
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another store backend failed.
    #[error("tile store: cannot {action}")]
    Backend {
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading the leaf lines failed.
    #[error("cannot read leaf line {index}")]
    Lines {
        /// 0-based leaf index of the line.
        index: u64,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Hash of a leaf: `SHA-256(0x00 ‖ line)`, where `line` is a receipt line without its `\n`.
pub fn leaf_hash(line: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(line);
    hasher.finalize().into()
}

/// Hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests;
