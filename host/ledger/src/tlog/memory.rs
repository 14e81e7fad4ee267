//! A tree held in memory: every complete subtree's hash, for small trees, tests and
//! reference computations.

use super::proof::SubtreeSource;
use super::{Hash, Result, TlogError, leaf_hash, node_hash};

/// Every complete subtree hash of a tree, level by level (level 0 holds the leaf
/// hashes). About two hashes per leaf; proofs cost O(log n) lookups.
///
/// ```
/// use andon_ledger::tlog::{self, MemoryTree};
///
/// let mut tree = MemoryTree::new();
/// for line in ["a", "b", "c"] {
///     tree.push_line(line.as_bytes());
/// }
/// let root = tlog::root(&mut tree, 3)?;
/// let proof = tlog::inclusion_proof(&mut tree, 1, 3)?;
/// tlog::verify_inclusion(&tlog::leaf_hash(b"b"), 1, 3, &proof, &root)?;
/// # Ok::<(), tlog::TlogError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// The tree of these lines (each without its `\n`).
    pub fn from_lines<L: AsRef<[u8]>>(lines: impl IntoIterator<Item = L>) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for line in lines {
            tree.push_line(line.as_ref());
        }
        tree
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Appends the leaf of `line` (without its `\n`).
    pub fn push_line(&mut self, line: &[u8]) {
        self.push_leaf_hash(leaf_hash(line));
    }

    /// Appends a leaf given by its hash.
    pub fn push_leaf_hash(&mut self, hash: Hash) {
        let mut hash = hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            if row.len() % 2 == 1 {
                return;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// The leaf hashes, in order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }
}

impl SubtreeSource for MemoryTree {
    fn complete(&mut self, height: u32, index: u64) -> Result<Hash> {
        usize::try_from(height)
            .ok()
            .and_then(|h| self.levels.get(h))
            .and_then(|row| usize::try_from(index).ok().and_then(|i| row.get(i)))
            .copied()
            .ok_or_else(|| {
                TlogError::InvalidInput(format!(
                    "subtree {index} of height {height} is not inside the tree of {} leaves",
                    self.size()
                ))
            })
    }
}
