use super::*;

fn label(cap: &mut LabelCap, value: &str) -> String {
    let id = cap.admit(value);
    cap.value(id).to_string()
}

#[test]
fn values_beyond_the_cap_overflow() {
    let mut cap = LabelCap::new(2);
    assert!(cap.is_empty());
    assert_eq!(label(&mut cap, "a"), "a");
    assert_eq!(label(&mut cap, "b"), "b");
    assert_eq!(label(&mut cap, "c"), OVERFLOW);
    assert_eq!(
        label(&mut cap, "a"),
        "a",
        "values admitted before keep their series"
    );
    assert_eq!(label(&mut cap, "b"), "b");
    assert_eq!(label(&mut cap, "d"), OVERFLOW);
    assert_eq!(cap.len(), 2);
}

#[test]
fn a_value_keeps_its_id() {
    let mut cap = LabelCap::new(2);
    let a = cap.admit("a");
    let b = cap.admit("b");
    assert_ne!(a, b);
    assert_eq!(cap.admit("a"), a);
    assert_eq!(cap.admit("c"), LabelId::OVERFLOW);
    assert_eq!(cap.admit("d"), LabelId::OVERFLOW);
}

#[test]
fn ten_thousand_values_make_cap_plus_one_labels() {
    let mut cap = LabelCap::new(100);
    let distinct: std::collections::HashSet<String> = (0..10_000)
        .map(|i| label(&mut cap, &format!("host-{i}")))
        .collect();
    assert_eq!(distinct.len(), 101);
}
