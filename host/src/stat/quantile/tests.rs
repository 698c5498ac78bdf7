use super::*;

const INF: f64 = f64::INFINITY;

#[test]
fn interpolates_inside_the_bucket_holding_the_rank() {
    // 10 observations in (0,10], 10 in (10,20]: the median is the top of the first bucket,
    // p75 half way through the second.
    let buckets = [(10.0, 10.0), (20.0, 20.0), (INF, 20.0)];
    assert_eq!(histogram_quantile(0.5, &buckets), Some(10.0));
    assert_eq!(histogram_quantile(0.75, &buckets), Some(15.0));
    assert_eq!(histogram_quantile(0.25, &buckets), Some(5.0));
    assert_eq!(histogram_quantile(1.0, &buckets), Some(20.0));
}

#[test]
fn skips_empty_buckets_and_interpolates_from_the_previous_bound() {
    // 100 fast requests (<= 1 ms) and 10 slow ones in (100, 200].
    let buckets = [
        (1.0, 100.0),
        (50.0, 100.0),
        (100.0, 100.0),
        (200.0, 110.0),
        (INF, 110.0),
    ];
    let p99 = histogram_quantile(0.99, &buckets).unwrap();
    // rank 108.9: 8.9 of the 10 in (100, 200] → 189.
    assert!((p99 - 189.0).abs() < 1e-9, "{p99}");
    let p50 = histogram_quantile(0.5, &buckets).unwrap();
    assert!((p50 - 0.55).abs() < 1e-9, "{p50}");
}

#[test]
fn rank_in_the_inf_bucket_answers_the_highest_finite_bound() {
    let buckets = [(5.0, 1.0), (10.0, 2.0), (INF, 10.0)];
    assert_eq!(histogram_quantile(0.99, &buckets), Some(10.0));
}

#[test]
fn no_observations_is_none() {
    assert_eq!(histogram_quantile(0.5, &[(1.0, 0.0), (INF, 0.0)]), None);
    assert_eq!(histogram_quantile(0.5, &[]), None);
}
