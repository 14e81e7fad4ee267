//! Resource limits of one evaluation (recorded in every receipt, reused by replay).

use serde::{Deserialize, Serialize};

/// Resource limits of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Fuel (roughly, wasm instructions) the guest may consume.
    pub fuel: u64,
    /// Largest linear memory, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock backstop in milliseconds (never part of a successful result).
    pub deadline_ms: u64,
    /// Largest verdict, as canonical JSON bytes.
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { fuel: 200_000_000, memory_bytes: 64 << 20, deadline_ms: 5_000, max_output_bytes: 1 << 20 }
    }
}

/// Largest component the host reads, in bytes (64 MiB, the archive reader's cap on
/// one entry too).
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;

/// Most memories one component instance may have.
pub const MAX_MEMORIES: usize = 4;
/// Most tables one component instance may have.
pub const MAX_TABLES: usize = 16;
/// Most core instances one component may create.
pub const MAX_INSTANCES: usize = 16;
/// Most elements one table may grow to.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;
