//! Per-store state of one evaluation: the resource limiter, nothing else.
//!
//! Below both `component` (which pre-instantiates with this state) and `eval`
//! (which creates a store per call), so neither depends on the other for it.

use wasmtime::ResourceLimiter;

use crate::limits::{MAX_INSTANCES, MAX_MEMORIES, MAX_TABLE_ELEMENTS, MAX_TABLES};

/// Per-store state: only the resource limiter. Guests get no host state.
pub struct StoreState {
    pub(crate) limiter: Limiter,
}

pub(crate) struct Limiter {
    pub(crate) memory_limit: usize,
    /// Set when a growth request was denied, so the resulting trap is classified as
    /// out of memory rather than as a generic trap.
    pub(crate) denied: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.denied = Some(desired);
            // Trapping instead of returning -1 from memory.grow makes the fault
            // explicit and identical for every guest language.
            return Err(wasmtime::format_err!("memory limit of {} bytes exceeded", self.memory_limit));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}
