//! A retry budget like Linkerd's: retries may add at most `ratio` of the requests seen over a
//! sliding window, plus a floor of `min_per_second` so a quiet service can still retry. It is
//! what keeps a sick endpoint from turning every request into several (a retry storm).
//!
//! The window is split into [`BUCKETS`] buckets that expire one at a time. The budget is per
//! worker (per VM): each worker spends its own share, so the bound holds for the sum.

/// Buckets in a window.
pub const BUCKETS: usize = 10;

/// Budget settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    /// Retries allowed per request seen (Linkerd's default 0.2).
    pub ratio: f64,
    /// Retries allowed per second whatever the traffic (Linkerd's default 10).
    pub min_per_second: u32,
    /// The window (Linkerd's default 10 s).
    pub window_ms: u64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            ratio: 0.2,
            min_per_second: 10,
            window_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// Which slot of time (`now / bucket_ms`) this bucket counts; stale ones are reset.
    epoch: u64,
    requests: u64,
    retries: u64,
}

/// The budget's state.
#[derive(Debug, Clone)]
pub struct Budget {
    config: BudgetConfig,
    bucket_ms: u64,
    buckets: [Bucket; BUCKETS],
}

impl Budget {
    /// A fresh budget.
    pub fn new(config: BudgetConfig) -> Self {
        Self {
            bucket_ms: (config.window_ms / BUCKETS as u64).max(1),
            config,
            buckets: [Bucket::default(); BUCKETS],
        }
    }

    fn bucket(&mut self, now_ms: u64) -> &mut Bucket {
        let epoch = now_ms / self.bucket_ms;
        let bucket = &mut self.buckets[(epoch % BUCKETS as u64) as usize];
        if bucket.epoch != epoch {
            *bucket = Bucket {
                epoch,
                ..Bucket::default()
            };
        }
        bucket
    }

    fn totals(&self, now_ms: u64) -> (u64, u64) {
        let epoch = now_ms / self.bucket_ms;
        self.buckets
            .iter()
            .filter(|b| epoch.saturating_sub(b.epoch) < BUCKETS as u64 && b.epoch <= epoch)
            .fold((0, 0), |(q, r), b| (q + b.requests, r + b.retries))
    }

    /// Counts an original request (it earns `ratio` of a retry).
    pub fn deposit(&mut self, now_ms: u64) {
        self.bucket(now_ms).requests += 1;
    }

    /// Spends one retry if the budget allows it; `false` means "do not retry".
    pub fn try_withdraw(&mut self, now_ms: u64) -> bool {
        let (requests, retries) = self.totals(now_ms);
        let window_s = self.config.window_ms as f64 / 1000.0;
        let allowed =
            self.config.ratio * requests as f64 + f64::from(self.config.min_per_second) * window_s;
        if (retries as f64) < allowed.floor() {
            self.bucket(now_ms).retries += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests;
