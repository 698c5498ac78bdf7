//! One histogram's cumulative buckets as scraped: summed over the label sets a row groups
//! together, and subtracted between two scrapes to get the window's distribution.

use super::quantile::histogram_quantile;

/// Cumulative bucket counts by upper bound (`le`), kept in increasing bound order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets {
    counts: Vec<(f64, f64)>,
}

impl Buckets {
    /// Adds `count` to the bucket with upper bound `le` (creating it): several label sets of a
    /// row (status codes, classifications) add up to the row's histogram.
    pub fn add(&mut self, le: f64, count: f64) {
        match self
            .counts
            .binary_search_by(|(bound, _)| bound.total_cmp(&le))
        {
            Ok(i) => self.counts[i].1 += count,
            Err(i) => self.counts.insert(i, (le, count)),
        }
    }

    /// The observations made since `before` was scraped. A bucket that went down means the
    /// proxy restarted, so the later counts are taken whole (as Prometheus' `rate` does).
    pub fn since(&self, before: &Buckets) -> Buckets {
        let earlier = |le: f64| {
            before
                .counts
                .iter()
                .find(|(bound, _)| *bound == le)
                .map_or(0.0, |(_, count)| *count)
        };
        let reset = self.counts.iter().any(|(le, count)| *count < earlier(*le));
        let counts = self
            .counts
            .iter()
            .map(|&(le, count)| (le, if reset { count } else { count - earlier(le) }))
            .collect();
        Buckets { counts }
    }

    /// The `q` quantile of these observations (see [`histogram_quantile`]).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        histogram_quantile(q, &self.counts)
    }
}
