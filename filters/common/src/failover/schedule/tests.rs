use super::*;

#[test]
fn due_items_come_once_timeouts_first() {
    let mut s = Schedule::default();
    s.set_deadline(1, 1_000);
    s.set_deadline(2, 5_000);
    s.set_retry(3, 900);
    s.set_retry(1, 950);
    assert_eq!(s.take_due(899), vec![]);
    assert_eq!(s.take_due(1_000), vec![Due::Timeout(1), Due::Retry(3)]);
    assert_eq!(s.take_due(1_000), vec![], "each is owed once");
    s.forget(2);
    assert!(s.is_empty());
}

#[test]
fn a_timed_out_stream_loses_its_retry() {
    let mut s = Schedule::default();
    s.set_deadline(7, 100);
    s.set_retry(7, 150);
    assert_eq!(s.take_due(200), vec![Due::Timeout(7)]);
    assert!(s.is_empty());
}

#[test]
fn ticks_fast_only_while_something_is_close() {
    let mut s = Schedule::default();
    assert_eq!(s.tick_period_ms(0, 250, 5), 250);
    s.set_deadline(1, 15_000);
    assert_eq!(s.tick_period_ms(0, 250, 5), 250, "a far deadline");
    assert_eq!(s.tick_period_ms(14_800, 250, 5), 5, "a close one");
    s.forget(1);
    s.set_retry(2, 10_000);
    assert_eq!(s.tick_period_ms(0, 250, 5), 5, "a retry backing off");
}

#[test]
fn a_moved_time_replaces_the_one_before() {
    let mut s = Schedule::default();
    s.set_deadline(1, 100);
    s.set_deadline(1, 5_000);
    assert_eq!(
        s.tick_period_ms(0, 250, 5),
        250,
        "only the later deadline is left"
    );
    assert_eq!(s.take_due(1_000), vec![]);
    assert_eq!(s.take_due(5_000), vec![Due::Timeout(1)]);
    assert!(s.is_empty());
}

#[test]
fn due_items_of_one_kind_come_earliest_first() {
    let mut s = Schedule::default();
    s.set_retry(1, 300);
    s.set_retry(2, 100);
    s.set_retry(3, 200);
    s.set_retry(4, 900);
    assert_eq!(
        s.take_due(300),
        vec![Due::Retry(2), Due::Retry(3), Due::Retry(1)]
    );
    assert!(!s.is_empty(), "stream 4's retry is still owed");
}
