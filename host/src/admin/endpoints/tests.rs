use super::*;
use wasmesh_contract::endpoint::Endpoint;
use wasmesh_contract::health::EndpointHealth;
use wasmesh_contract::publish::{document, Update};

fn stored(stale: bool) -> Vec<u8> {
    let mut heavy = Endpoint::new("10.0.0.2:80".parse().unwrap()).with_weight(3);
    heavy.zone = "z1".into();
    let endpoints = [Endpoint::new("10.0.0.1:80".parse().unwrap()), heavy];
    let update = Update {
        endpoints: &endpoints,
        source: "etcd",
        stale,
        now_ms: 1_000,
    };
    document(None, update).unwrap().to_json()
}

#[test]
fn a_published_set_with_health() {
    let mut health = Health::default();
    health.endpoints.insert(
        "10.0.0.2:80".parse().unwrap(),
        EndpointHealth {
            ejected_until_ms: 9_000,
            ejections: 2,
        },
    );
    let view = service_view("web", "mesh", &stored(true), &health, 4_000);
    assert_eq!(view.source.as_deref(), Some("etcd"));
    assert_eq!(
        (view.version, view.updated_ms, view.age_ms),
        (1, Some(1_000), Some(3_000))
    );
    assert!(view.stale && view.errors.is_empty());
    let [plain, heavy] = &view.endpoints[..] else {
        panic!("{view:?}")
    };
    assert_eq!(
        (plain.ejected, plain.ejections, plain.ejected_until_ms),
        (false, 0, None)
    );
    assert_eq!((heavy.weight, heavy.zone.as_str()), (3, "z1"));
    assert_eq!(
        (heavy.ejected, heavy.ejections, heavy.ejected_until_ms),
        (true, 2, Some(9_000))
    );
    let later = service_view("web", "mesh", &stored(false), &health, 10_000);
    assert!(!later.endpoints[1].ejected, "the ejection ended");
}

#[test]
fn sets_without_meta_and_garbage_are_shown_not_hidden() {
    let plain =
        br#"{"version": 4, "endpoints": [{"address": "10.0.0.1:80"}, {"address": "nope"}]}"#;
    let view = service_view("web", "mesh", plain, &Health::default(), 0);
    assert_eq!(
        (view.source, view.updated_ms, view.version),
        (None, None, 4)
    );
    assert_eq!(view.endpoints.len(), 1);
    assert_eq!(view.errors.len(), 1, "{:?}", view.errors);
    let broken = service_view("web", "mesh", b"garbage", &Health::default(), 0);
    assert!(
        broken.errors[0].starts_with("unreadable"),
        "{:?}",
        broken.errors
    );
}
