use super::*;
use crate::hash::hash64;
use crate::lb::config::HashKey;

const MS: u64 = 1_000_000;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn set(weights: &[u32]) -> Vec<Endpoint> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| Endpoint::new(addr(8081 + i as u16)).with_weight(w))
        .collect()
}

fn balancer(policy: Policy, weights: &[u32]) -> Balancer {
    let mut b = Balancer::new(policy, 42);
    b.set_endpoints(set(weights), 0);
    b
}

/// Picks `n` times (releasing each at once) and counts picks per port offset.
fn spread(b: &mut Balancer, n: usize, hash: impl Fn(usize) -> Option<u64>) -> Vec<u32> {
    let mut counts = vec![0u32; b.endpoints().count()];
    for i in 0..n {
        let a = b.pick(hash(i), 0).expect("a pick");
        counts[usize::from(a.port() - 8081)] += 1;
        b.release(a);
    }
    counts
}

#[test]
fn round_robin_is_exact() {
    assert_eq!(
        spread(&mut balancer(Policy::RoundRobin, &[1, 1, 1]), 30, |_| None),
        [10, 10, 10]
    );
}

#[test]
fn weighted_is_proportional_and_skips_weight_zero() {
    assert_eq!(
        spread(&mut balancer(Policy::Weighted, &[3, 1, 0]), 40, |_| None),
        [30, 10, 0]
    );
}

#[test]
fn zero_weight_and_lower_priority_are_not_picked() {
    let mut endpoints = set(&[1, 0, 1]);
    endpoints[2].priority = 1;
    let mut b = Balancer::new(Policy::RoundRobin, 1);
    b.set_endpoints(endpoints, 0);
    assert_eq!(spread(&mut b, 6, |_| None), [6, 0, 0]);
}

#[test]
fn random_and_least_request_reach_everyone() {
    for policy in [Policy::Random, Policy::LeastRequest] {
        let counts = spread(&mut balancer(policy.clone(), &[1, 1, 1]), 300, |_| None);
        assert!(counts.iter().all(|&c| c > 50), "{policy:?}: {counts:?}");
    }
}

#[test]
fn least_request_avoids_the_busy_one() {
    let mut b = balancer(Policy::LeastRequest, &[1, 1, 1]);
    // Hold 5 requests on 8081.
    for _ in 0..5 {
        b.members[0].in_flight += 1;
    }
    let counts = spread(&mut b, 300, |_| None);
    assert_eq!(counts[0], 0, "{counts:?}");
    assert_eq!(b.in_flight(addr(8081)), Some(5));
}

#[test]
fn hash_policies_are_sticky_and_spread_keys() {
    for policy in [
        Policy::RingHash(HashKey::SourceIp),
        Policy::Maglev(HashKey::SourceIp),
    ] {
        let mut b = balancer(policy.clone(), &[1, 1, 1]);
        let key = |i: usize| Some(hash64(format!("user-{}", i % 20).as_bytes()));
        let first: Vec<SocketAddr> = (0..20).map(|i| b.pick(key(i), 0).unwrap()).collect();
        let again: Vec<SocketAddr> = (0..20).map(|i| b.pick(key(i), 0).unwrap()).collect();
        assert_eq!(first, again, "{policy:?}");
        let distinct: std::collections::BTreeSet<_> = first.iter().collect();
        assert!(distinct.len() > 1, "{policy:?}");
        // No key: random, still an endpoint.
        assert!(b.pick(None, 0).is_some());
    }
}

#[test]
fn peak_ewma_sends_little_to_a_slow_endpoint() {
    let mut b = balancer(Policy::PeakEwma(EwmaConfig::default()), &[1, 1, 1]);
    let slow = addr(8083);
    let mut now = 0;
    let mut to_slow = 0;
    for _ in 0..300 {
        now += 5 * MS;
        let a = b.pick(None, now).unwrap();
        let rtt = if a == slow { 45 * MS } else { MS };
        if a == slow {
            to_slow += 1;
        }
        b.observe(a, Outcome::Success, rtt, now + rtt);
        b.release(a);
    }
    assert!(to_slow <= 3, "slow endpoint got {to_slow} of 300");
}

#[test]
fn failures_count_as_slow() {
    let mut b = balancer(Policy::PeakEwma(EwmaConfig::from_ms(10_000, 30)), &[1, 1]);
    let (bad, good) = (addr(8081), addr(8082));
    let later = 10_000 * MS;
    b.observe(good, Outcome::Success, 10 * MS, later);
    b.observe(bad, Outcome::Failure, MS, later);
    // bad answered "in 1 ms" but failed: it stays at the 30 ms default, good fell toward 10 ms.
    let counts = spread(&mut b, 50, |_| None);
    assert_eq!(counts[0], 0, "{counts:?}");
}

#[test]
fn in_flight_counts_and_release_saturates() {
    let mut b = balancer(Policy::RoundRobin, &[1]);
    let a = b.pick(None, 0).unwrap();
    b.pick(None, 0).unwrap();
    assert_eq!(b.in_flight(a), Some(2));
    b.release(a);
    b.release(a);
    b.release(a);
    assert_eq!(b.in_flight(a), Some(0));
}

#[test]
fn updates_keep_load_of_staying_endpoints() {
    let mut b = balancer(Policy::LeastRequest, &[1, 1]);
    let a = addr(8081);
    b.members[0].in_flight = 3;
    let mut next = set(&[1, 1, 1]);
    next.reverse();
    b.set_endpoints(next, 0);
    assert_eq!(b.in_flight(a), Some(3));
    assert_eq!(b.endpoints().count(), 3);
    b.set_endpoints(Vec::new(), 0);
    assert_eq!(b.pick(None, 0), None);
}

#[test]
fn ejected_endpoints_are_skipped_until_they_return() {
    let set: Vec<Endpoint> = (1..=3).map(|p| Endpoint::new(addr(p))).collect();
    let mut b = Balancer::new(Policy::RoundRobin, 1);
    b.set_endpoints(set, 0);
    b.set_ejected(vec![addr(2)]);
    let picks: Vec<SocketAddr> = (0..6).map(|_| b.pick(None, 0).unwrap()).collect();
    assert!(!picks.contains(&addr(2)), "{picks:?}");
    b.set_ejected(Vec::new());
    let picks: Vec<SocketAddr> = (0..6).map(|_| b.pick(None, 0).unwrap()).collect();
    assert!(picks.contains(&addr(2)), "{picks:?}");
    // Everything ejected: ejections are ignored rather than leaving nothing.
    b.set_ejected((1..=3).map(addr).collect());
    assert!(b.pick(None, 0).is_some());
}

/// Ports 1..=4 at priority 0, 5..=6 at priority 1.
fn two_levels(policy: Policy) -> Balancer {
    let set: Vec<Endpoint> = (1..=6)
        .map(|p| Endpoint {
            priority: u32::from(p > 4),
            ..Endpoint::new(addr(p))
        })
        .collect();
    let mut b = Balancer::new(policy, 7);
    b.set_endpoints(set, 0);
    b
}

fn picks_per_port(b: &mut Balancer, n: usize) -> [u32; 7] {
    let mut counts = [0u32; 7];
    for _ in 0..n {
        let a = b.pick(None, 0).expect("a pick");
        counts[usize::from(a.port())] += 1;
        b.release(a);
    }
    counts
}

#[test]
fn half_of_p0_ejected_spills_thirty_percent_to_p1() {
    let mut b = two_levels(Policy::RoundRobin);
    let view = |b: &Balancer| {
        b.levels()
            .map(|l| (l.priority, l.load, l.panic))
            .collect::<Vec<_>>()
    };
    assert_eq!(view(&b), [(0, 100, false), (1, 0, false)]);
    assert_eq!(picks_per_port(&mut b, 400)[5..], [0, 0]);
    b.set_ejected(vec![addr(1), addr(2)]);
    assert_eq!(view(&b), [(0, 70, false), (1, 30, false)]);
    let counts = picks_per_port(&mut b, 10_000);
    assert_eq!(counts[1..3], [0, 0], "ejected");
    let p1 = f64::from(counts[5] + counts[6]) / 10_000.0;
    assert!(
        (p1 - 0.30).abs() < 0.02,
        "share of priority 1: {p1} ({counts:?})"
    );
    // Round robin inside each level: even within a level.
    assert!(counts[3].abs_diff(counts[4]) <= 1, "{counts:?}");
    assert!(counts[5].abs_diff(counts[6]) <= 1, "{counts:?}");
}

#[test]
fn every_p0_ejected_sends_everything_to_p1_and_back() {
    let mut b = two_levels(Policy::Random);
    b.set_ejected((1..=4).map(addr).collect());
    let counts = picks_per_port(&mut b, 1_000);
    assert_eq!(counts[5] + counts[6], 1_000, "{counts:?}");
    b.set_ejected(Vec::new());
    let counts = picks_per_port(&mut b, 1_000);
    assert_eq!(counts[1..5].iter().sum::<u32>(), 1_000, "{counts:?}");
}

#[test]
fn a_level_in_panic_picks_ejected_endpoints_too() {
    let set: Vec<Endpoint> = (1..=5).map(|p| Endpoint::new(addr(p))).collect();
    let mut b = Balancer::new(Policy::RoundRobin, 1);
    b.set_endpoints(set, 0);
    b.set_ejected((1..=4).map(addr).collect());
    assert!(b.levels().all(|l| l.panic));
    assert_eq!(picks_per_port(&mut b, 50)[1..6], [10, 10, 10, 10, 10]);
    // Panic disabled: only the healthy one.
    let set: Vec<Endpoint> = (1..=5).map(|p| Endpoint::new(addr(p))).collect();
    let rules = Levels {
        model: crate::lb::priority::LoadModel {
            panic_threshold: 0.0,
            ..Default::default()
        },
        local_zone: None,
    };
    let mut b = Balancer::new(Policy::RoundRobin, 1).with_levels(rules);
    b.set_endpoints(set, 0);
    b.set_ejected((1..=4).map(addr).collect());
    assert_eq!(picks_per_port(&mut b, 50)[1..6], [0, 0, 0, 0, 50]);
}

#[test]
fn a_hash_key_keeps_its_level_while_loads_stay() {
    let mut b = two_levels(Policy::Maglev(HashKey::SourceIp));
    b.set_ejected(vec![addr(1), addr(2)]);
    for key in 0..50u64 {
        let h = hash64(&key.to_le_bytes());
        let first = b.pick(Some(h), 0).unwrap();
        assert_eq!(b.pick(Some(h), 0), Some(first), "key {key}");
    }
}
