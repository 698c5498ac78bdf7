use super::*;

fn at(address: &str) -> Endpoint {
    Endpoint::new(address.parse().unwrap())
}

fn update(endpoints: &[Endpoint], stale: bool, now_ms: u64) -> Update<'_> {
    Update {
        endpoints,
        source: "consul",
        stale,
        now_ms,
    }
}

#[test]
fn writes_only_changes_with_the_next_version() {
    let one = [at("10.0.0.1:80")];
    let first = document(None, update(&one, false, 1000)).unwrap();
    assert_eq!((first.set.version, first.updated_ms), (1, 1000));
    let stored = first.to_json();
    assert_eq!(document(Some(&stored), update(&one, false, 2000)), None);
    let heavier = [at("10.0.0.1:80").with_weight(3)];
    let reweighted = document(Some(&stored), update(&heavier, false, 3000)).unwrap();
    assert_eq!((reweighted.set.version, reweighted.updated_ms), (2, 3000));
    assert_eq!(
        document(Some(b"garbage"), update(&one, false, 0))
            .unwrap()
            .set
            .version,
        1
    );
    let empty = document(Some(&stored), update(&[], false, 0)).unwrap();
    assert!(
        empty.set.endpoints.is_empty(),
        "a registry that says nobody is heard"
    );
}

#[test]
fn a_stale_flip_keeps_version_and_age() {
    let one = [at("10.0.0.1:80")];
    let stored = document(None, update(&one, false, 1000)).unwrap().to_json();
    let stale = document(Some(&stored), update(&one, true, 5000)).unwrap();
    assert_eq!(
        (stale.set.version, stale.updated_ms, stale.stale),
        (1, 1000, true)
    );
    let stored = stale.to_json();
    assert_eq!(document(Some(&stored), update(&one, true, 6000)), None);
    let fresh = document(Some(&stored), update(&one, false, 7000)).unwrap();
    assert_eq!(
        (fresh.set.version, fresh.updated_ms, fresh.stale),
        (1, 1000, false)
    );
}

#[test]
fn the_document_is_an_endpoint_set_with_meta() {
    let one = [at("10.0.0.1:80")];
    let json = document(None, update(&one, false, 42)).unwrap().to_json();
    let decoded = EndpointSet::decode(&json).unwrap();
    assert_eq!((decoded.set.version, decoded.set.endpoints.len()), (1, 1));
    assert_eq!(
        Meta::decode(&json),
        Meta {
            source: Some("consul".into()),
            updated_ms: Some(42),
            stale: false
        }
    );
    let old = br#"{"version": 3, "endpoints": []}"#;
    assert_eq!(Meta::decode(old), Meta::default(), "documents without meta");
}

#[test]
fn flagging_stale_keeps_the_rest() {
    let one = [at("10.0.0.1:80")];
    let stored = document(None, update(&one, false, 1000)).unwrap().to_json();
    let flagged = flag_stale(Some(&stored), true).unwrap();
    let meta = Meta::decode(&flagged);
    assert!(meta.stale);
    assert_eq!(meta.updated_ms, Some(1000));
    assert_eq!(EndpointSet::decode(&flagged).unwrap().set.version, 1);
    assert_eq!(flag_stale(Some(&flagged), true), None);
    assert_eq!(flag_stale(None, true), None);
    assert_eq!(flag_stale(Some(b"garbage"), true), None);
}
