//! The incident index: every checkpoint note the writer signs commits, in one
//! extension line, to each incident's last receipt in its tree, so an export can
//! prove that no receipt of its incident up to the checkpoint is left out
//! (specified in `docs/log.md`, section 9).
//!
//! The index of a tree is the list of `(incident id, hash of its last receipt)` for
//! every incident with a receipt in the tree, sorted by id (bytewise, ids unique).
//! Entry *i* is the leaf `incident id ‖ "\n" ‖ hash` (the hash is 64 lowercase hex
//! digits) of an RFC 9162 tree, hashed as the log's tree is. The note's extension
//! line is `andon-incident-index/v1 <entries> <base64 root>`.
//!
//! An [`IndexProof`] shows one incident's entry with its inclusion proof, and its
//! neighbours' entries and proofs: the neighbours' ids enclose the incident's, so in
//! a sorted index no other entry of that incident exists. Whether the signed index
//! is sorted and true is what `andon verify` recomputes from the receipts.

use serde::{Deserialize, Serialize};

use crate::note::LogCheckpoint;
use crate::tlog::{self, Hash, MemoryTree};

/// Start of the extension line.
pub const INDEX_EXTENSION: &str = "andon-incident-index/v1";

/// The leaf data of one entry.
pub fn entry(incident_id: &str, head_hash: &str) -> Vec<u8> {
    format!("{incident_id}\n{head_hash}").into_bytes()
}

/// The index of a set of incident heads.
#[derive(Debug, Clone)]
pub struct IncidentIndex {
    entries: Vec<(String, String)>,
    tree: MemoryTree,
}

impl IncidentIndex {
    /// The index of `heads` (incident id → hash of its last receipt).
    pub fn new<'a>(heads: impl IntoIterator<Item = (&'a String, &'a String)>) -> IncidentIndex {
        let mut entries: Vec<(String, String)> = heads.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let tree = MemoryTree::from_lines(entries.iter().map(|(id, hash)| entry(id, hash)));
        IncidentIndex { entries, tree }
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Whether no incident has a receipt.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The root of the index's tree.
    pub fn root(&mut self) -> Hash {
        let size = self.len();
        tlog::root(&mut self.tree, size).expect("the whole tree")
    }

    /// The note's extension line.
    pub fn extension(&mut self) -> String {
        format!("{INDEX_EXTENSION} {} {}", self.len(), crate::note::encode_base64(&self.root()))
    }

    fn proven(&mut self, index: usize) -> ProvenEntry {
        let (id, hash) = self.entries[index].clone();
        let size = self.len();
        let path = tlog::inclusion_proof(&mut self.tree, index as u64, size).expect("inside the tree");
        ProvenEntry {
            index: index as u64,
            incident_id: id,
            head_hash: hash,
            path: path.iter().map(hex::encode).collect(),
        }
    }

    /// The proof of `incident_id`'s entry, or `None` when it has no receipt.
    pub fn prove(&mut self, incident_id: &str) -> Option<IndexProof> {
        let at = self.entries.binary_search_by(|(id, _)| id.as_bytes().cmp(incident_id.as_bytes())).ok()?;
        let left = (at > 0).then(|| self.proven(at - 1));
        let right = (at + 1 < self.entries.len()).then(|| self.proven(at + 1));
        Some(IndexProof { entries: self.len(), entry: self.proven(at), left, right })
    }
}

/// The index committed by a checkpoint: its entry count and root, from the
/// extension line. `None` when the checkpoint has no index line.
///
/// # Errors
/// A message when the line is malformed or repeated.
pub fn committed(checkpoint: &LogCheckpoint) -> Result<Option<(u64, Hash)>, String> {
    let mut found = None;
    for line in &checkpoint.extensions {
        let Some(rest) = line.strip_prefix(INDEX_EXTENSION).and_then(|r| r.strip_prefix(' ')) else { continue };
        let bad = || format!("malformed incident index line `{line}`");
        let (count, root) = rest.split_once(' ').ok_or_else(bad)?;
        let count: u64 = count.parse().ok().filter(|c: &u64| c.to_string() == count).ok_or_else(bad)?;
        let root: Hash = crate::note::decode_base64(root).and_then(|r| r.try_into().ok()).ok_or_else(bad)?;
        if found.replace((count, root)).is_some() {
            return Err("two incident index lines".into());
        }
    }
    Ok(found)
}

/// One entry of the index with its inclusion proof (hashes in lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenEntry {
    /// Position in the sorted index.
    pub index: u64,
    /// The incident.
    pub incident_id: String,
    /// The hash of its last receipt in the tree.
    pub head_hash: String,
    /// RFC 9162 inclusion proof of the entry, leaf end first.
    pub path: Vec<String>,
}

/// The proof that an incident's last receipt in a checkpoint's tree is `entry.head_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexProof {
    /// Entries in the index.
    pub entries: u64,
    /// The incident's entry.
    pub entry: ProvenEntry,
    /// The entry before it (none when it is the first).
    pub left: Option<ProvenEntry>,
    /// The entry after it (none when it is the last).
    pub right: Option<ProvenEntry>,
}

impl ProvenEntry {
    fn verify(&self, entries: u64, root: &Hash) -> Result<(), String> {
        let mut path = Vec::with_capacity(self.path.len());
        for h in &self.path {
            let mut raw = [0u8; 32];
            hex::decode_to_slice(h, &mut raw).map_err(|_| format!("`{h}` is not a hex hash"))?;
            path.push(raw);
        }
        let leaf = tlog::leaf_hash(&entry(&self.incident_id, &self.head_hash));
        tlog::verify_inclusion(&leaf, self.index, entries, &path, root)
            .map_err(|e| format!("entry {} (`{}`) is not in the index: {e}", self.index, self.incident_id))
    }
}

impl IndexProof {
    /// Checks the proof against the index a checkpoint commits to, for `incident_id`;
    /// returns the hash of the incident's last receipt in that tree.
    ///
    /// # Errors
    /// A message naming what does not hold.
    pub fn verify(&self, incident_id: &str, entries: u64, root: &Hash) -> Result<&str, String> {
        if self.entries != entries {
            return Err(format!(
                "the proof is of an index of {} entries, the checkpoint's has {entries}",
                self.entries
            ));
        }
        if self.entry.incident_id != incident_id {
            return Err(format!("the proof is of incident `{}`, not `{incident_id}`", self.entry.incident_id));
        }
        if self.entry.head_hash.len() != 64 || !crate::store::is_hash(&self.entry.head_hash) {
            return Err("the entry's hash is not 64 lowercase hex digits".into());
        }
        self.entry.verify(entries, root)?;
        let at = self.entry.index;
        match (&self.left, at) {
            (None, 0) => {}
            (Some(left), _) if at > 0 && left.index == at - 1 => {
                left.verify(entries, root)?;
                if left.incident_id.as_bytes() >= incident_id.as_bytes() {
                    return Err(format!("the entry before it, `{}`, does not sort before it", left.incident_id));
                }
            }
            _ => return Err(format!("the proof lacks entry {} before the incident's", at.wrapping_sub(1))),
        }
        match (&self.right, at + 1 == entries) {
            (None, true) => {}
            (Some(right), false) if right.index == at + 1 => {
                right.verify(entries, root)?;
                if right.incident_id.as_bytes() <= incident_id.as_bytes() {
                    return Err(format!("the entry after it, `{}`, does not sort after it", right.incident_id));
                }
            }
            _ => return Err(format!("the proof lacks entry {} after the incident's", at + 1)),
        }
        Ok(&self.entry.head_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_proof_holds_for_each_incident_and_fails_when_changed() {
        let heads: Vec<(String, String)> = (0..7).map(|i| (format!("INC-{i}"), format!("{:064x}", i * 7919))).collect();
        let mut index = IncidentIndex::new(heads.iter().map(|(a, b)| (a, b)));
        let root = index.root();
        for (id, hash) in &heads {
            let proof = index.prove(id).unwrap();
            assert_eq!(proof.verify(id, 7, &root).unwrap(), hash);
            let mut other = proof.clone();
            other.entry.head_hash = format!("{:064x}", 1);
            assert!(other.verify(id, 7, &root).is_err());
            let mut dropped = proof.clone();
            if dropped.right.take().is_some() {
                assert!(dropped.verify(id, 7, &root).is_err(), "a missing neighbour is refused");
            }
        }
        assert!(index.prove("INC-9").is_none());
        // The worked example of docs/log.md, section 9.
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let (one, two) = ("INC-1".to_string(), "INC-2".to_string());
        let mut example = IncidentIndex::new([(&two, &b), (&one, &a)]);
        assert_eq!(
            hex::encode(tlog::leaf_hash(&entry("INC-1", &a))),
            "80169de82b1bf5730b8ec8625e8bb5770e48558ee948ce2b4b759aa5edf6d0ad"
        );
        assert_eq!(example.extension(), "andon-incident-index/v1 2 7OhlHGOC8lsl4AIjJ0BPTm0kkb4jnAHyShMo//ufqoA=");
        let proof = example.prove("INC-1").unwrap();
        assert_eq!(proof.entry.path, ["e28215ac6d8438b6462ece9643fd5e426fb45cfb63ab041ac85b12a5ec58d99b"]);
        assert!(proof.left.is_none() && proof.right.as_ref().is_some_and(|r| r.incident_id == "INC-2"));
        let checkpoint = LogCheckpoint { extensions: vec![index.extension()], ..LogCheckpoint::new("o", 1, [0; 32]) };
        assert_eq!(committed(&checkpoint).unwrap(), Some((7, root)));
    }
}
