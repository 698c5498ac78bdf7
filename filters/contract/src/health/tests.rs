use super::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

const POLICY: EjectionPolicy = EjectionPolicy {
    base_ms: 1_000,
    max_ms: 2_500,
    max_percent: 10,
};

#[test]
fn ejection_grows_with_each_ejection_up_to_the_cap() {
    let mut h = Health::default();
    assert_eq!(h.eject(addr(1), 0, 3, &POLICY), Ok(1_000));
    assert!(h.is_ejected(addr(1), 999));
    assert!(!h.is_ejected(addr(1), 1_000));
    assert_eq!(h.next_return_ms(10), Some(1_000));
    assert_eq!(h.eject(addr(1), 1_000, 3, &POLICY), Ok(2_000));
    assert_eq!(h.eject(addr(1), 3_000, 3, &POLICY), Ok(2_500));
    assert_eq!(h.endpoints[&addr(1)].ejections, 3);
    assert_eq!(h.version, 3);
}

#[test]
fn an_ejected_endpoint_is_not_ejected_twice() {
    let mut h = Health::default();
    h.eject(addr(1), 0, 3, &POLICY).unwrap();
    assert_eq!(
        h.eject(addr(1), 10, 3, &POLICY),
        Err(Refused::AlreadyEjected)
    );
}

#[test]
fn max_percent_allows_one_but_never_the_last() {
    assert_eq!(max_ejected(3, 10), 1);
    assert_eq!(max_ejected(20, 10), 2);
    assert_eq!(max_ejected(3, 100), 2);
    assert_eq!(max_ejected(1, 100), 0);
    let mut h = Health::default();
    h.eject(addr(1), 0, 3, &POLICY).unwrap();
    assert_eq!(h.eject(addr(2), 0, 3, &POLICY), Err(Refused::MaxEjected));
    // Once the first returns, another may go.
    assert_eq!(h.eject(addr(2), 1_000, 3, &POLICY), Ok(1_000));
    let mut single = Health::default();
    assert_eq!(
        single.eject(addr(1), 0, 1, &POLICY),
        Err(Refused::MaxEjected)
    );
}

#[test]
fn round_trips_through_json() {
    let mut h = Health::default();
    h.eject(addr(8082), 5, 3, &POLICY).unwrap();
    let json = h.to_json();
    assert_eq!(Health::decode(&json).unwrap(), h);
    let text = String::from_utf8(json).unwrap();
    assert!(text.contains("\"127.0.0.1:8082\""), "{text}");
    assert_eq!(
        Health::decode(b"{}").unwrap(),
        Health::default(),
        "an empty document is an empty set"
    );
    assert!(Health::decode(b"nope").is_err());
    assert_eq!(key("web"), "wasmesh.v1.health.web");
    let ejected: Vec<_> = h.ejected(6).collect();
    assert_eq!(ejected, vec![addr(8082)]);
}

#[test]
fn each_healthy_base_interval_forgives_one_ejection() {
    let policy = EjectionPolicy {
        base_ms: 1_000,
        max_ms: 10_000,
        max_percent: 100,
    };
    let mut h = Health::default();
    for now in [0, 10_000, 20_000] {
        h.eject(addr(1), now, 4, &policy).unwrap();
    }
    // Third ejection: 3 s, until 23 000.
    assert!(!h.decay(22_000, 1_000), "still ejected");
    assert!(!h.decay(23_999, 1_000), "not a full interval yet");
    assert!(h.decay(24_000, 1_000));
    assert_eq!(h.endpoints[&addr(1)].ejections, 2);
    assert!(!h.is_ejected(addr(1), 24_000));
    assert!(!h.decay(24_500, 1_000), "forgiven once per interval");
    let version = h.version;
    assert!(h.decay(30_000, 1_000));
    assert!(h.endpoints.is_empty(), "all forgiven: the record goes");
    assert_eq!(h.version, version + 1);
    // The next ejection starts from the base again.
    assert_eq!(h.eject(addr(1), 31_000, 4, &policy), Ok(1_000));
}
