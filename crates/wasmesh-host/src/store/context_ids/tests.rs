use super::*;

#[test]
fn ids_count_up_from_one() {
    let mut ids = ContextIds::default();
    assert_eq!(ids.fresh(|_| false), 1);
    assert_eq!(ids.fresh(|_| false), 2);
}

#[test]
fn wrapping_skips_zero_and_ids_in_use() {
    let mut ids = ContextIds::starting_after(u32::MAX - 1);
    assert_eq!(ids.fresh(|_| false), u32::MAX);
    // 1 is the root context, 2 a live stream: the first free id after the wrap is 3.
    let live = [1, 2];
    assert_eq!(ids.fresh(|id| live.contains(&id)), 3);
    assert_eq!(ids.fresh(|id| live.contains(&id)), 4);
}
