use super::*;

#[test]
fn query_params() {
    assert_eq!(param("ms=5", "ms"), Some(5));
    assert_eq!(param("a=1&n=42&b", "n"), Some(42));
    assert_eq!(param("n=x", "n"), None);
    assert_eq!(param("", "n"), None);
}

#[test]
fn repeated_headers_are_joined() {
    let mut headers = HeaderMap::new();
    headers.append("X-A", HeaderValue::from_static("1"));
    headers.append("x-a", HeaderValue::from_static("2"));
    headers.append("x-b", HeaderValue::from_static("3"));
    let json = headers_json(&headers);
    assert_eq!(json["x-a"], "1, 2");
    assert_eq!(json["x-b"], "3");
}
