//! Round robin: each candidate in turn. Exact and stateful per worker, like Envoy's per-worker
//! round robin (so with N workers the global order interleaves, but shares stay equal).

/// The rotating cursor.
#[derive(Debug, Clone, Default)]
pub struct RoundRobin {
    next: usize,
}

impl RoundRobin {
    /// The next index in `0..n`, or `None` when there is nothing to pick. A shrinking `n` simply
    /// wraps the cursor.
    pub fn pick(&mut self, n: usize) -> Option<usize> {
        if n == 0 {
            return None;
        }
        let index = self.next % n;
        self.next = index + 1;
        Some(index)
    }
}

#[cfg(test)]
mod tests;
