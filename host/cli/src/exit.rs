//! Exit codes of the `andon` binary (documented in `docs/cli.md`).

use std::process::ExitCode;

/// A documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success; a gate passed or a recipe planned.
    Ok = 0,
    /// 1: an unexpected internal error.
    Internal = 1,
    /// 3: bad input (unacceptable JSON, missing or mistyped field, too large).
    BadInput = 3,
    /// 4: a file could not be read or written.
    Io = 4,
    /// 5: the component was refused at load (refused import, invalid component, wrong world).
    ComponentRefused = 5,
    /// 6: the guest faulted (trap, fuel, memory, stack, deadline, output too large).
    GuestFault = 6,
    /// 7: a key file is invalid (bad JSON, algorithm, hex or key id) or a secret
    /// key file is readable by group or others.
    KeyRejected = 7,
    /// 8: a bundle was refused (manifest, signature, trust, hash, missing or extra
    /// file, rollback, archive rules, failed golden case).
    BundleRefused = 8,
    /// 9: an incident operation was refused: unknown incident, duplicate incident
    /// id, or an illegal lifecycle transition (closing twice, an outcome for a refused
    /// incident).
    IncidentRefused = 9,
    /// 10: the decision is a refusal (printed in full on stdout).
    Refused = 10,
    /// 20: `andon verify` found a problem (the report names the first bad seq).
    VerifyFailed = 20,
    /// 21: `andon replay` found a mismatch.
    ReplayMismatch = 21,
    /// 22: the ledger is damaged other than by a torn tail (or a failed write could
    /// not be undone) and refuses to be written to.
    LedgerDamaged = 22,
    /// 23: another writer holds the ledger lock.
    LedgerBusy = 23,
    /// 24: `andon audit` found a problem in an evidence bundle (named on stderr).
    AuditFailed = 24,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Maps an error to its exit code by looking for a library error in its chain.
pub fn code_for(err: &anyhow::Error) -> Exit {
    use andon_core::Error;
    for cause in err.chain() {
        if let Some(error) = cause.downcast_ref::<Error>() {
            return match error {
                Error::RefusedImport { .. } | Error::InvalidComponent { .. } | Error::WrongWorld { .. } => {
                    Exit::ComponentRefused
                }
                Error::Trap { .. }
                | Error::OutOfFuel { .. }
                | Error::OutOfMemory { .. }
                | Error::StackOverflow { .. }
                | Error::Deadline { .. }
                | Error::OutputTooLarge { .. } => Exit::GuestFault,
                Error::Input(_) => Exit::BadInput,
                Error::Io { .. } => Exit::Io,
                Error::Engine(_) => Exit::Internal,
            };
        }
        if let Some(error) = cause.downcast_ref::<andon_work::incident::IncidentError>() {
            use andon_work::incident::IncidentError as E;
            match error {
                E::AlreadyExists(_) | E::NotFound(_) | E::IllegalTransition { .. } => return Exit::IncidentRefused,
                E::Input(_) => return Exit::BadInput,
                _ => {}
            }
        }
        if let Some(error) = cause.downcast_ref::<andon_work::bundle::BundleError>() {
            return match error {
                andon_work::bundle::BundleError::Io { .. } => Exit::Io,
                _ => Exit::BundleRefused,
            };
        }
        if let Some(code) = receipts_code(cause) {
            return code;
        }
        if cause.downcast_ref::<andon_core::evidence::InputError>().is_some() {
            return Exit::BadInput;
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return Exit::Io;
        }
    }
    Exit::Internal
}

/// Exit codes of the receipt, key, ledger, store and replay errors.
fn receipts_code(cause: &(dyn std::error::Error + 'static)) -> Option<Exit> {
    use andon_ledger::{checkpoint, keys, ledger, receipt, store};
    use andon_work::replay;
    fn of_ledger(error: &ledger::Error) -> Exit {
        match error {
            ledger::Error::Io { .. } | ledger::Error::NotALedger { .. } => Exit::Io,
            ledger::Error::Busy { .. } => Exit::LedgerBusy,
            ledger::Error::Damaged { .. } | ledger::Error::Poisoned { .. } => Exit::LedgerDamaged,
            ledger::Error::Receipt(_) | ledger::Error::Checkpoint(_) => Exit::BadInput,
            ledger::Error::Store(_) => Exit::Io,
            ledger::Error::GroupCommit(_) => Exit::Internal,
        }
    }
    if let Some(error) = cause.downcast_ref::<keys::Error>() {
        return Some(match error {
            keys::Error::Io { .. } => Exit::Io,
            keys::Error::Invalid { .. } | keys::Error::Permissions { .. } => Exit::KeyRejected,
            keys::Error::Random(_) => Exit::Internal,
        });
    }
    if let Some(error) = cause.downcast_ref::<ledger::Error>() {
        return Some(of_ledger(error));
    }
    if let Some(error) = cause.downcast_ref::<replay::Error>() {
        return Some(match error {
            replay::Error::Ledger(inner) => of_ledger(inner),
            replay::Error::Store(_) => Exit::Io,
            replay::Error::NotFound(_) => Exit::BadInput,
            replay::Error::Engine(_) => Exit::Internal,
        });
    }
    if cause.downcast_ref::<store::Error>().is_some() {
        return Some(Exit::Io);
    }
    if cause.downcast_ref::<receipt::Error>().is_some() || cause.downcast_ref::<checkpoint::Error>().is_some() {
        return Some(Exit::BadInput);
    }
    None
}
