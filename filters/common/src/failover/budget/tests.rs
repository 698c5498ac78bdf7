use super::*;

fn budget(ratio: f64, min_per_second: u32) -> Budget {
    Budget::new(BudgetConfig {
        ratio,
        min_per_second,
        window_ms: 10_000,
    })
}

#[test]
fn ratio_of_requests_without_a_floor() {
    let mut b = budget(0.2, 0);
    for _ in 0..100 {
        b.deposit(0);
    }
    let granted = (0..100).filter(|_| b.try_withdraw(0)).count();
    assert_eq!(granted, 20);
}

#[test]
fn the_floor_allows_retries_with_no_traffic() {
    let mut b = budget(0.2, 1);
    // 1 per second over 10 s.
    let granted = (0..50).filter(|_| b.try_withdraw(0)).count();
    assert_eq!(granted, 10);
}

#[test]
fn spent_retries_and_requests_leave_the_window() {
    let mut b = budget(0.5, 0);
    for _ in 0..10 {
        b.deposit(0);
    }
    assert_eq!((0..10).filter(|_| b.try_withdraw(0)).count(), 5);
    // 10 s later the old requests no longer earn anything, and new ones do.
    assert!(!b.try_withdraw(10_000));
    for _ in 0..4 {
        b.deposit(10_500);
    }
    assert_eq!((0..10).filter(|_| b.try_withdraw(10_500)).count(), 2);
    // Within the window, everything counts.
    let mut c = budget(0.5, 0);
    for t in 0..10 {
        c.deposit(t * 1_000);
    }
    assert_eq!((0..10).filter(|_| c.try_withdraw(9_999)).count(), 5);
}
