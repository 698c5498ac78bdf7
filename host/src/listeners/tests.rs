use super::*;

fn config(name: &str, address: &str) -> ListenerConfig {
    serde_json::from_value(serde_json::json!({
        "name": name, "address": address, "routes": []
    }))
    .unwrap()
}

#[test]
fn plan_keeps_same_starts_new_and_stops_removed_or_moved() {
    let a = BoundListener::bind(&config("a", "127.0.0.1:0"), 2).unwrap();
    let b = BoundListener::bind(&config("b", "127.0.0.1:0"), 2).unwrap();
    let c = BoundListener::bind(&config("c", "127.0.0.1:0"), 2).unwrap();
    let wanted = [
        config("a", "127.0.0.1:0"),
        config("b", "127.0.0.2:0"),
        config("d", "127.0.0.1:0"),
    ];
    let mut current = vec![a, b, c];
    let plan = ListenerPlan::make(&current, &wanted, 2).unwrap();
    let names = |list: &[BoundListener]| list.iter().map(|b| b.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&plan.start), ["b", "d"]);
    assert_eq!(plan.stop, ["b", "c"]);
    let started = plan.apply(&mut current);
    assert_eq!(names(&started), ["b", "d"]);
    assert_eq!(names(&current), ["a", "b", "d"]);
    assert_eq!(current[1].configured, "127.0.0.2:0".parse().unwrap());
}

#[test]
fn an_address_in_use_fails_the_plan() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let err = ListenerPlan::make(&[], &[config("x", &address)], 2).unwrap_err();
    assert!(
        format!("{err:#}").contains("binding listener \"x\""),
        "{err:#}"
    );
}

#[test]
fn every_worker_gets_its_own_socket_on_the_listeners_port() {
    let bound = BoundListener::bind(&config("a", "127.0.0.1:0"), 3).unwrap();
    let sockets: Vec<_> = (0..3).map(|i| bound.socket_for(i).unwrap()).collect();
    for socket in &sockets {
        assert_eq!(socket.local_addr().unwrap(), bound.local);
    }
    use std::os::fd::AsRawFd;
    let inodes: std::collections::HashSet<_> = sockets
        .iter()
        .map(|s| {
            std::fs::metadata(format!("/proc/self/fd/{}", s.as_raw_fd()))
                .map(|m| {
                    use std::os::unix::fs::MetadataExt;
                    m.ino()
                })
                .unwrap()
        })
        .collect();
    assert_eq!(inodes.len(), 3, "three sockets, not three handles on one");
    // Another process's plain bind on the port still fails: only our sockets share it.
    assert!(std::net::TcpListener::bind(bound.local).is_err());
}
