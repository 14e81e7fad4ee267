//! Lifecycle steps after the decision: the outcome of a plan (`executed`) and
//! closing (`closed`). A step claims its incident, so neither a resubmission nor
//! another step races it while its receipts are read and the next one written.

use andon_ledger::ledger::Appended;
use andon_ledger::receipt::{Draft, Kind, StoredReceipt};
use andon_work::incident::{self, ExecutionStatus, IncidentError};

use super::{Phase, ReceiptRef, Service, ServiceError};
use crate::auth::Principal;

impl Service {
    /// Records the outcome of an incident's plan for the local, trusted caller.
    ///
    /// # Errors
    /// As [`Service::record_outcome_by`].
    pub fn record_outcome(&self, id: &str, status: ExecutionStatus, note: &str) -> Result<ReceiptRef, ServiceError> {
        self.record_outcome_by(&Principal::local(), id, status, note)
    }

    /// Records the outcome of an incident's plan (`executed` receipt naming
    /// `principal`).
    ///
    /// # Errors
    /// [`ServiceError::Incident`] on an illegal transition or unknown incident.
    pub fn record_outcome_by(
        &self,
        principal: &Principal,
        id: &str,
        status: ExecutionStatus,
        note: &str,
    ) -> Result<ReceiptRef, ServiceError> {
        let previous = self.claim(id)?;
        let result =
            self.read_then_append(principal, id, |receipts| incident::outcome_draft(receipts, id, status, note));
        let appended = self.settle(id, previous, result)?;
        Ok(ReceiptRef::new(&appended, Kind::Executed))
    }

    /// Closes an incident for the local, trusted caller.
    ///
    /// # Errors
    /// As [`Service::close_by`].
    pub fn close(&self, id: &str, feedback: &str) -> Result<ReceiptRef, ServiceError> {
        self.close_by(&Principal::local(), id, feedback)
    }

    /// Closes an incident (`closed` receipt naming `principal`).
    ///
    /// # Errors
    /// [`ServiceError::Incident`] on an illegal transition or unknown incident.
    pub fn close_by(&self, principal: &Principal, id: &str, feedback: &str) -> Result<ReceiptRef, ServiceError> {
        let previous = self.claim(id)?;
        let result = self.read_then_append(principal, id, |receipts| incident::close_draft(receipts, id, feedback));
        let appended = self.settle(id, previous, result)?;
        Ok(ReceiptRef::new(&appended, Kind::Closed))
    }

    /// Reads the incident's receipts outside the writer thread (the claim keeps
    /// every other change of this incident out meanwhile), builds the next receipt
    /// from them and appends it through the group commit.
    fn read_then_append(
        &self,
        principal: &Principal,
        id: &str,
        draft: impl FnOnce(&[StoredReceipt]) -> Result<Draft, IncidentError>,
    ) -> Result<Appended, ServiceError> {
        let receipts = andon_ledger::ledger::receipts_of(&self.inner.ledger_dir, id)?;
        let mut draft = draft(&receipts)?;
        super::name_principal(&mut draft, &principal.annotation());
        Ok(self.inner.writer.append(draft)?)
    }

    /// Claims `id` for a lifecycle step (so neither a resubmission nor another
    /// step races it) and returns its previous phase; refuses while it is being
    /// taken in, decided or updated.
    fn claim(&self, id: &str) -> Result<Option<Phase>, ServiceError> {
        let mut state = self.inner.lock();
        let previous = state.phases.get(id).copied();
        if matches!(previous, Some(Phase::Accepting | Phase::Queued | Phase::Evaluating | Phase::Updating)) {
            return Err(ServiceError::InProgress(id.into()));
        }
        if previous.is_some() {
            state.phases.insert(id.into(), Phase::Updating);
        }
        Ok(previous)
    }

    /// Counts the receipt of a lifecycle step, or restores the phase of `id` when
    /// the step failed.
    fn settle(
        &self,
        id: &str,
        previous: Option<Phase>,
        result: Result<Appended, ServiceError>,
    ) -> Result<Appended, ServiceError> {
        if let Some(phase) = previous {
            // After a lifecycle step the incident is final: no resubmission.
            let phase = if result.is_ok() { Phase::Decided } else { phase };
            self.inner.lock().phases.insert(id.into(), phase);
        }
        if result.is_ok() {
            self.inner.metrics.receipts.inc();
        }
        result
    }
}
