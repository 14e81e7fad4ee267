//! Group commit for concurrent callers: one writer thread owns the [`Ledger`] and
//! appends everything that queued up while the previous fsync ran as one batch
//! (one write, one fsync). Each caller blocks until its own receipt is durable.
//!
//! # Example
//!
//! ```
//! use andon_host::keys::HmacKey;
//! use andon_host::ledger::{Ledger, Options, group::GroupWriter};
//! use andon_host::receipt::{Draft, Kind};
//!
//! let dir = tempfile::tempdir()?;
//! let ledger = Ledger::open(dir.path(), HmacKey::from_bytes([1; 32]), Options::default())?;
//! let writer = GroupWriter::spawn(ledger, 256);
//! let seqs: Vec<u64> = std::thread::scope(|s| {
//!     let handles: Vec<_> = (0..4)
//!         .map(|_| s.spawn(|| writer.append(Draft::new(Kind::Reported)).unwrap().seq))
//!         .collect();
//!     handles.into_iter().map(|h| h.join().unwrap()).collect()
//! });
//! assert_eq!(seqs.iter().copied().max(), Some(4));
//! let ledger = writer.close()?;
//! assert_eq!(ledger.seq(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use super::{Appended, Error, Ledger, Result};
use crate::receipt::Draft;

type Reply = SyncSender<Result<Appended, String>>;

/// A handle to the group-commit writer thread. Cheap to share by reference
/// across threads (`append` takes `&self`).
#[derive(Debug)]
pub struct GroupWriter {
    sender: Option<Sender<(Draft, Reply)>>,
    thread: Option<JoinHandle<Ledger>>,
}

impl GroupWriter {
    /// Moves `ledger` into a writer thread that commits batches of at most
    /// `max_batch` receipts.
    pub fn spawn(ledger: Ledger, max_batch: usize) -> GroupWriter {
        let (sender, receiver) = mpsc::channel::<(Draft, Reply)>();
        let thread = std::thread::Builder::new()
            .name("andon-ledger".into())
            .spawn(move || run(ledger, &receiver, max_batch.max(1)))
            .expect("cannot start the ledger writer thread");
        GroupWriter { sender: Some(sender), thread: Some(thread) }
    }

    /// Appends one receipt; returns once it is durable (possibly in the same fsync
    /// as other callers' receipts).
    ///
    /// # Errors
    /// [`Error::GroupCommit`] with the writer's error message; nothing was
    /// acknowledged then.
    pub fn append(&self, draft: Draft) -> Result<Appended> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.sender
            .as_ref()
            .expect("sender lives until close")
            .send((draft, reply))
            .map_err(|_| Error::GroupCommit("the writer thread has stopped".into()))?;
        answer
            .recv()
            .map_err(|_| Error::GroupCommit("the writer thread has stopped".into()))?
            .map_err(Error::GroupCommit)
    }

    /// Stops the writer thread after the queued receipts and returns the ledger.
    ///
    /// # Errors
    /// [`Error::GroupCommit`] when the writer thread panicked.
    pub fn close(mut self) -> Result<Ledger> {
        drop(self.sender.take());
        self.thread
            .take()
            .expect("thread lives until close")
            .join()
            .map_err(|_| Error::GroupCommit("the writer thread panicked".into()))
    }
}

impl Drop for GroupWriter {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(mut ledger: Ledger, receiver: &Receiver<(Draft, Reply)>, max_batch: usize) -> Ledger {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (drafts, replies): (Vec<Draft>, Vec<Reply>) = batch.into_iter().unzip();
        match ledger.append_batch(drafts) {
            Ok(appended) => {
                for (reply, done) in replies.into_iter().zip(appended) {
                    let _ = reply.send(Ok(done));
                }
            }
            Err(err) => {
                let message = format!("{err}");
                for reply in replies {
                    let _ = reply.send(Err(message.clone()));
                }
            }
        }
    }
    ledger
}
