//! The three in-process backends of the `lb` mode, `b3` the slow one, and how many requests
//! each received: counted by the backends themselves, so the share does not depend on either
//! proxy reporting it.

use std::net::SocketAddr;
use std::time::Duration;

use wasmesh_backend::{Backend, BackendHandle};

/// Backend names, in endpoint-list order; the echo names the one that answered.
pub const NAMES: [&str; 3] = ["b1", "b2", "b3"];
/// Index of the slow backend in [`NAMES`]: last, so it is not favoured by list order.
pub const SLOW: usize = 2;

/// The running backends; stopped when dropped.
pub struct Backends {
    handles: Vec<BackendHandle>,
}

impl Backends {
    /// Starts [`NAMES`]; the [`SLOW`] one answers every request `slow` late.
    pub fn start(slow: Duration) -> Self {
        let handles = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let backend = Backend::start(name);
                if i == SLOW {
                    backend.with_delay(slow)
                } else {
                    backend
                }
            })
            .collect();
        Self { handles }
    }

    /// Their addresses, in [`NAMES`] order: the filter's static endpoint list.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.handles.iter().map(|b| b.addr).collect()
    }

    /// The address of backend `name`, if it is one of ours.
    pub fn addr_of(&self, name: &str) -> Option<SocketAddr> {
        self.handles
            .iter()
            .find(|b| b.name() == name)
            .map(|b| b.addr)
    }

    /// Requests each backend has received so far.
    pub fn counts(&self) -> Counts {
        let mut counts = [0; 3];
        for (count, backend) in counts.iter_mut().zip(&self.handles) {
            *count = backend.requests_seen();
        }
        Counts(counts)
    }
}

/// Requests per backend, in [`NAMES`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts(pub [u64; 3]);

impl Counts {
    /// What arrived between `earlier` and `self`: the measurement window alone.
    pub fn since(self, earlier: Counts) -> Counts {
        let mut delta = [0; 3];
        for (i, d) in delta.iter_mut().enumerate() {
            *d = self.0[i].saturating_sub(earlier.0[i]);
        }
        Counts(delta)
    }

    /// All requests counted.
    pub fn total(self) -> u64 {
        self.0.iter().sum()
    }

    /// The slow backend's share of all requests, in percent; `None` if none arrived.
    pub fn slow_percent(self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.0[SLOW] as f64 * 100.0 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_window_only() {
        let before = Counts([10, 10, 10]);
        let after = Counts([55, 50, 15]);
        let window = after.since(before);
        assert_eq!(window, Counts([45, 40, 5]));
        assert_eq!(window.total(), 90);
        assert_eq!(window.slow_percent(), Some(5.0 * 100.0 / 90.0));
        assert_eq!(Counts::default().slow_percent(), None);
    }
}
