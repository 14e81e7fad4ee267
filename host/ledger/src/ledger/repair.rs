//! What opening for writing does with what the scan found: nothing (a whole
//! ledger), a cut of a torn tail recorded in a `ledger_repaired` receipt, or a
//! refusal. A receipt that a signed checkpoint covers was acknowledged: it is never
//! cut automatically (the ledger refuses, naming the seq), only by the operator's
//! explicit [`Ledger::open_cutting_checkpointed`] (`andon ledger repair
//! --cut-checkpointed-from SEQ`), whose receipt says that checkpointed receipts were
//! cut and which checkpoints covered them.

use std::io::{Read as _, Seek as _};
use std::path::Path;

use super::checkpoints::{self, Listing};
use super::scan::{ProblemKind, Scan};
use super::{Ledger, LedgerError, Options, Result};
use crate::checkpoint::Checkpoint;
use crate::keys::HmacKey;
use crate::receipt::{Draft, Kind, Repair};
use andon_core::evidence::sha256_hex;

/// How opening treats damaged or missing receipts that a checkpoint covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// Refuse ([`LedgerError::DamagedUnderCheckpoint`]).
    Never,
    /// The operator's decision: cut from this seq, which must be where the damage
    /// (or the missing tail) starts.
    CheckpointedFrom(u64),
}

/// Where the good part of the ledger ends and what follows it.
struct Damage {
    /// The first seq that is damaged or missing.
    seq: u64,
    /// Its line.
    line: u64,
    kind: ProblemKind,
    message: String,
}

fn describe(covering: &[&Checkpoint]) -> String {
    let list: Vec<String> = covering.iter().map(|c| format!("seq {} (head_hash {})", c.seq, c.head_hash)).collect();
    list.join(", ")
}

impl Ledger {
    /// Opens the ledger in `path` for writing like [`Ledger::open`], and also cuts
    /// what `open` never cuts: the damaged (or missing) receipts from seq `from_seq`
    /// on that a signed checkpoint covers. This is the operator's explicit decision
    /// that those acknowledged receipts are lost (`andon ledger repair
    /// --cut-checkpointed-from SEQ`); `from_seq` must be where the damage starts, and
    /// no self-consistent receipt may follow the damage (such a ledger is never cut).
    ///
    /// The checkpoints that covered the cut receipts are superseded (their lines are
    /// copied to `checkpoints-superseded.jsonl`), the damaged bytes are cut, and a
    /// `ledger_repaired` receipt records the cut, naming those checkpoints; with a
    /// signing key in `options`, a new checkpoint then covers that receipt.
    ///
    /// # Errors
    /// [`LedgerError::CutRefused`] when `from_seq` is not where the damage starts or
    /// nothing is damaged; otherwise as [`Ledger::open`].
    pub fn open_cutting_checkpointed(path: &Path, key: HmacKey, options: Options, from_seq: u64) -> Result<Ledger> {
        let mut ledger = Ledger::open_with(path, key, options, Cut::CheckpointedFrom(from_seq))?;
        if ledger.options.signing_key.is_some() {
            ledger.checkpoint()?;
        }
        Ok(ledger)
    }

    /// Acts on what the scan found (see the module docs).
    pub(super) fn settle(&mut self, scan: &Scan, listing: &Listing, cut: Cut) -> Result<()> {
        let refuse = |reason: String| match cut {
            Cut::CheckpointedFrom(asked) => Err(LedgerError::CutRefused { path: self.path.clone(), asked, reason }),
            Cut::Never => Ok(()),
        };
        let damage = match &scan.problem {
            Some(problem) => {
                // A self-consistent receipt after the damage may have been
                // acknowledged: never cut it, whatever the damage looks like.
                if scan.consistent_after_problem.is_some() {
                    return Err(LedgerError::Damaged {
                        path: self.path.clone(),
                        seq: problem.seq,
                        line: problem.line.unwrap_or(0),
                        kind: problem.kind,
                        message: problem.message.clone(),
                    });
                }
                Damage {
                    seq: problem.seq,
                    line: problem.line.unwrap_or(0),
                    kind: problem.kind,
                    message: problem.message.clone(),
                }
            }
            None if listing.covered() > self.chain.seq => Damage {
                seq: self.chain.seq + 1,
                line: self.chain.seq + 1,
                kind: ProblemKind::MissingTail,
                message: format!(
                    "the ledger ends at seq {} but a checkpoint covers seq {} (receipts were removed)",
                    self.chain.seq,
                    listing.covered()
                ),
            },
            None => return refuse("the ledger is not damaged and no checkpoint covers a missing receipt".into()),
        };
        if let Cut::CheckpointedFrom(asked) = cut
            && asked != damage.seq
        {
            return refuse(format!("the damage starts at seq {} (line {})", damage.seq, damage.line));
        }
        let live: Vec<(&[u8], &Checkpoint)> = listing
            .live()
            .filter_map(|e| e.parsed.as_ref().ok().map(|c| (e.bytes.as_slice(), c)))
            .filter(|(_, c)| c.seq >= damage.seq)
            .collect();
        let detail = format!("line {}: {:?}: {}", damage.line, damage.kind, damage.message);
        let reason = if !live.is_empty() {
            if cut == Cut::Never {
                return Err(LedgerError::DamagedUnderCheckpoint {
                    path: self.path.clone(),
                    seq: damage.seq,
                    line: damage.line,
                    kind: damage.kind,
                    message: damage.message,
                    checkpoint_seq: listing.covered(),
                });
            }
            // Superseded first: if the cut is interrupted, the next open finishes it
            // and still says that checkpointed receipts were cut.
            let lines: Vec<&[u8]> = live.iter().map(|(bytes, _)| *bytes).collect();
            checkpoints::supersede(&self.dir, &lines).map_err(self.io("write checkpoints-superseded.jsonl"))?;
            super::tree::supersede_notes(&self.dir, damage.seq - 1).map_err(self.io("move superseded notes"))?;
            let covering: Vec<&Checkpoint> = live.iter().map(|(_, c)| *c).collect();
            checkpointed_reason(damage.seq, &covering, &detail)
        } else {
            // Checkpoints superseded by an operator's cut that was interrupted.
            let covering: Vec<&Checkpoint> = listing
                .entries
                .iter()
                .filter(|e| e.superseded)
                .filter_map(|e| e.parsed.as_ref().ok())
                .filter(|c| c.seq >= damage.seq)
                .collect();
            if covering.is_empty() {
                format!("torn tail at line {}: {}", damage.line, damage.message)
            } else {
                checkpointed_reason(damage.seq, &covering, &detail)
            }
        };
        self.cut_tail(scan.total_len, reason)
    }

    /// Cuts `receipts.jsonl` back to the good prefix (`self.len`) and records the cut
    /// in a `ledger_repaired` receipt. The receipt is written over the cut bytes
    /// and synced before the file is shortened, so a crash in between leaves the
    /// receipt followed by a torn tail (cut on the next open), never a cut without
    /// its record.
    fn cut_tail(&mut self, total_len: u64, reason: String) -> Result<()> {
        let removed_len = total_len - self.len;
        let mut removed = Vec::with_capacity(removed_len as usize);
        (&self.receipts).seek(std::io::SeekFrom::Start(self.len)).map_err(self.io("seek receipts.jsonl"))?;
        (&self.receipts).take(removed_len).read_to_end(&mut removed).map_err(self.io("read the cut bytes"))?;
        let repair = Repair {
            bytes_removed: removed_len,
            last_good_seq: self.chain.seq,
            removed_sha256: sha256_hex(&removed),
            reason,
        };
        let mut draft = Draft::new(Kind::LedgerRepaired);
        draft.repair = Some(repair.clone());
        self.append(draft)?;
        self.receipts.set_len(self.len).map_err(self.io("cut receipts.jsonl"))?;
        self.receipts.sync_all().map_err(self.io("sync receipts.jsonl"))?;
        self.allocated = self.len;
        self.repaired = Some(repair);
        Ok(())
    }
}

fn checkpointed_reason(seq: u64, covering: &[&Checkpoint], detail: &str) -> String {
    format!(
        "checkpointed receipts cut by the operator from seq {seq} (`andon ledger repair --cut-checkpointed-from {seq}`): \
         covered by checkpoint(s) {}, now superseded; {detail}",
        describe(covering)
    )
}
