use super::*;

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn empty_configuration_means_no_mutations() {
    let c = HeadersConfig::from_json(b"").unwrap();
    assert!(c.request.is_empty() && c.response.is_empty());
    let c = HeadersConfig::from_json(b"  \n").unwrap();
    assert_eq!(c, HeadersConfig::default());
    let c = HeadersConfig::from_json(b"{}").unwrap();
    assert_eq!(c, HeadersConfig::default());
}

#[test]
fn full_configuration_is_parsed_and_lowercased() {
    let c = HeadersConfig::from_json(
        br#"{"request": {"add": {"X-B": "2", "x-a": "1"}, "set": {":path": "/p"}, "remove": ["X-Gone"]},
             "response": {"set": {"server": "wasmesh"}}}"#,
    )
    .unwrap();
    // BTreeMap order: by the name as written ("X-B" < "x-a").
    assert_eq!(c.request.add, pairs(&[("x-b", "2"), ("x-a", "1")]));
    assert_eq!(c.request.set, pairs(&[(":path", "/p")]));
    assert_eq!(c.request.remove, vec!["x-gone".to_string()]);
    assert_eq!(c.response.set, pairs(&[("server", "wasmesh")]));
    assert!(c.response.add.is_empty() && c.response.remove.is_empty());
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    let e = HeadersConfig::from_json(br#"{"requests": {}}"#).unwrap_err();
    assert!(e.message().contains("unknown field `requests`"), "{e}");
    let e = HeadersConfig::from_json(br#"{"request": {"append": {}}}"#).unwrap_err();
    assert_eq!(e.path(), "request.append");
    assert!(e.message().contains("unknown field `append`"), "{e}");
}

#[test]
fn wrong_types_name_the_field() {
    let e = HeadersConfig::from_json(br#"{"response": {"remove": "server"}}"#).unwrap_err();
    assert_eq!(e.path(), "response.remove");
    let e = HeadersConfig::from_json(br#"{"request": {"add": {"x": 1}}}"#).unwrap_err();
    assert_eq!(e.path(), "request.add.x");
}

#[test]
fn bad_names_and_values_are_rejected() {
    let e = HeadersConfig::from_json(br#"{"request": {"add": {"bad name": "v"}}}"#).unwrap_err();
    assert_eq!(e.path(), "request.add.bad name");
    assert!(e.message().contains("invalid character"), "{e}");

    let e = HeadersConfig::from_json(br#"{"request": {"set": {"x": "a\r\nb"}}}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "request.set.x: invalid character '\\r' in header value"
    );

    let e = HeadersConfig::from_json(br#"{"response": {"remove": ["ok", ""]}}"#).unwrap_err();
    assert_eq!(e.to_string(), "response.remove[1]: empty header name");
}

#[test]
fn pseudo_headers_can_be_set_but_not_added_or_removed() {
    assert!(HeadersConfig::from_json(br#"{"request": {"set": {":authority": "a"}}}"#).is_ok());
    let e = HeadersConfig::from_json(br#"{"request": {"add": {":path": "/"}}}"#).unwrap_err();
    assert_eq!(e.path(), "request.add.:path");
    let e = HeadersConfig::from_json(br#"{"request": {"remove": [":path"]}}"#).unwrap_err();
    assert_eq!(e.path(), "request.remove[0]");
    let e = HeadersConfig::from_json(br#"{"request": {"set": {":": "x"}}}"#).unwrap_err();
    assert!(e.message().contains("empty"), "{e}");
}

#[test]
fn two_spellings_of_one_name_are_an_error() {
    let e =
        HeadersConfig::from_json(br#"{"request": {"set": {"X-A": "1", "x-a": "2"}}}"#).unwrap_err();
    assert_eq!(e.path(), "request.set.x-a");
    assert!(e.message().contains("duplicate"), "{e}");
}

#[test]
fn header_name_rules() {
    assert_eq!(header_name("X-Request-Id").unwrap(), "x-request-id");
    assert_eq!(header_name(":Status").unwrap(), ":status");
    assert!(header_name("").is_err());
    assert!(header_name("a:b").is_err());
    assert!(header_name("é").is_err());
    assert!(check_header_value("any visible text, even \"quotes\"").is_ok());
    assert!(check_header_value("nul\0").is_err());
}
