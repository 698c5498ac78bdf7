use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Outer {
    name: String,
    #[serde(default)]
    inner: Option<Inner>,
    #[serde(default)]
    list: Vec<Inner>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Inner {
    count: u32,
}

#[test]
fn parses_a_valid_document() {
    let v: Outer = from_json(br#"{"name": "a", "inner": {"count": 3}}"#).unwrap();
    assert_eq!(v.name, "a");
    assert_eq!(v.inner, Some(Inner { count: 3 }));
}

#[test]
fn wrong_type_names_the_nested_field() {
    let e = from_json::<Outer>(br#"{"name": "a", "inner": {"count": "x"}}"#).unwrap_err();
    assert_eq!(e.path(), "inner.count");
    assert!(e.message().contains("invalid type"), "{e}");
    assert!(e.to_string().starts_with("inner.count: "), "{e}");
}

#[test]
fn list_items_are_indexed() {
    let e =
        from_json::<Outer>(br#"{"name": "a", "list": [{"count": 1}, {"count": -1}]}"#).unwrap_err();
    assert_eq!(e.path(), "list[1].count");
}

#[test]
fn unknown_field_is_rejected_and_named() {
    let e = from_json::<Outer>(br#"{"name": "a", "inner": {"count": 1, "typo": 2}}"#).unwrap_err();
    assert_eq!(e.path(), "inner.typo");
    assert!(e.message().contains("unknown field `typo`"), "{e}");
}

#[test]
fn missing_field_is_reported_at_the_root() {
    let e = from_json::<Outer>(b"{}").unwrap_err();
    assert_eq!(e.path(), ROOT_PATH);
    assert!(e.message().contains("missing field `name`"), "{e}");
}

#[test]
fn syntax_errors_and_trailing_data_are_errors() {
    assert!(from_json::<Outer>(b"{\"name\": ").is_err());
    assert!(from_json::<Outer>(b"").is_err());
    let e = from_json::<Outer>(br#"{"name": "a"} {"name": "b"}"#).unwrap_err();
    assert_eq!(e.path(), ROOT_PATH);
    assert!(e.message().contains("trailing"), "{e}");
}

#[test]
fn new_maps_empty_paths_to_root() {
    assert_eq!(ConfigError::new("", "x").path(), ROOT_PATH);
    assert_eq!(ConfigError::new(".", "x").path(), ROOT_PATH);
    assert_eq!(ConfigError::new("a.b", "bad").to_string(), "a.b: bad");
}

#[test]
fn join_builds_dotted_paths() {
    assert_eq!(join("", "a"), "a");
    assert_eq!(join("request.add", "x-a"), "request.add.x-a");
}
