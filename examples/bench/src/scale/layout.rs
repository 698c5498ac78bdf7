//! Which cores each part of a scaling measurement runs on: the proxy's `N` workers on cores of
//! their own, wrk and the backend on the others, so that a proxy's requests/s at `N` is what
//! `N` cores do, and the load's own CPU use says whether it was the limit instead.

use std::fmt;

/// A contiguous range of CPUs, as `taskset -c` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cores {
    /// The first CPU.
    pub first: usize,
    /// How many.
    pub count: usize,
}

impl fmt::Display for Cores {
    /// `3` or `4-7`: a `taskset` CPU list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.count {
            0 | 1 => write!(f, "{}", self.first),
            n => write!(f, "{}-{}", self.first, self.first + n - 1),
        }
    }
}

/// Where the proxy, wrk and the backend run for one worker count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The proxy's cores: one per worker.
    pub proxy: Cores,
    /// wrk's.
    pub client: Cores,
    /// The backend's (the bench's process, where it runs).
    pub backend: Cores,
}

impl Layout {
    /// The layout for `workers` on a machine of `cores` CPUs when the run goes up to
    /// `most_workers`: the proxy on the first `workers` cores; the load on the cores above
    /// `most_workers` when at least two are left there (the same load cores at every worker
    /// count, so the load side is equal throughout), else on the cores above `workers`, else
    /// (no core left) on all of them, shared with the proxy. wrk gets the first half of the
    /// load's cores (rounded up), the backend the rest; on one core both share it.
    pub fn plan(cores: usize, workers: usize, most_workers: usize) -> Layout {
        let cores = cores.max(1);
        let workers = workers.clamp(1, cores);
        let proxy = Cores {
            first: 0,
            count: workers,
        };
        let load = if cores >= most_workers + 2 {
            Cores {
                first: most_workers,
                count: cores - most_workers,
            }
        } else if cores > workers {
            Cores {
                first: workers,
                count: cores - workers,
            }
        } else {
            Cores {
                first: 0,
                count: cores,
            }
        };
        if load.count == 1 {
            return Layout {
                proxy,
                client: load,
                backend: load,
            };
        }
        let client_count = load.count.div_ceil(2);
        Layout {
            proxy,
            client: Cores {
                first: load.first,
                count: client_count,
            },
            backend: Cores {
                first: load.first + client_count,
                count: load.count - client_count,
            },
        }
    }

    /// Whether the proxy shares a core with wrk or the backend: its figures then include
    /// their competition, and the report says so.
    pub fn shared(&self) -> bool {
        let overlaps =
            |a: Cores, b: Cores| a.first < b.first + b.count && b.first < a.first + a.count;
        overlaps(self.proxy, self.client) || overlaps(self.proxy, self.backend)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "proxy on CPU {}, wrk on {}, backend on {}",
            self.proxy, self.client, self.backend
        )?;
        if self.shared() {
            f.write_str(" (shared: the machine has too few cores to keep them apart)")?;
        }
        Ok(())
    }
}

/// The worker counts measured when none are given: 1, 2, 4, … up to the cores left after two
/// for the load (at least 1 and 2, shared on a machine too small for that).
pub fn default_workers(cores: usize) -> Vec<usize> {
    let most = cores.saturating_sub(2).max(2);
    std::iter::successors(Some(1usize), |n| Some(n * 2))
        .take_while(|&n| n <= most)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cores(first: usize, count: usize) -> Cores {
        Cores { first, count }
    }

    #[test]
    fn sixteen_cores_keep_the_same_load_cores_at_every_count() {
        for n in [1, 2, 4, 8] {
            let layout = Layout::plan(16, n, 8);
            assert_eq!(layout.proxy, cores(0, n));
            assert_eq!(layout.client, cores(8, 4));
            assert_eq!(layout.backend, cores(12, 4));
            assert!(!layout.shared());
        }
        assert_eq!(
            Layout::plan(16, 8, 8).to_string(),
            "proxy on CPU 0-7, wrk on 8-11, backend on 12-15"
        );
    }

    #[test]
    fn two_cores_share_what_they_must() {
        let one = Layout::plan(2, 1, 2);
        assert_eq!(
            (one.proxy, one.client, one.backend),
            (cores(0, 1), cores(1, 1), cores(1, 1))
        );
        assert!(!one.shared());
        let two = Layout::plan(2, 2, 2);
        assert_eq!(
            (two.proxy, two.client, two.backend),
            (cores(0, 2), cores(0, 1), cores(1, 1))
        );
        assert!(two.shared());
        assert!(two
            .to_string()
            .ends_with("(shared: the machine has too few cores to keep them apart)"));
    }

    #[test]
    fn default_counts_leave_two_cores_for_the_load() {
        assert_eq!(default_workers(2), [1, 2]);
        assert_eq!(default_workers(4), [1, 2]);
        assert_eq!(default_workers(16), [1, 2, 4, 8]);
        assert_eq!(default_workers(18), [1, 2, 4, 8, 16]);
    }
}
