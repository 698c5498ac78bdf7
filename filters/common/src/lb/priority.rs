//! Envoy's priority load model: how much of the traffic each priority level gets, given how
//! many of its endpoints are healthy (not ejected), and when a level is in **panic**.
//!
//! - A level's *health* is `healthy ÷ total × overprovisioning factor` (Envoy's 140 %), capped
//!   at 100 %: a level missing a few endpoints is assumed to absorb their load, so a level keeps
//!   all its traffic until more than `1 − 1/1.4` ≈ 28.6 % of it is gone.
//! - Level 0 gets `min(100, health₀)` %, the rest spills to level 1, and so on. When the healths
//!   add up to less than 100 (the *normalised total health*), they are scaled up to 100.
//! - **Panic**: when the normalised total health is below 100, a level whose share of healthy
//!   endpoints (`healthy ÷ total`, without the factor) is below the panic threshold balances over
//!   all its endpoints, healthy or not, rather than overloading the few left. When every level is
//!   in panic, the levels share the traffic in proportion to their endpoint counts.
//!
//! Loads are integer percents, as Envoy keeps them; rounding leftovers go to the first level
//! with any health, so the loads always add up to 100 (when there is a level at all).

/// Envoy's default overprovisioning factor, in percent (1.4).
pub const DEFAULT_OVERPROVISIONING_FACTOR: u32 = 140;
/// Envoy's default panic threshold, in percent of healthy endpoints in a level.
pub const DEFAULT_PANIC_THRESHOLD: f64 = 50.0;

/// How healthy one level is: its endpoints that may take traffic, and the healthy ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelCount {
    /// Endpoints of the level that may take traffic at all (weight above 0).
    pub total: usize,
    /// Those of them not ejected.
    pub healthy: usize,
}

/// What the model decides for one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelLoad {
    /// Percent of requests sent to the level.
    pub load: u32,
    /// The level balances over all its endpoints, ejected ones included.
    pub panic: bool,
}

/// The two knobs of the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadModel {
    /// Percent: 140 means a level at 1/1.4 of its endpoints still takes all its traffic.
    pub overprovisioning_factor: u32,
    /// Percent of healthy endpoints under which a level is in panic; 0 disables panic.
    pub panic_threshold: f64,
}

impl Default for LoadModel {
    fn default() -> Self {
        Self {
            overprovisioning_factor: DEFAULT_OVERPROVISIONING_FACTOR,
            panic_threshold: DEFAULT_PANIC_THRESHOLD,
        }
    }
}

impl LoadModel {
    /// A level's health in percent: `healthy ÷ total × factor`, capped at 100 (0 when empty).
    pub fn health(&self, level: LevelCount) -> u32 {
        if level.total == 0 {
            return 0;
        }
        let scaled =
            u64::from(self.overprovisioning_factor) * level.healthy as u64 / level.total as u64;
        scaled.min(100) as u32
    }

    /// The load and panic state of each level, in level order (best first).
    pub fn loads(&self, levels: &[LevelCount]) -> Vec<LevelLoad> {
        let health: Vec<u32> = levels.iter().map(|&l| self.health(l)).collect();
        let normalised = health.iter().sum::<u32>().min(100);
        let panic: Vec<bool> = levels
            .iter()
            .map(|&l| normalised < 100 && self.below_threshold(l))
            .collect();
        let present = levels.iter().filter(|l| l.total > 0).count();
        let all_in_panic =
            present > 0 && levels.iter().zip(&panic).all(|(l, &p)| p || l.total == 0);
        // Nothing healthy anywhere: ejections are advice, not a reason to answer 503, so even
        // with panic disabled the levels are balanced as in a total panic.
        if all_in_panic || (normalised == 0 && present > 0) {
            let weights: Vec<u32> = levels.iter().map(|l| l.total as u32).collect();
            return share(&weights, 100)
                .into_iter()
                .zip(levels)
                .map(|(load, l)| LevelLoad {
                    load,
                    panic: l.total > 0,
                })
                .collect();
        }
        let mut remaining = 100u32;
        let mut loads: Vec<u32> = health
            .iter()
            .map(|&h| {
                let load = (h * 100 / normalised.max(1)).min(remaining);
                remaining -= load;
                load
            })
            .collect();
        if let Some(first) = health.iter().position(|&h| h > 0) {
            loads[first] += remaining;
        }
        loads
            .into_iter()
            .zip(panic)
            .map(|(load, panic)| LevelLoad { load, panic })
            .collect()
    }

    fn below_threshold(&self, level: LevelCount) -> bool {
        level.total > 0
            && (level.healthy as f64) * 100.0 / (level.total as f64) < self.panic_threshold
    }
}

/// `total` split in proportion to `weights` (integer, floor), leftovers to the first non-zero.
fn share(weights: &[u32], total: u32) -> Vec<u32> {
    let sum: u32 = weights.iter().sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut parts: Vec<u32> = weights.iter().map(|&w| w * total / sum).collect();
    let left = total - parts.iter().sum::<u32>();
    if let Some(first) = weights.iter().position(|&w| w > 0) {
        parts[first] += left;
    }
    parts
}

/// Which level a draw in `0..100` falls in, given the loads; `None` if they are all 0.
pub fn level_for(draw: u32, loads: impl IntoIterator<Item = u32>) -> Option<usize> {
    let mut upto = 0;
    let mut last = None;
    for (i, load) in loads.into_iter().enumerate() {
        if load == 0 {
            continue;
        }
        upto += load;
        last = Some(i);
        if draw < upto {
            return last;
        }
    }
    last
}

#[cfg(test)]
mod tests;
