//! The ledger's tree kept off the append path: a thread owns the [`Tree`], hashes
//! the leaves of each durable batch and writes its tiles while the writer goes on
//! to the next batch (and its `fdatasync`). Jobs run in order, so a checkpoint sent
//! after a batch signs a tree that holds it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use cap_std::fs::Dir;
use ed25519_dalek::SigningKey;

use super::tree::Tree;
use super::{LedgerError, Result};
use crate::note::Note;

enum Job {
    /// The bytes of durable receipt lines, each ending in `\n`.
    Lines(Vec<u8>),
    /// Sign a note of the first `size` receipts.
    Sign { size: u64, key: Box<SigningKey>, extensions: Vec<String>, reply: Sender<Result<Note>> },
}

/// A thread keeping a ledger's tree.
pub(crate) struct TreeWorker {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl std::fmt::Debug for TreeWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeWorker").field("path", &self.path).finish()
    }
}

fn run(mut tree: Tree, dir: Dir, jobs: Receiver<Job>) {
    for job in jobs {
        match job {
            Job::Lines(bytes) => {
                let leaves: Vec<_> = bytes
                    .split_inclusive(|&b| b == b'\n')
                    .map(|line| crate::tlog::leaf_hash(line.strip_suffix(b"\n").unwrap_or(line)))
                    .collect();
                tree.push(&leaves);
            }
            Job::Sign { size, key, extensions, reply } => {
                let _ = reply.send(tree.sign(&dir, size, &key, extensions));
            }
        }
    }
}

impl TreeWorker {
    /// Starts the thread on `tree`, the tree of the ledger whose directory is `dir`.
    pub(crate) fn spawn(tree: Tree, dir: &Dir, path: &Path) -> Result<TreeWorker> {
        let io = |source| LedgerError::Io { path: path.into(), action: "start the tree thread".into(), source };
        let dir = dir.try_clone().map_err(io)?;
        let (jobs, receiver) = channel();
        let thread = std::thread::Builder::new()
            .name("andon-ledger-tree".into())
            .spawn(move || run(tree, dir, receiver))
            .map_err(io)?;
        Ok(TreeWorker { jobs: Some(jobs), thread: Some(thread), path: path.into() })
    }

    fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|jobs| jobs.send(job).is_ok())
    }

    /// Hands over durable receipt lines (each ending in `\n`).
    pub(crate) fn push(&self, bytes: Vec<u8>) {
        if !self.send(Job::Lines(bytes)) {
            tracing::warn!("ledger {}: the tree thread stopped (the receipts are durable)", self.path.display());
        }
    }

    /// Signs a checkpoint note of the first `size` receipts once every earlier batch
    /// is in the tree (see `Tree::sign`).
    pub(crate) fn sign(&self, size: u64, key: &SigningKey, extensions: Vec<String>) -> Result<Note> {
        let (reply, answer) = channel();
        let stopped = || LedgerError::Log("the tree thread stopped".into());
        if !self.send(Job::Sign { size, key: Box::new(key.clone()), extensions, reply }) {
            return Err(stopped());
        }
        answer.recv().map_err(|_| stopped())?
    }
}

impl Drop for TreeWorker {
    /// Finishes the jobs sent, then ends the thread.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
