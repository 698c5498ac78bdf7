//! Quantiles from Prometheus-style cumulative histogram buckets, computed the way PromQL's
//! `histogram_quantile` does, so `wasmesh stat` and a Grafana panel over the same buckets agree.

#[cfg(test)]
mod tests;

/// The `q` quantile (0..=1) of a histogram given as `(upper bound, cumulative count)` pairs in
/// increasing bound order, the last normally `+Inf` with the total.
///
/// Within the bucket holding the rank, the value is interpolated linearly between the bucket's
/// lower and upper bound (lower bound 0 for the first bucket); a rank in the `+Inf` bucket
/// answers the highest finite bound, as Prometheus does. `None` when there are no observations.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 || !q.is_finite() {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total;
    let index = buckets.iter().position(|(_, count)| *count >= rank)?;
    let (upper, count) = buckets[index];
    if upper == f64::INFINITY {
        // Nothing to interpolate towards: the highest finite bound is the best answer.
        return Some(index.checked_sub(1).map_or(0.0, |i| buckets[i].0));
    }
    let (lower, below) = match index.checked_sub(1) {
        Some(i) => buckets[i],
        None if upper <= 0.0 => return Some(upper),
        None => (0.0, 0.0),
    };
    let in_bucket = count - below;
    if in_bucket <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - below) / in_bucket)
}
