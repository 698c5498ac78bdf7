//! The VM's memory cap, and whether its memory grew since the size was last published.
//!
//! A plugin's memory gauge used to be refreshed after every callback, which looked the memory
//! up in the store each time (about 1 % of a worker's cycles with three filters). Linear
//! memory only grows through `memory.grow`, and every growth asks the store's limiter first, so
//! the limiter is where a change is noticed.

use wasmtime::{ResourceLimiter, Result, StoreLimits};

/// wasmtime's [`StoreLimits`], plus a flag set whenever it lets a memory grow.
pub struct MemoryLimits {
    limits: StoreLimits,
    grew: bool,
}

impl MemoryLimits {
    /// Enforces `limits`.
    pub fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            grew: false,
        }
    }

    /// Whether a memory grew since the last call (clears the flag).
    pub fn take_grew(&mut self) -> bool {
        std::mem::take(&mut self.grew)
    }
}

impl ResourceLimiter for MemoryLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        self.grew |= allowed;
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
