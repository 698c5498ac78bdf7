//! Smooth weighted round robin (nginx's algorithm): shares follow the weights exactly over every
//! cycle of `sum(weights)` picks, and a heavy endpoint's turns are spread out rather than
//! bunched (weights 5:1:1 give `a a b a c a a`, not `a a a a a b c`).
//!
//! Each pick: add every weight to its running `current`, take the largest `current`, subtract
//! the total weight from it.

/// Running `current` weights, one per candidate.
#[derive(Debug, Clone, Default)]
pub struct SmoothWeighted {
    current: Vec<i64>,
}

impl SmoothWeighted {
    /// The next index for `weights` (weight 0 is never picked); `None` if all are 0. A change
    /// in the number of candidates restarts the cycle.
    pub fn pick(&mut self, weights: &[u32]) -> Option<usize> {
        if self.current.len() != weights.len() {
            self.current = vec![0; weights.len()];
        }
        let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
        if total == 0 {
            return None;
        }
        let mut best: Option<usize> = None;
        for (i, &w) in weights.iter().enumerate() {
            if w == 0 {
                continue;
            }
            self.current[i] += i64::from(w);
            if best.is_none_or(|b| self.current[i] > self.current[b]) {
                best = Some(i);
            }
        }
        let best = best?;
        self.current[best] -= total;
        Some(best)
    }
}

#[cfg(test)]
mod tests;
