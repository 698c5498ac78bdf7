use super::*;

fn ep(port: u16, weight: u32, priority: u32) -> Endpoint {
    Endpoint {
        priority,
        ..Endpoint::new(SocketAddr::from(([127, 0, 0, 1], port))).with_weight(weight)
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn best_priority_with_weight_and_not_ejected() {
    let set = [ep(1, 1, 0), ep(2, 0, 0), ep(3, 1, 0), ep(4, 1, 1)];
    assert_eq!(candidates(set.iter(), &[]), vec![0, 2]);
    assert_eq!(candidates(set.iter(), &[addr(1)]), vec![2]);
    // Priority 0 all ejected: spill to priority 1.
    assert_eq!(candidates(set.iter(), &[addr(1), addr(3)]), vec![3]);
}

#[test]
fn ejections_that_leave_nothing_are_ignored() {
    let set = [ep(1, 1, 0), ep(2, 1, 0)];
    assert_eq!(candidates(set.iter(), &[addr(1), addr(2)]), vec![0, 1]);
    assert!(candidates([].iter(), &[addr(1)]).is_empty());
}
