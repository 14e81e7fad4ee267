//! Exit codes of the `andon` binary (documented in `docs/cli.md`), and the one
//! table that maps library errors to them.

use std::error::Error as StdError;
use std::process::ExitCode;

use andon_core::cache::CacheError;
use andon_core::evidence::InputError;
use andon_ledger::{checkpoint, keys, ledger, receipt, store};
use andon_service::service::ServiceError;
use andon_work::bundle::BundleError;
use andon_work::bundle::archive::ArchiveError;
use andon_work::demo::DemoError;
use andon_work::export::ExportError;
use andon_work::golden::ComponentCaseError;
use andon_work::incident::IncidentError;
use andon_work::replay;

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
    /// 22: the ledger is damaged other than by a torn tail, or a checkpoint covers
    /// the damage (or a failed write could not be undone): it refuses to be written
    /// to, and nothing is read or exported past the damage.
    LedgerDamaged = 22,
    /// 23: another writer holds the ledger lock.
    LedgerBusy = 23,
    /// 24: `andon audit` found a problem in an evidence bundle (named on stderr).
    AuditFailed = 24,
    /// 25: a log proof cannot be made or does not verify (a receipt outside the
    /// checkpoint's tree, a note of another log or key, two roots for one size, a
    /// consistency proof that fails, a witness refusing a checkpoint).
    LogRefused = 25,
}

/// A command-line value that names nothing valid: exit 3, with the message saying
/// what would be valid.
#[derive(Debug)]
pub struct BadArgument(pub String);

impl std::fmt::Display for BadArgument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for BadArgument {}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Maps an error to its exit code: the outermost error of the chain that is a
/// library error (or an I/O error) decides; anything else is [`Exit::Internal`].
///
/// Walking `source()` (anyhow's `chain`) is not enough on its own: the `source()`
/// of an `#[error(transparent)]` variant is its inner error's *source*, so the
/// inner error itself never shows up in the chain. Each wrapper variant below
/// therefore hands its inner error to that type's function, however deep the
/// wrappers nest; non-transparent `#[source]` causes are reached by the walk.
pub fn code_for(err: &anyhow::Error) -> Exit {
    err.chain().find_map(class).unwrap_or(Exit::Internal)
}

/// The table: every library error type the binary can meet, once.
fn class(cause: &(dyn StdError + 'static)) -> Option<Exit> {
    fn is<E: StdError + 'static>(cause: &(dyn StdError + 'static), of: fn(&E) -> Exit) -> Option<Exit> {
        cause.downcast_ref::<E>().map(of)
    }
    is(cause, of_core)
        .or_else(|| is(cause, of_input))
        .or_else(|| is(cause, of_cache))
        .or_else(|| is(cause, of_keys))
        .or_else(|| is(cause, of_ledger))
        .or_else(|| is(cause, of_receipt))
        .or_else(|| is(cause, of_checkpoint))
        .or_else(|| is(cause, of_note))
        .or_else(|| is(cause, of_store))
        .or_else(|| is(cause, of_incident))
        .or_else(|| is(cause, of_bundle))
        .or_else(|| is(cause, of_archive))
        .or_else(|| is(cause, of_export))
        .or_else(|| is(cause, of_replay))
        .or_else(|| is(cause, of_golden))
        .or_else(|| is(cause, of_demo))
        .or_else(|| is(cause, of_service))
        .or_else(|| is(cause, |_: &BadArgument| Exit::BadInput))
        .or_else(|| is(cause, |_: &std::io::Error| Exit::Io))
}

fn of_core(error: &andon_core::Error) -> Exit {
    use andon_core::Error as E;
    match error {
        E::RefusedImport { .. } | E::InvalidComponent { .. } | E::WrongWorld { .. } => Exit::ComponentRefused,
        E::Trap { .. }
        | E::OutOfFuel { .. }
        | E::OutOfMemory { .. }
        | E::StackOverflow { .. }
        | E::Deadline { .. }
        | E::OutputTooLarge { .. } => Exit::GuestFault,
        E::Input(inner) => of_input(inner),
        E::Io { .. } => Exit::Io,
        E::Engine(_) => Exit::Internal,
    }
}

fn of_input(_: &InputError) -> Exit {
    Exit::BadInput
}

fn of_cache(error: &CacheError) -> Exit {
    match error {
        CacheError::Io { .. } => Exit::Io,
        // The code cache key is a secret key file like the ledger's.
        CacheError::Key { .. } => Exit::KeyRejected,
        CacheError::Random(_) => Exit::Internal,
    }
}

fn of_keys(error: &keys::KeyError) -> Exit {
    match error {
        keys::KeyError::Io { .. } => Exit::Io,
        keys::KeyError::Invalid { .. } | keys::KeyError::Permissions { .. } => Exit::KeyRejected,
        keys::KeyError::Random(_) => Exit::Internal,
    }
}

fn of_ledger(error: &ledger::LedgerError) -> Exit {
    use ledger::LedgerError as E;
    match error {
        E::Io { .. } | E::NotALedger { .. } => Exit::Io,
        E::Busy { .. } => Exit::LedgerBusy,
        E::Damaged { .. } | E::DamagedUnderCheckpoint { .. } | E::Unreadable { .. } | E::Poisoned { .. } => {
            Exit::LedgerDamaged
        }
        // The seq an operator gave does not name the damage: nothing was cut.
        E::CutRefused { .. } => Exit::BadInput,
        E::Receipt(inner) => of_receipt(inner),
        E::Store(inner) => of_store(inner),
        E::Checkpoint(inner) => of_checkpoint(inner),
        E::GroupCommit(_) => Exit::Internal,
        E::Log(_) => Exit::LogRefused,
    }
}

fn of_receipt(error: &receipt::ReceiptError) -> Exit {
    match error {
        // A limit or count the caller chose that RFC 8785 cannot carry exactly.
        receipt::ReceiptError::NumberTooLarge { .. } => Exit::BadInput,
        receipt::ReceiptError::Canonical(_) => Exit::Internal,
    }
}

fn of_note(error: &andon_ledger::note::NoteError) -> Exit {
    use andon_ledger::note::NoteError as E;
    match error {
        E::Io { .. } => Exit::Io,
        // A value the user typed, or an input over its cap.
        E::BadKeyName(_) | E::BadVerifierKey(_) | E::TooLarge { .. } => Exit::BadInput,
        // A note, proof or cosignature that does not parse or does not verify.
        _ => Exit::LogRefused,
    }
}

fn of_checkpoint(_: &checkpoint::CheckpointError) -> Exit {
    Exit::BadInput
}

fn of_store(_: &store::StoreError) -> Exit {
    Exit::Io
}

fn of_incident(error: &IncidentError) -> Exit {
    use IncidentError as E;
    match error {
        E::Input(inner) => of_input(inner),
        E::Ledger(inner) => of_ledger(inner),
        E::Store(inner) => of_store(inner),
        E::Engine(inner) => of_core(inner),
        E::AlreadyExists(_) | E::NotFound(_) | E::IllegalTransition { .. } => Exit::IncidentRefused,
    }
}

fn of_bundle(error: &BundleError) -> Exit {
    use BundleError as E;
    match error {
        E::Io { .. } => Exit::Io,
        E::Archive(inner) => of_archive(inner),
        // A component that does not load refuses the whole bundle.
        E::Component { .. }
        | E::Manifest(_)
        | E::MissingFile(_)
        | E::ExtraFile(_)
        | E::HashMismatch { .. }
        | E::Unsigned(_)
        | E::BadSignature { .. }
        | E::UntrustedKey { .. }
        | E::Rollback { .. }
        | E::Schema { .. }
        | E::Policy { .. }
        | E::TooLarge { .. }
        | E::Build(_) => Exit::BundleRefused,
    }
}

/// An archive error met while reading or writing a bundle.
fn of_archive(error: &ArchiveError) -> Exit {
    use ArchiveError as E;
    match error {
        E::Io { .. } => Exit::Io,
        E::PathTraversal { .. }
        | E::AbsolutePath { .. }
        | E::InvalidPath { .. }
        | E::Link { .. }
        | E::UnsupportedEntry { .. }
        | E::DuplicateEntry { .. }
        | E::PathConflict { .. }
        | E::TooManyEntries { .. }
        | E::EntryTooLarge { .. }
        | E::TotalTooLarge { .. }
        | E::Corrupt { .. } => Exit::BundleRefused,
    }
}

fn of_export(error: &ExportError) -> Exit {
    match error {
        ExportError::Incident(inner) => of_incident(inner),
        ExportError::Archive(ArchiveError::Io { .. }) => Exit::Io,
        // Only `audit` unpacks: an unsafe or corrupt archive is a problem of the
        // evidence bundle it was given.
        ExportError::Archive(_) => Exit::AuditFailed,
        ExportError::Store(inner) => of_store(inner),
        ExportError::Ledger(inner) => of_ledger(inner),
        // Nothing damaged is exported.
        ExportError::Inconsistent { .. } => Exit::LedgerDamaged,
        ExportError::MissingComponent(_) | ExportError::Io { .. } => Exit::Io,
    }
}

fn of_replay(error: &replay::ReplayError) -> Exit {
    match error {
        replay::ReplayError::Ledger(inner) => of_ledger(inner),
        replay::ReplayError::Store(inner) => of_store(inner),
        replay::ReplayError::NotFound(_) => Exit::BadInput,
        replay::ReplayError::Engine(inner) => of_core(inner),
    }
}

fn of_golden(error: &ComponentCaseError) -> Exit {
    match error {
        ComponentCaseError::Load { source, .. } | ComponentCaseError::Case { source, .. } => of_core(source),
        ComponentCaseError::Io { .. } => Exit::Io,
    }
}

fn of_demo(error: &DemoError) -> Exit {
    match error {
        DemoError::Bundle(inner) => of_bundle(inner),
        DemoError::Ledger(inner) => of_ledger(inner),
        DemoError::Incident(inner) => of_incident(inner),
        DemoError::Export(inner) => of_export(inner),
        DemoError::Io { .. } => Exit::Io,
    }
}

/// What `andon mcp` and `andon serve` can meet when the service starts.
fn of_service(error: &ServiceError) -> Exit {
    use ServiceError as E;
    match error {
        E::Input(inner) => of_input(inner),
        E::Incident(inner) => of_incident(inner),
        E::Ledger(inner) => of_ledger(inner),
        E::Export(inner) => of_export(inner),
        E::Replay(inner) => of_replay(inner),
        E::Archive(inner) => of_archive(inner),
        E::InProgress(_) | E::AlreadyExists(_) => Exit::IncidentRefused,
        E::NoSuchBundle(_) => Exit::BundleRefused,
        E::Io { .. } => Exit::Io,
        // Thread start, shutdown and recording failures are the host's own; a
        // wildcard because the service's error set is still growing.
        _ => Exit::Internal,
    }
}
