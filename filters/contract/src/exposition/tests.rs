use super::*;

#[test]
fn parses_labels_escapes_and_plain_samples() {
    let text = "# TYPE a counter\na 3\nb{x=\"1\",y=\"q\\\"z\"} 2.5\nb{x=\"2\"} 1\n";
    assert_eq!(value(text, "a", &[]), Some(3.0));
    assert_eq!(value(text, "b", &[("y", "q\"z")]), Some(2.5));
    assert_eq!(value(text, "b", &[("x", "2")]), Some(1.0));
    assert_eq!(value(text, "b", &[]), None, "two samples match");
    assert_eq!(value(text, "c", &[]), None);
}
