use super::*;

#[test]
fn values_beyond_the_cap_overflow() {
    let mut cap = LabelCap::new(2);
    assert!(cap.is_empty());
    assert_eq!(cap.admit("a"), "a");
    assert_eq!(cap.admit("b"), "b");
    assert_eq!(cap.admit("c"), OVERFLOW);
    assert_eq!(
        cap.admit("a"),
        "a",
        "values admitted before keep their series"
    );
    assert_eq!(cap.admit("b"), "b");
    assert_eq!(cap.admit("d"), OVERFLOW);
    assert_eq!(cap.len(), 2);
}

#[test]
fn ten_thousand_values_make_cap_plus_one_labels() {
    let mut cap = LabelCap::new(100);
    let distinct: std::collections::HashSet<String> = (0..10_000)
        .map(|i| cap.admit(&format!("host-{i}")).to_string())
        .collect();
    assert_eq!(distinct.len(), 101);
}
