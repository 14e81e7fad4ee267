//! Ledger readers: every receipt, one incident's receipts, one receipt by seq.
//! They read the file as it is (no lock, no repair), so they serve auditors and
//! reports while a writer appends.

use std::path::Path;

use super::{Result, read_lines};
use crate::receipt::StoredReceipt;

/// Every receipt of incident `id` in the ledger at `path`, in chain order.
///
/// # Errors
/// [`super::LedgerError`] when the ledger cannot be read.
pub fn receipts_of(path: &Path, id: &str) -> Result<Vec<StoredReceipt>> {
    Ok(all_receipts(path)?.into_iter().filter(|r| r.body.incident_id.as_deref() == Some(id)).collect())
}

/// Every receipt of the ledger at `path` that parses, in order.
///
/// # Errors
/// [`super::LedgerError`] when the ledger cannot be read.
pub fn all_receipts(path: &Path) -> Result<Vec<StoredReceipt>> {
    let mut out = Vec::new();
    for line in read_lines(path)? {
        if let Ok(receipt) = StoredReceipt::parse(&line?) {
            out.push(receipt);
        }
    }
    Ok(out)
}

/// The stored line of receipt `seq` (without its newline), if the ledger has it.
/// Receipt `seq` is line `seq` (seqs start at 1 and every line is one receipt); the
/// line read is checked to carry that seq.
///
/// # Errors
/// [`super::LedgerError`] when the ledger cannot be read.
pub fn receipt(path: &Path, seq: u64) -> Result<Option<Vec<u8>>> {
    let Some(index) = seq.checked_sub(1).and_then(|i| usize::try_from(i).ok()) else { return Ok(None) };
    match read_lines(path)?.nth(index) {
        Some(line) => {
            let line = line?;
            Ok(StoredReceipt::parse(&line).is_ok_and(|r| r.body.seq == seq).then_some(line))
        }
        None => Ok(None),
    }
}
