use super::*;

#[test]
fn nginx_sequence_is_smooth() {
    let mut w = SmoothWeighted::default();
    let picks: Vec<usize> = (0..7).map(|_| w.pick(&[5, 1, 1]).unwrap()).collect();
    assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0]);
}

#[test]
fn shares_are_proportional_over_cycles() {
    let mut w = SmoothWeighted::default();
    let mut counts = [0u32; 3];
    for _ in 0..400 {
        counts[w.pick(&[3, 1, 0]).unwrap()] += 1;
    }
    assert_eq!(counts, [300, 100, 0]);
}

#[test]
fn all_zero_is_none() {
    assert_eq!(SmoothWeighted::default().pick(&[0, 0]), None);
    assert_eq!(SmoothWeighted::default().pick(&[]), None);
}
