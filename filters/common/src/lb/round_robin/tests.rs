use super::*;

#[test]
fn visits_each_in_turn_exactly() {
    let mut rr = RoundRobin::default();
    let picks: Vec<usize> = (0..7).map(|_| rr.pick(3).unwrap()).collect();
    assert_eq!(picks, [0, 1, 2, 0, 1, 2, 0]);
    let mut counts = [0; 3];
    for _ in 0..30 {
        counts[rr.pick(3).unwrap()] += 1;
    }
    assert_eq!(counts, [10, 10, 10]);
}

#[test]
fn empty_and_shrinking_sets() {
    let mut rr = RoundRobin::default();
    assert_eq!(rr.pick(0), None);
    rr.pick(5);
    rr.pick(5);
    rr.pick(5);
    assert_eq!(rr.pick(2), Some(1), "cursor 3 wraps to 1 in a set of 2");
}
