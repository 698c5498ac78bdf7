//! Peak-EWMA latency estimate per endpoint, as in Linkerd (tower's `load::PeakEwma`).
//!
//! - A new endpoint starts at `default_rtt` (Linkerd: 30 ms), so it is neither shunned nor
//!   flooded before it has answered. Its first answer replaces that guess outright (tower
//!   decays from it over the decay window instead, so for the first ~10 s a 1 ms endpoint looks
//!   like a 20-30 ms one, and multiplied by its in-flight count it loses to a truly slow idle
//!   endpoint: wasmesh-bench's `lb` mode measured 1 % of traffic on a +40 ms endpoint that way).
//!   Until that first answer, an idle unmeasured endpoint costs 0, so it is tried at once.
//! - A sample *above* the estimate replaces it at once (the "peak"): one slow response is enough
//!   to steer traffic away.
//! - A sample below decays the estimate toward it with weight `exp(-elapsed / decay)`
//!   (Linkerd: decay 10 s), `elapsed` being the time since the last update: good news is
//!   believed gradually.
//! - Reading the cost also decays the estimate toward 0 (tower's `load()` does an update with
//!   a zero RTT), so an endpoint that was once slow and then avoided is retried eventually.
//!
//! The balancer's cost is `estimate × (in_flight + 1)`, compared by power of two choices.

/// Linkerd's default decay window.
pub const DEFAULT_DECAY_MS: u64 = 10_000;
/// Linkerd's default RTT for an endpoint without samples.
pub const DEFAULT_RTT_MS: u64 = 30;

const NS_PER_MS: u64 = 1_000_000;

/// The two knobs, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EwmaConfig {
    /// Time constant of the decay (`exp(-elapsed/decay)`).
    pub decay_ns: u64,
    /// Starting estimate of a new endpoint.
    pub default_rtt_ns: u64,
}

impl Default for EwmaConfig {
    fn default() -> Self {
        Self::from_ms(DEFAULT_DECAY_MS, DEFAULT_RTT_MS)
    }
}

impl EwmaConfig {
    /// From milliseconds, as configured.
    pub fn from_ms(decay_ms: u64, default_rtt_ms: u64) -> Self {
        Self {
            decay_ns: decay_ms.saturating_mul(NS_PER_MS),
            default_rtt_ns: default_rtt_ms.saturating_mul(NS_PER_MS),
        }
    }
}

/// One endpoint's estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakEwma {
    config: EwmaConfig,
    estimate_ns: f64,
    updated_ns: u64,
    /// Whether a real answer has been folded in (until then the estimate is `default_rtt`,
    /// decayed by reads).
    measured: bool,
}

impl PeakEwma {
    /// A fresh estimate (`default_rtt`) as of `now_ns`.
    pub fn new(config: EwmaConfig, now_ns: u64) -> Self {
        Self {
            config,
            estimate_ns: config.default_rtt_ns as f64,
            updated_ns: now_ns,
            measured: false,
        }
    }

    /// Folds in one observed round trip; returns the new estimate. The first one replaces the
    /// default guess.
    pub fn observe(&mut self, rtt_ns: u64, now_ns: u64) -> f64 {
        if !self.measured {
            self.measured = true;
            self.estimate_ns = rtt_ns as f64;
            self.updated_ns = self.updated_ns.max(now_ns);
            return self.estimate_ns;
        }
        self.fold(rtt_ns as f64, now_ns)
    }

    /// Peak or decay toward `rtt`.
    fn fold(&mut self, rtt: f64, now_ns: u64) -> f64 {
        self.estimate_ns = if rtt > self.estimate_ns {
            rtt
        } else {
            let decay = self.decay_since(now_ns);
            self.estimate_ns * decay + rtt * (1.0 - decay)
        };
        self.updated_ns = self.updated_ns.max(now_ns);
        self.estimate_ns
    }

    /// The estimate now, after decaying toward 0 for the time since the last update.
    pub fn estimate(&mut self, now_ns: u64) -> f64 {
        self.fold(0.0, now_ns)
    }

    /// The balancer's cost: `estimate × (in_flight + 1)`. An endpoint never measured and idle
    /// costs 0, so it is tried at once (its first answer then replaces the guess): since measured
    /// endpoints converge to their real latency at once, a new endpoint left at `default_rtt`
    /// would otherwise wait out the decay window before its first request.
    pub fn cost(&mut self, in_flight: u32, now_ns: u64) -> f64 {
        if !self.measured && in_flight == 0 {
            return 0.0;
        }
        self.estimate(now_ns) * (f64::from(in_flight) + 1.0)
    }

    /// `exp(-elapsed/decay)`: 1 for no time passed, toward 0 as time passes. A clock that went
    /// backwards counts as no time passed.
    fn decay_since(&self, now_ns: u64) -> f64 {
        if self.config.decay_ns == 0 {
            return 0.0;
        }
        let elapsed = now_ns.saturating_sub(self.updated_ns) as f64;
        (-elapsed / self.config.decay_ns as f64).exp()
    }
}

#[cfg(test)]
mod tests;
