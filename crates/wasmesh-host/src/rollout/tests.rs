use super::*;

fn policy(share_percent: u8, window_ms: u64) -> RolloutPolicy {
    RolloutPolicy {
        share_percent,
        sticky: Sticky::Connection,
        shadow: false,
        rollback: RollbackPolicy {
            vm_failures: 3,
            local_5xx_percent: Some(50),
            min_streams: 4,
            window: Duration::from_millis(window_ms),
        },
    }
}

#[test]
fn the_share_is_taken_by_key_and_counted() {
    let rollout = Rollout::new("auth", policy(30, 10_000));
    let canary = (0..1000).filter(|k| rollout.picks_canary(*k)).count();
    assert_eq!(canary, 300);
    assert_eq!(rollout.status().streams, [700, 300]);
    assert!(rollout.picks_canary(129) && !rollout.picks_canary(130));
}

#[test]
fn failures_within_the_window_roll_it_back() {
    let rollout = Rollout::new("auth", policy(50, 60_000));
    rollout.record_failure("trap");
    rollout.record_failure("trap");
    assert_eq!(rollout.phase(), Phase::Canary);
    rollout.record_failure("timeout");
    let status = rollout.status();
    assert_eq!((status.phase, status.share_now), (Phase::RolledBack, 0));
    let reason = status.reason.unwrap_or_default();
    assert!(
        reason.starts_with("3 canary streams lost to VM failures (the last: timeout)"),
        "{reason}"
    );
    assert_eq!(status.rollbacks, 1);
    assert!((0..100).all(|k| !rollout.picks_canary(k)));
    assert!(!rollout.roll_back("again".into()), "already rolled back");
    assert_eq!(rollout.status().rollbacks, 1);
}

#[test]
fn failures_older_than_the_window_do_not_count() {
    let rollout = Rollout::new("auth", policy(50, 100));
    rollout.record_failure("trap");
    rollout.record_failure("trap");
    std::thread::sleep(Duration::from_millis(150));
    rollout.record_failure("trap");
    assert_eq!(rollout.phase(), Phase::Canary);
    assert_eq!(rollout.status().canary_failures, 3);
}

#[test]
fn a_5xx_share_rolls_it_back_once_there_are_enough_streams() {
    let rollout = Rollout::new("auth", policy(100, 60_000));
    for key in 0..2 {
        assert!(rollout.picks_canary(key));
        rollout.record_local_reply(503);
    }
    assert_eq!(rollout.phase(), Phase::Canary, "2 streams are fewer than 4");
    for key in 2..4 {
        rollout.picks_canary(key);
        rollout.record_local_reply(200);
    }
    rollout.record_local_reply(429);
    assert_eq!(rollout.phase(), Phase::Canary, "a 4xx does not count");
    rollout.record_local_reply(500);
    assert_eq!(rollout.phase(), Phase::RolledBack, "3 of 4 is over 50%");
}

#[test]
fn promote_and_resume_set_the_share() {
    let rollout = Rollout::new("auth", policy(10, 1000));
    rollout.promote("by hand".into());
    assert_eq!(
        (rollout.phase(), rollout.share_now()),
        (Phase::Promoted, 100)
    );
    rollout.resume();
    assert_eq!((rollout.phase(), rollout.share_now()), (Phase::Canary, 10));
    assert_eq!(rollout.status().reason, None);
}
