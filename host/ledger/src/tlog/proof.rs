//! RFC 9162 §2.1: the tree head, inclusion proofs (§2.1.3) and consistency proofs
//! (§2.1.4), generated from a [`SubtreeSource`] and verified with the RFC's
//! iterative algorithms (§2.1.3.2, §2.1.4.2).

use super::{EMPTY_ROOT, Hash, MAX_PROOF_HASHES, Result, TlogError, node_hash};

/// Where proofs get their hashes: the hash of any *complete* subtree of the tree.
///
/// The complete subtree of `height` h and `index` k holds the leaves
/// `k·2^h .. (k+1)·2^h`; its hash is their Merkle Tree Hash. Every hash a proof or a
/// tree head needs is one of these, or a fold of a few of them along the right edge.
pub trait SubtreeSource {
    /// The hash of the complete subtree of `height` at `index`.
    ///
    /// # Errors
    /// [`TlogError::InvalidInput`] when the subtree is not inside the tree; a
    /// store error when its hashes cannot be read.
    fn complete(&mut self, height: u32, index: u64) -> Result<Hash>;
}

impl<T: SubtreeSource + ?Sized> SubtreeSource for &mut T {
    fn complete(&mut self, height: u32, index: u64) -> Result<Hash> {
        (**self).complete(height, index)
    }
}

/// The largest power of two that is at most `n` (`n` ≥ 1).
fn prev_power_of_two(n: u64) -> u64 {
    1 << (63 - n.leading_zeros())
}

/// The largest power of two strictly below `n` (`n` ≥ 2): RFC 9162's `k`.
fn split(n: u64) -> u64 {
    prev_power_of_two(n - 1)
}

/// MTH(D\[lo:hi\]): the hash of the leaves `lo..hi`, a range that RFC 9162's
/// recursion produces (`lo` is a multiple of the largest power of two not above
/// `hi - lo`).
///
/// # Errors
/// [`TlogError::InvalidInput`] for an empty or unaligned range; the source's errors.
pub fn subtree_root(src: &mut (impl SubtreeSource + ?Sized), lo: u64, hi: u64) -> Result<Hash> {
    if lo >= hi {
        return Err(TlogError::InvalidInput(format!("empty leaf range {lo}..{hi}")));
    }
    // Left to right, the maximal complete subtrees of the range; folded from the right.
    let mut parts = Vec::with_capacity(64);
    let mut at = lo;
    while at < hi {
        let k = prev_power_of_two(hi - at);
        if !at.is_multiple_of(k) {
            return Err(TlogError::InvalidInput(format!("leaf range {lo}..{hi} is not a subtree of the tree")));
        }
        parts.push(src.complete(k.trailing_zeros(), at / k)?);
        at += k;
    }
    let mut hash = parts.pop().expect("the range is not empty");
    while let Some(left) = parts.pop() {
        hash = node_hash(&left, &hash);
    }
    Ok(hash)
}

/// The tree head (root hash) of the first `size` leaves; [`EMPTY_ROOT`] for 0.
///
/// # Errors
/// The source's errors.
pub fn root(src: &mut (impl SubtreeSource + ?Sized), size: u64) -> Result<Hash> {
    if size == 0 { Ok(EMPTY_ROOT) } else { subtree_root(src, 0, size) }
}

/// The inclusion proof (RFC 9162 §2.1.3.1, `PATH`) of leaf `index` in the tree of
/// `size` leaves: the sibling hashes from the leaf up to the root's child.
///
/// # Errors
/// [`TlogError::InvalidInput`] when `index` ≥ `size`; the source's errors.
pub fn inclusion_proof(src: &mut (impl SubtreeSource + ?Sized), index: u64, size: u64) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(TlogError::InvalidInput(format!("leaf {index} is not in a tree of {size} leaves")));
    }
    let mut proof = Vec::new();
    path(src, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path(src: &mut (impl SubtreeSource + ?Sized), m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Result<()> {
    if hi - lo == 1 {
        return Ok(());
    }
    let k = split(hi - lo);
    if m < lo + k {
        path(src, m, lo, lo + k, out)?;
        out.push(subtree_root(src, lo + k, hi)?);
    } else {
        path(src, m, lo + k, hi, out)?;
        out.push(subtree_root(src, lo, lo + k)?);
    }
    Ok(())
}

/// The consistency proof (RFC 9162 §2.1.4.1, `PROOF`) that the tree of `old` leaves is
/// a prefix of the tree of `new` leaves. Empty when `old` is 0 or equals `new`.
///
/// # Errors
/// [`TlogError::InvalidInput`] when `old` > `new`; the source's errors.
pub fn consistency_proof(src: &mut (impl SubtreeSource + ?Sized), old: u64, new: u64) -> Result<Vec<Hash>> {
    if old > new {
        return Err(TlogError::InvalidInput(format!("old size {old} is beyond the new size {new}")));
    }
    let mut proof = Vec::new();
    if old > 0 && old < new {
        subproof(src, old, 0, new, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof(
    src: &mut (impl SubtreeSource + ?Sized),
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<()> {
    if m == hi {
        if !whole {
            out.push(subtree_root(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(hi - lo);
    if m <= lo + k {
        subproof(src, m, lo, lo + k, whole, out)?;
        out.push(subtree_root(src, lo + k, hi)?);
    } else {
        subproof(src, m, lo + k, hi, false, out)?;
        out.push(subtree_root(src, lo, lo + k)?);
    }
    Ok(())
}

fn failed(kind: &'static str, reason: &'static str) -> TlogError {
    TlogError::ProofFailed { kind, reason }
}

/// The root implied by an inclusion proof (RFC 9162 §2.1.3.2, steps 1–3).
///
/// # Errors
/// [`TlogError::ProofFailed`] when the proof has the wrong length for `index` and `size`.
pub fn root_from_inclusion_proof(leaf: &Hash, index: u64, size: u64, proof: &[Hash]) -> Result<Hash> {
    const KIND: &str = "inclusion";
    if index >= size {
        return Err(failed(KIND, "the leaf index is not below the tree size"));
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(failed(KIND, "the proof is longer than any path"));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(failed(KIND, "the proof is longer than the path"));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(failed(KIND, "the proof is shorter than the path"));
    }
    Ok(r)
}

/// Verifies that `proof` proves leaf hash `leaf` at `index` in the tree of `size`
/// leaves with root `root` (RFC 9162 §2.1.3.2).
///
/// # Errors
/// [`TlogError::ProofFailed`].
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<()> {
    if root_from_inclusion_proof(leaf, index, size, proof)? == *root {
        Ok(())
    } else {
        Err(failed("inclusion", "the computed root is not the tree's root"))
    }
}

/// Verifies that `proof` proves the tree of `old` leaves with root `old_root` to be a
/// prefix of the tree of `new` leaves with root `new_root` (RFC 9162 §2.1.4.2).
///
/// Beyond the RFC's algorithm (which covers 0 < old < new): equal sizes need an empty
/// proof and equal roots, and old size 0 needs an empty proof and the empty root.
///
/// # Errors
/// [`TlogError::ProofFailed`].
pub fn verify_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> Result<()> {
    const KIND: &str = "consistency";
    if old > new {
        return Err(failed(KIND, "the old size is beyond the new size"));
    }
    if old == 0 || old == new {
        if !proof.is_empty() {
            return Err(failed(KIND, "the proof must be empty for these sizes"));
        }
        let matches = if old == 0 { *old_root == EMPTY_ROOT } else { old_root == new_root };
        return if matches { Ok(()) } else { Err(failed(KIND, "the roots do not match")) };
    }
    if proof.is_empty() {
        return Err(failed(KIND, "the proof is empty"));
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(failed(KIND, "the proof is longer than any path"));
    }
    // Step 2: when the old tree is a complete subtree, its root starts the path.
    let path: Vec<&Hash> =
        if old.is_power_of_two() { std::iter::once(old_root).chain(proof).collect() } else { proof.iter().collect() };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*path[0], *path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(failed(KIND, "the proof is longer than the path"));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(failed(KIND, "the proof is shorter than the path"));
    }
    if fr != *old_root {
        return Err(failed(KIND, "the computed old root is not the old tree's root"));
    }
    if sr != *new_root {
        return Err(failed(KIND, "the computed new root is not the new tree's root"));
    }
    Ok(())
}
