use std::collections::BTreeMap;

use super::*;
use crate::lb::random::SplitMix64;

fn ep(port: u16, weight: u32, priority: u32) -> Endpoint {
    Endpoint {
        priority,
        ..Endpoint::new(SocketAddr::from(([127, 0, 0, 1], port))).with_weight(weight)
    }
}

#[test]
fn never_the_avoided_one_and_follows_weights() {
    let set = [ep(1, 1, 0), ep(2, 3, 0), ep(3, 1, 0)];
    let failed = set[0].address;
    let mut rng = SplitMix64::new(3);
    let mut seen: BTreeMap<u16, u32> = BTreeMap::new();
    for _ in 0..4_000 {
        let a = pick_other(&set, |a| a == failed, &mut rng).unwrap();
        *seen.entry(a.port()).or_default() += 1;
    }
    assert_eq!(seen.get(&1), None);
    assert!((2_800..=3_200).contains(&seen[&2]), "{seen:?}");
}

#[test]
fn spills_to_the_next_priority_and_can_run_out() {
    let set = [ep(1, 1, 0), ep(2, 1, 1), ep(3, 0, 0)];
    let mut rng = SplitMix64::new(1);
    let a = pick_other(&set, |a| a.port() == 1, &mut rng);
    assert_eq!(a.map(|a| a.port()), Some(2));
    assert_eq!(pick_other(&set, |a| a.port() != 3, &mut rng), None);
    assert_eq!(pick_other(&[], |_| false, &mut rng), None);
}
