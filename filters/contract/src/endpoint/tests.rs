use super::*;

#[test]
fn round_trips_through_json_with_defaults() {
    let set = EndpointSet {
        version: 3,
        endpoints: vec![
            Endpoint::new("10.0.0.1:80".parse().unwrap()),
            Endpoint {
                zone: "eu-1a".into(),
                labels: [("version".to_string(), "v2".to_string())].into(),
                priority: 1,
                ..Endpoint::new("[::1]:8080".parse().unwrap()).with_weight(5)
            },
        ],
    };
    let json = set.to_json();
    let decoded = EndpointSet::decode(&json).unwrap();
    assert_eq!(decoded.set, set);
    assert!(decoded.skipped.is_empty());
    let minimal = EndpointSet::decode(br#"{"endpoints":[{"address":"1.2.3.4:5"}]}"#).unwrap();
    assert_eq!(minimal.set.version, 0);
    assert_eq!(minimal.set.endpoints[0].weight, DEFAULT_WEIGHT);
}

#[test]
fn bad_entries_are_skipped_and_named() {
    let decoded = EndpointSet::decode(
        br#"{"version":1,"endpoints":[{"address":"nope"},{"address":"1.2.3.4:5"},{"address":"1.2.3.4:6","x":1}]}"#,
    )
    .unwrap();
    assert_eq!(decoded.set.endpoints.len(), 1);
    assert_eq!(decoded.skipped.len(), 2);
    assert!(
        decoded.skipped[0].starts_with("endpoints[0]:"),
        "{:?}",
        decoded.skipped
    );
    assert!(
        decoded.skipped[1].contains("unknown field `x`"),
        "{:?}",
        decoded.skipped
    );
}

#[test]
fn all_unparseable_is_an_empty_set_not_an_error() {
    let decoded =
        EndpointSet::decode(br#"{"endpoints":[{"address":"a"},{"address":"b:1"}]}"#).unwrap();
    assert!(decoded.set.endpoints.is_empty());
    assert_eq!(decoded.skipped.len(), 2);
    assert!(EndpointSet::decode(b"not json").is_err());
}
