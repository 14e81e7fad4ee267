//! Error types of the host library.
//!
//! Guest faults are distinct variants, because each becomes a different refusal
//! reason in a receipt: see [`Error::fault_class`].

use std::path::PathBuf;

/// An error and every cause under it, joined by `: ` (what `andon` prints after
/// `error:`). Messages name only their own problem and keep the cause as a
/// `source`, so a caller that shows one line to a person (an MCP tool error, a
/// log) shows this.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Result alias of the host library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading or evaluating a component.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The component imports something outside the Andon worlds.
    #[error(
        "component refused at load: it imports `{import}`, which is outside the andon:policy worlds (guests get no WASI, clock or randomness)"
    )]
    RefusedImport {
        /// The offending import name, e.g. `wasi:clocks/monotonic-clock@0.2.0`.
        import: String,
    },
    /// The bytes are not a valid Andon component.
    #[error("invalid component: {reason}")]
    InvalidComponent {
        /// What is wrong with it.
        reason: String,
    },
    /// The guest trapped (explicit `unreachable`, a Rust panic, out-of-bounds access...).
    #[error("guest trapped: {message}")]
    Trap {
        /// The trap description from the engine.
        message: String,
        /// Fuel consumed before the trap.
        fuel_consumed: u64,
    },
    /// The guest used up its fuel.
    #[error("guest ran out of fuel (limit {limit})")]
    OutOfFuel {
        /// The fuel limit (all of it was consumed).
        limit: u64,
    },
    /// The guest tried to grow memory past its limit.
    #[error("guest exceeded its memory limit of {limit_bytes} bytes (asked for {requested_bytes})")]
    OutOfMemory {
        /// The memory limit in bytes.
        limit_bytes: u64,
        /// The size the guest asked to grow to.
        requested_bytes: u64,
        /// Fuel consumed before the fault.
        fuel_consumed: u64,
    },
    /// The guest exhausted its call stack.
    #[error("guest overflowed its stack")]
    StackOverflow {
        /// Fuel consumed before the fault.
        fuel_consumed: u64,
    },
    /// The wall-clock backstop fired before the guest finished.
    #[error("guest passed its wall-clock deadline of {deadline_ms} ms")]
    Deadline {
        /// The deadline in milliseconds.
        deadline_ms: u64,
        /// Fuel consumed before the interruption.
        fuel_consumed: u64,
    },
    /// The guest's verdict is larger than allowed.
    #[error("guest output is {size} bytes, over the limit of {limit} bytes")]
    OutputTooLarge {
        /// Canonical JSON size of the verdict.
        size: u64,
        /// The limit.
        limit: u64,
        /// Fuel consumed.
        fuel_consumed: u64,
    },
    /// The component exports a different world than the one asked for.
    #[error("component exports the {actual} world, but a {expected} was required")]
    WrongWorld {
        /// The world that was required.
        expected: &'static str,
        /// The world it exports.
        actual: &'static str,
    },
    /// Evidence or another JSON input is unacceptable.
    #[error(transparent)]
    Input(#[from] crate::evidence::InputError),
    /// Reading a file failed.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The engine failed for a reason that is not the guest's fault.
    #[error("engine error: {0}")]
    Engine(String),
}

/// The class of a guest fault, as recorded in refusal receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultClass {
    /// Import outside the Andon worlds, refused at load.
    RefusedImport,
    /// Not a valid Andon component.
    InvalidComponent,
    /// Trap or panic.
    Trap,
    /// Fuel exhausted.
    OutOfFuel,
    /// Memory limit hit.
    OutOfMemory,
    /// Stack exhausted.
    StackOverflow,
    /// Wall-clock backstop.
    Deadline,
    /// Verdict too large.
    OutputTooLarge,
}

impl FaultClass {
    /// Stable snake_case name, e.g. `out_of_fuel`.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultClass::RefusedImport => "refused_import",
            FaultClass::InvalidComponent => "invalid_component",
            FaultClass::Trap => "trap",
            FaultClass::OutOfFuel => "out_of_fuel",
            FaultClass::OutOfMemory => "out_of_memory",
            FaultClass::StackOverflow => "stack_overflow",
            FaultClass::Deadline => "deadline",
            FaultClass::OutputTooLarge => "output_too_large",
        }
    }
}

impl std::fmt::Display for FaultClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The guest-fault class of this error, or `None` when the error is not the
    /// component's fault (bad input, I/O, engine).
    pub fn fault_class(&self) -> Option<FaultClass> {
        Some(match self {
            Error::RefusedImport { .. } => FaultClass::RefusedImport,
            Error::InvalidComponent { .. } | Error::WrongWorld { .. } => FaultClass::InvalidComponent,
            Error::Trap { .. } => FaultClass::Trap,
            Error::OutOfFuel { .. } => FaultClass::OutOfFuel,
            Error::OutOfMemory { .. } => FaultClass::OutOfMemory,
            Error::StackOverflow { .. } => FaultClass::StackOverflow,
            Error::Deadline { .. } => FaultClass::Deadline,
            Error::OutputTooLarge { .. } => FaultClass::OutputTooLarge,
            Error::Input(_) | Error::Io { .. } | Error::Engine(_) => return None,
        })
    }

    /// Fuel the guest consumed before the fault (0 for load-time errors).
    pub fn fuel_consumed(&self) -> u64 {
        match self {
            Error::Trap { fuel_consumed, .. }
            | Error::OutOfMemory { fuel_consumed, .. }
            | Error::StackOverflow { fuel_consumed }
            | Error::Deadline { fuel_consumed, .. }
            | Error::OutputTooLarge { fuel_consumed, .. } => *fuel_consumed,
            Error::OutOfFuel { limit } => *limit,
            _ => 0,
        }
    }
}
