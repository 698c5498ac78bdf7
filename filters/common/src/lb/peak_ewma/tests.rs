use super::*;

const MS: u64 = 1_000_000;
const S: u64 = 1_000 * MS;

#[test]
fn starts_at_default_rtt() {
    let mut e = PeakEwma::new(EwmaConfig::default(), 0);
    assert_eq!(e.estimate(0), (30 * MS) as f64);
}

#[test]
fn jumps_to_a_slow_sample_at_once() {
    let mut e = PeakEwma::new(EwmaConfig::default(), 0);
    assert_eq!(e.observe(200 * MS, MS), (200 * MS) as f64);
}

#[test]
fn the_first_answer_replaces_the_default_guess() {
    let mut e = PeakEwma::new(EwmaConfig::default(), 0);
    assert_eq!(
        e.observe(MS, MS),
        MS as f64,
        "1 ms, not 30 ms decaying for 10 s"
    );
    // From then on, good news is believed gradually again.
    e.observe(40 * MS, 2 * MS);
    assert!(e.observe(MS, 3 * MS) > (39 * MS) as f64);
}

#[test]
fn fast_samples_pull_the_estimate_down_gradually() {
    let mut e = PeakEwma::new(EwmaConfig::default(), 0);
    e.observe(MS, 0);
    e.observe(200 * MS, 0);
    // 1 s later, a 1 ms sample: weight exp(-0.1) ≈ 0.905 stays on the old estimate.
    let next = e.observe(MS, S);
    let expected = 200.0 * (-0.1f64).exp() + 1.0 * (1.0 - (-0.1f64).exp());
    assert!((next / MS as f64 - expected).abs() < 1e-6, "{next}");
}

#[test]
fn slow_endpoint_is_avoided_then_recovers_after_decay() {
    let config = EwmaConfig::default();
    let mut fast = PeakEwma::new(config, 0);
    let mut slow = PeakEwma::new(config, 0);
    // 100 requests 10 ms apart: fast answers in 1 ms, slow in 40 ms.
    let mut now = 0;
    for _ in 0..100 {
        now += 10 * MS;
        fast.observe(MS, now);
        slow.observe(40 * MS, now);
    }
    assert!(
        slow.cost(0, now) > fast.cost(0, now) * 1.3,
        "slow costs clearly more"
    );
    // The slow one is then left alone (no samples); the fast one keeps answering in 1 ms.
    for _ in 0..6000 {
        now += 10 * MS;
        fast.observe(MS, now);
    }
    // After 60 s (6 decay windows) the idle estimate has decayed to 40 ms × e^-6 ≈ 0.1 ms, below
    // the busy fast one's ~1 ms: the slow endpoint gets retried.
    assert!(
        slow.cost(0, now) < fast.cost(0, now),
        "{} vs {}",
        slow.cost(0, now),
        fast.cost(0, now)
    );
}

#[test]
fn in_flight_multiplies_the_cost() {
    let mut e = PeakEwma::new(EwmaConfig::from_ms(10_000, 10), 0);
    assert_eq!(e.cost(2, 0), (30 * MS) as f64);
}

#[test]
fn a_clock_going_backwards_does_not_blow_up() {
    let mut e = PeakEwma::new(EwmaConfig::default(), 10 * S);
    let v = e.observe(MS, 5 * S);
    assert!(v.is_finite() && v > 0.0);
}

#[test]
fn an_idle_unmeasured_endpoint_is_tried_first_then_judged() {
    let mut e = PeakEwma::new(EwmaConfig::default(), 0);
    assert_eq!(
        e.cost(0, 0),
        0.0,
        "never measured, nothing in flight: try it"
    );
    assert_eq!(
        e.cost(1, 0),
        (60 * MS) as f64,
        "its probe in flight: default × 2"
    );
    e.observe(40 * MS, MS);
    assert_eq!(e.cost(0, MS), (40 * MS) as f64, "measured: its own latency");
}
