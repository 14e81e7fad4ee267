//! Reading the record back: receipts, evidence-bundle export, ledger
//! verification and replay.

use std::path::PathBuf;

use andon_core::engine::AndonEngine;
use andon_core::evidence::sha256_hex;
use andon_ledger::ledger;
use andon_ledger::receipt::StoredReceipt;
use andon_work::incident::IncidentError;

use super::{ReceiptRef, Service, ServiceError};

impl Service {
    /// Every receipt of incident `id`, in chain order.
    ///
    /// # Errors
    /// [`ServiceError::Incident`] when the ledger cannot be read or the incident is unknown.
    pub fn receipts_of(&self, id: &str) -> Result<Vec<StoredReceipt>, ServiceError> {
        let receipts = andon_ledger::ledger::receipts_of(&self.inner.ledger_dir, id)?;
        if receipts.is_empty() {
            return Err(IncidentError::NotFound(id.into()).into());
        }
        Ok(receipts)
    }

    /// One receipt by seq.
    ///
    /// # Errors
    /// [`ServiceError::Ledger`] when the ledger cannot be read.
    pub fn receipt(&self, seq: u64) -> Result<Option<Vec<u8>>, ServiceError> {
        Ok(andon_ledger::ledger::receipt(&self.inner.ledger_dir, seq)?)
    }

    /// The last `limit` receipts' refs (newest last).
    ///
    /// # Errors
    /// [`ServiceError::Incident`] when the ledger cannot be read.
    pub fn recent_receipts(&self, limit: usize) -> Result<Vec<ReceiptRef>, ServiceError> {
        let all = andon_ledger::ledger::all_receipts(&self.inner.ledger_dir)?;
        let skip = all.len().saturating_sub(limit);
        Ok(all.iter().skip(skip).map(ReceiptRef::of).collect())
    }

    /// One page of receipt references, newest first: at most `limit` receipts
    /// with seq below `before` (all when `None`), and the seq to pass as `before`
    /// for the next page when older receipts remain.
    ///
    /// # Errors
    /// [`ServiceError::Ledger`] when the ledger cannot be read.
    pub fn receipts_page(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<ReceiptRef>, Option<u64>), ServiceError> {
        let all = andon_ledger::ledger::all_receipts(&self.inner.ledger_dir)?;
        let end = match before {
            Some(seq) => all.partition_point(|r| r.body.seq < seq),
            None => all.len(),
        };
        let start = end.saturating_sub(limit);
        let page: Vec<ReceiptRef> = all[start..end].iter().rev().map(ReceiptRef::of).collect();
        let next = (start > 0).then(|| all[start].body.seq);
        Ok((page, next))
    }

    /// Writes the evidence bundle of incident `id` to the export directory and
    /// returns its path and SHA-256.
    ///
    /// # Errors
    /// [`ServiceError::Export`] (unknown incident …), [`ServiceError::Io`].
    pub fn export(&self, id: &str) -> Result<(PathBuf, String, u64), ServiceError> {
        let inner = &self.inner;
        // A readable prefix plus a hash of the exact id: distinct ids never share a file.
        let safe: String = id
            .chars()
            .take(64)
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        let path = inner.export_dir.join(format!("evidence-bundle-{safe}-{}.tar.gz", &sha256_hex(id.as_bytes())[..12]));
        let written = andon_work::export::write(&inner.ledger_dir, id, &inner.signing_key, &path)?;
        Ok((written.path, written.sha256, written.bytes))
    }

    /// Verifies the ledger (hashes, links, MACs, checkpoint signatures) between two
    /// group commits.
    ///
    /// # Errors
    /// [`ServiceError::Ledger`] when the ledger cannot be read.
    pub fn verify(&self) -> Result<ledger::verify::Report, ServiceError> {
        let dir = self.inner.ledger_dir.clone();
        let public = self.inner.signing_key.verifying_key();
        self.inner
            .writer
            .with(move |ledger| {
                let options = ledger::verify::VerifyOptions {
                    keys: vec![ledger.key().clone()],
                    public_key: Some((andon_ledger::keys::ed25519_key_id(&public), public)),
                    held: Vec::new(),
                    since: Vec::new(),
                };
                ledger::verify::verify(&dir, &options, &mut |_, _| {})
            })?
            .map_err(ServiceError::from)
    }

    /// Replays the receipt `seq` on a fresh engine.
    ///
    /// # Errors
    /// [`ServiceError::Replay`] when nothing matches or the ledger cannot be read.
    pub fn replay(&self, seq: u64) -> Result<andon_work::replay::Report, ServiceError> {
        let engine = AndonEngine::new().map_err(|e| ServiceError::Recording(e.to_string()))?;
        Ok(andon_work::replay::replay(&self.inner.ledger_dir, &andon_work::replay::Selection::Seq(seq), &engine)?)
    }
}
