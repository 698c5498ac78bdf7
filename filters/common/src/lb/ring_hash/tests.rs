use super::*;
use crate::hash::hash64;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.0.0.{i}:8080")).collect()
}

fn members(names: &[String]) -> Vec<(&str, u32)> {
    names.iter().map(|n| (n.as_str(), 1)).collect()
}

fn owners(ring: &Ring, names: &[String], keys: usize) -> Vec<String> {
    (0..keys)
        .map(|k| names[ring.lookup(hash64(format!("user-{k}").as_bytes())).unwrap()].clone())
        .collect()
}

#[test]
fn the_same_key_always_maps_to_the_same_endpoint() {
    let n = names(5);
    let a = Ring::build(&members(&n));
    let b = Ring::build(&members(&n));
    assert_eq!(owners(&a, &n, 1000), owners(&b, &n, 1000), "rebuilds agree");
    assert_eq!(a.len(), 5 * 160, "160 points per unit of weight");
}

#[test]
fn adding_one_of_n_moves_about_one_in_n_plus_one_keys_all_to_it() {
    const KEYS: usize = 20_000;
    for n in [3usize, 5, 10] {
        let before_names = names(n);
        let after_names = names(n + 1);
        let before = owners(&Ring::build(&members(&before_names)), &before_names, KEYS);
        let after = owners(&Ring::build(&members(&after_names)), &after_names, KEYS);
        let newcomer = &after_names[n];
        let moved: Vec<usize> = (0..KEYS).filter(|&k| before[k] != after[k]).collect();
        assert!(
            moved.iter().all(|&k| &after[k] == newcomer),
            "keys only move to the newcomer"
        );
        let fraction = moved.len() as f64 / KEYS as f64;
        let ideal = 1.0 / (n + 1) as f64;
        assert!(
            (fraction - ideal).abs() < ideal * 0.35,
            "n={n}: moved {fraction:.3}, ideal {ideal:.3}"
        );
    }
}

#[test]
fn shares_follow_weights() {
    let n = names(3);
    let ring = Ring::build(&[(n[0].as_str(), 3), (n[1].as_str(), 1), (n[2].as_str(), 0)]);
    let mut counts = [0u32; 3];
    for k in 0..40_000 {
        counts[ring.lookup(hash64(format!("k{k}").as_bytes())).unwrap()] += 1;
    }
    assert_eq!(counts[2], 0);
    let ratio = f64::from(counts[0]) / f64::from(counts[1]);
    assert!((2.2..=4.0).contains(&ratio), "{counts:?}");
}

#[test]
fn empty_ring_picks_nothing() {
    assert_eq!(Ring::build(&[]).lookup(1), None);
    assert_eq!(Ring::build(&[("a", 0)]).lookup(1), None);
}
