//! Context ids and HTTP-call tokens of one VM: one counter for both, as the guest sees them,
//! which skips every id still in use when it wraps.
//!
//! A counter that simply wrapped after 2³² allocations handed out the root context's id or a
//! live stream's, and the stream table then lost a context under a running callback. Like
//! proxy-wasm-cpp-host, the next id is the next one not in use.

/// The next id to hand out.
#[derive(Debug, Default)]
pub struct ContextIds {
    last: u32,
}

impl ContextIds {
    /// An allocator whose first id will be `last + 1` (tests start it near the wrap).
    #[cfg(test)]
    pub fn starting_after(last: u32) -> Self {
        Self { last }
    }

    /// The next id after the last one handed out that is neither 0 (the ABI's "no context")
    /// nor `in_use`.
    pub fn fresh(&mut self, in_use: impl Fn(u32) -> bool) -> u32 {
        loop {
            self.last = self.last.wrapping_add(1);
            if self.last != 0 && !in_use(self.last) {
                return self.last;
            }
        }
    }
}

#[cfg(test)]
mod tests;
