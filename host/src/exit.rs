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
    /// 10: the decision is a refusal (printed in full on stdout).
    Refused = 10,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Maps an error to its exit code by looking for a library error in its chain.
pub fn code_for(err: &anyhow::Error) -> Exit {
    use andon_host::Error;
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
        if cause.downcast_ref::<andon_host::evidence::InputError>().is_some() {
            return Exit::BadInput;
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return Exit::Io;
        }
    }
    Exit::Internal
}
