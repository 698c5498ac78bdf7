use std::collections::BTreeMap;

use super::*;
use crate::lb::candidates::tests::{ep, in_zone, zone_a, zoned_set};
use crate::lb::random::SplitMix64;

/// The ports `pick_other` returns over many draws, avoiding the ports in `tried`.
fn ports_picked(set: &[Endpoint], zone: Option<&str>, tried: &[u16]) -> Vec<u16> {
    let mut rng = SplitMix64::new(7);
    let mut seen: Vec<u16> = (0..200)
        .filter_map(|_| pick_other(set, zone, |a| tried.contains(&a.port()), &mut rng))
        .map(|a| a.port())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen
}

#[test]
fn never_the_avoided_one_and_follows_weights() {
    let set = [ep(1, 1, 0), ep(2, 3, 0), ep(3, 1, 0)];
    let failed = set[0].address;
    let mut rng = SplitMix64::new(3);
    let mut seen: BTreeMap<u16, u32> = BTreeMap::new();
    for _ in 0..4_000 {
        let a = pick_other(&set, None, |a| a == failed, &mut rng).unwrap();
        *seen.entry(a.port()).or_default() += 1;
    }
    assert_eq!(seen.get(&1), None);
    assert!((2_800..=3_200).contains(&seen[&2]), "{seen:?}");
}

#[test]
fn spills_to_the_next_priority_and_can_run_out() {
    let set = [ep(1, 1, 0), ep(2, 1, 1), ep(3, 0, 0)];
    let mut rng = SplitMix64::new(1);
    let a = pick_other(&set, None, |a| a.port() == 1, &mut rng);
    assert_eq!(a.map(|a| a.port()), Some(2));
    assert_eq!(pick_other(&set, None, |a| a.port() != 3, &mut rng), None);
    assert_eq!(pick_other(&[], None, |_| false, &mut rng), None);
}

#[test]
fn with_a_local_zone_a_retry_stays_in_it_while_it_can() {
    // a1 failed; a2 is the only untried local endpoint, b1/b2 are remote, n1 has no zone
    // (not demoted), a3 is local but priority 1.
    let set = [
        in_zone(1, "a", 0),
        in_zone(2, "a", 0),
        in_zone(3, "b", 0),
        in_zone(4, "b", 0),
        ep(5, 1, 0),
        in_zone(6, "a", 1),
    ];
    assert_eq!(ports_picked(&set, Some("a"), &[1]), [2, 5]);
    // Zone a's priority 0 all tried: the remote priority-0 endpoints (level 1) come before
    // the local priority-1 one (level 2), as in lb.
    assert_eq!(ports_picked(&set, Some("a"), &[1, 2, 5]), [3, 4]);
    assert_eq!(ports_picked(&set, Some("a"), &[1, 2, 3, 4, 5]), [6]);
    // Without a local zone, every priority-0 endpoint is as good.
    assert_eq!(ports_picked(&set, None, &[1]), [2, 3, 4, 5]);
}

#[test]
fn levels_are_the_ones_lb_draws() {
    let set = zoned_set();
    let rules = zone_a();
    let zone = rules.local_zone.as_deref();
    // With every endpoint lb ranks before it avoided, the retry goes to the untried ones of
    // its level, by lb's own `Levels::level_of`.
    let mut by_level: Vec<&Endpoint> = set.iter().collect();
    by_level.sort_by_key(|e| rules.level_of(e));
    for (i, next) in by_level.iter().enumerate() {
        let tried: Vec<u16> = by_level[..i].iter().map(|e| e.address.port()).collect();
        let mut expected: Vec<u16> = set
            .iter()
            .filter(|e| rules.level_of(e) == rules.level_of(next))
            .map(|e| e.address.port())
            .filter(|p| !tried.contains(p))
            .collect();
        expected.sort_unstable();
        assert_eq!(
            ports_picked(&set, zone, &tried),
            expected,
            "tried {tried:?}"
        );
    }
}
