use super::*;

/// Endpoint `127.0.0.1:port` with `weight` and `priority` (also used by `failover::pick`'s
/// tests).
pub(crate) fn ep(port: u16, weight: u32, priority: u32) -> Endpoint {
    Endpoint {
        priority,
        ..Endpoint::new(SocketAddr::from(([127, 0, 0, 1], port))).with_weight(weight)
    }
}

/// Endpoint `127.0.0.1:port` of weight 1 in `zone` with `priority`.
pub(crate) fn in_zone(port: u16, zone: &str, priority: u32) -> Endpoint {
    Endpoint {
        zone: zone.to_string(),
        ..ep(port, 1, priority)
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// `(priority, load, panic, candidates)` of each level.
fn summary(
    set: &[Endpoint],
    ejected: &[SocketAddr],
    rules: &Levels,
) -> Vec<(u32, u32, bool, Vec<usize>)> {
    levels(set.iter(), ejected, rules)
        .into_iter()
        .map(|l| (l.priority, l.load, l.panic, l.candidates))
        .collect()
}

#[test]
fn weight_zero_is_never_a_candidate_and_healthy_p0_takes_everything() {
    let set = [ep(1, 1, 0), ep(2, 0, 0), ep(3, 1, 0), ep(4, 1, 1)];
    let rules = Levels::default();
    assert_eq!(
        summary(&set, &[], &rules),
        [(0, 100, false, vec![0, 2]), (1, 0, false, vec![3])]
    );
    // 1 of 2 ejected: health 70 %, 30 % spills to priority 1.
    assert_eq!(
        summary(&set, &[addr(1)], &rules),
        [(0, 70, false, vec![2]), (1, 30, false, vec![3])]
    );
    // Priority 0 all ejected: everything to priority 1 (normalised health 100: no panic).
    assert_eq!(
        summary(&set, &[addr(1), addr(3)], &rules),
        [(0, 0, false, vec![]), (1, 100, false, vec![3])]
    );
}

#[test]
fn a_level_below_the_panic_threshold_uses_all_its_endpoints() {
    let set: Vec<Endpoint> = (1..=5).map(|p| ep(p, 1, 0)).collect();
    let rules = Levels::default();
    assert_eq!(
        summary(&set, &[addr(1), addr(2)], &rules),
        [(0, 100, false, vec![2, 3, 4])]
    );
    assert_eq!(
        summary(&set, &[addr(1), addr(2), addr(3)], &rules),
        [(0, 100, true, vec![0, 1, 2, 3, 4])]
    );
}

#[test]
fn ejections_that_leave_nothing_are_ignored() {
    let set = [ep(1, 1, 0), ep(2, 1, 0)];
    let off = Levels {
        model: LoadModel {
            panic_threshold: 0.0,
            ..LoadModel::default()
        },
        local_zone: None,
    };
    assert_eq!(
        summary(&set, &[addr(1), addr(2)], &off),
        [(0, 100, true, vec![0, 1])]
    );
    assert!(levels([].iter(), &[addr(1)], &off).is_empty());
}

/// Zone a local (port 1 at priority 0, port 3 at priority 1), zone b remote (port 2), and
/// port 4 without a zone (also used by `failover::pick`'s tests).
pub(crate) fn zoned_set() -> [Endpoint; 4] {
    [
        in_zone(1, "a", 0),
        in_zone(2, "b", 0),
        in_zone(3, "a", 1),
        ep(4, 1, 0),
    ]
}

/// Default model, local zone `a`.
pub(crate) fn zone_a() -> Levels {
    Levels {
        local_zone: Some("a".to_string()),
        ..Levels::default()
    }
}

#[test]
fn local_zone_comes_before_remote_zones_of_the_same_priority() {
    let set = zoned_set();
    let rules = zone_a();
    assert_eq!(
        set.iter().map(|e| rules.level_of(e)).collect::<Vec<_>>(),
        [0, 1, 2, 0],
        "zone a local, b remote, no zone not demoted"
    );
    assert_eq!(
        summary(&set, &[], &rules),
        [
            (0, 100, false, vec![0, 3]),
            (1, 0, false, vec![1]),
            (2, 0, false, vec![2])
        ]
    );
    let without = Levels::default();
    assert_eq!(
        set.iter().map(|e| without.level_of(e)).collect::<Vec<_>>(),
        [0, 0, 1, 0]
    );
}
