//! Group commit for concurrent callers: one writer thread owns the [`Ledger`] and
//! appends everything that queued up while the previous fsync ran as one batch
//! (one write, one fsync). Each caller blocks until its own receipt is durable.
//!
//! # Example
//!
//! ```
//! use andon_ledger::keys::HmacKey;
//! use andon_ledger::ledger::{Ledger, Options, group::GroupWriter};
//! use andon_ledger::receipt::{Draft, Kind};
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

use super::{Appended, Ledger, LedgerError, Result};
use crate::receipt::Draft;

type Reply = SyncSender<Result<Vec<Appended>, String>>;

/// Work for the writer thread.
enum Job {
    /// Receipts appended contiguously, in order, acknowledged together.
    Append(Vec<Draft>, Reply),
    /// Exclusive access to the ledger between two batches.
    Exclusive(Box<dyn FnOnce(&mut Ledger) + Send>),
}

/// A handle to the group-commit writer thread. Cheap to share by reference
/// across threads (`append` takes `&self`).
pub struct GroupWriter {
    sender: Option<Sender<Job>>,
    thread: Option<JoinHandle<Ledger>>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").field("running", &self.thread.is_some()).finish()
    }
}

fn stopped() -> LedgerError {
    LedgerError::GroupCommit("the writer thread has stopped".into())
}

impl GroupWriter {
    /// Moves `ledger` into a writer thread that commits batches of at most
    /// `max_batch` receipts.
    pub fn spawn(ledger: Ledger, max_batch: usize) -> GroupWriter {
        let (sender, receiver) = mpsc::channel::<Job>();
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
    /// [`LedgerError::GroupCommit`] with the writer's error message; nothing was
    /// acknowledged then.
    pub fn append(&self, draft: Draft) -> Result<Appended> {
        Ok(self.append_batch(vec![draft])?.pop().expect("one receipt appended"))
    }

    /// Appends `drafts` contiguously and in order, in the same fsync (and possibly
    /// together with other callers' receipts); all are acknowledged or none is.
    ///
    /// # Errors
    /// As [`GroupWriter::append`].
    pub fn append_batch(&self, drafts: Vec<Draft>) -> Result<Vec<Appended>> {
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Job::Append(drafts, reply))?;
        answer.recv().map_err(|_| stopped())?.map_err(LedgerError::GroupCommit)
    }

    /// Runs `f` on the writer thread with exclusive access to the ledger, between
    /// two batches, and returns its result (reads, checkpoints, or appends that
    /// must check the ledger's state first).
    ///
    /// # Errors
    /// [`LedgerError::GroupCommit`] when the writer thread has stopped.
    pub fn with<R: Send + 'static>(&self, f: impl FnOnce(&mut Ledger) -> R + Send + 'static) -> Result<R> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Job::Exclusive(Box::new(move |ledger| {
            let _ = reply.send(f(ledger));
        })))?;
        answer.recv().map_err(|_| stopped())
    }

    fn send(&self, job: Job) -> Result<()> {
        self.sender.as_ref().expect("sender lives until close").send(job).map_err(|_| stopped())
    }

    /// Stops the writer thread after the queued receipts and returns the ledger.
    ///
    /// # Errors
    /// [`LedgerError::GroupCommit`] when the writer thread panicked.
    pub fn close(mut self) -> Result<Ledger> {
        drop(self.sender.take());
        self.thread
            .take()
            .expect("thread lives until close")
            .join()
            .map_err(|_| LedgerError::GroupCommit("the writer thread panicked".into()))
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

fn commit(ledger: &mut Ledger, batch: Vec<(Vec<Draft>, Reply)>) {
    let sizes: Vec<usize> = batch.iter().map(|(d, _)| d.len()).collect();
    let (groups, replies): (Vec<Vec<Draft>>, Vec<Reply>) = batch.into_iter().unzip();
    match ledger.append_batch(groups.into_iter().flatten().collect()) {
        Ok(appended) => {
            let mut appended = appended.into_iter();
            for (reply, size) in replies.into_iter().zip(sizes) {
                let _ = reply.send(Ok(appended.by_ref().take(size).collect()));
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

fn run(mut ledger: Ledger, receiver: &Receiver<Job>, max_batch: usize) -> Ledger {
    let mut pending: Option<Job> = None;
    loop {
        let job = match pending.take() {
            Some(job) => job,
            None => match receiver.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        match job {
            Job::Exclusive(f) => f(&mut ledger),
            Job::Append(drafts, reply) => {
                let mut count = drafts.len();
                let mut batch = vec![(drafts, reply)];
                while count < max_batch {
                    match receiver.try_recv() {
                        Ok(Job::Append(drafts, reply)) => {
                            count += drafts.len();
                            batch.push((drafts, reply));
                        }
                        Ok(exclusive) => {
                            pending = Some(exclusive);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit(&mut ledger, batch);
            }
        }
    }
    ledger
}
