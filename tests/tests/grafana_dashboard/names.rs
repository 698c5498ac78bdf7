//! Which metrics a PromQL query reads, and which ones the dashboard may read.

use std::collections::BTreeSet;

/// What the dashboard may query: the metrics filter's, the lb filter's and wasmesh's own.
pub const KNOWN: &[&str] = &[
    "request_total",
    "response_total",
    "response_latency_ms_bucket",
    "request_in_flight",
    "endpoint_response_total",
    "lb_requests_total",
    "lb_failures_total",
    "lb_in_flight",
    "lb_no_endpoint_total",
    "lb_ewma_ms",
    "wasmesh_requests_total",
    "wasmesh_vm_failures_total",
    "wasmesh_vm_rebuilds_total",
    "wasmesh_reloads_ok_total",
    "wasmesh_reloads_failed_total",
    "wasmesh_config_generation",
];

/// Metric names in a PromQL expression: identifiers followed by `{` or `[`, or ending in
/// `_bucket`; label matchers (inside `{}`), strings and `$variables` are skipped.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let (mut i, mut braces, mut quoted) = (0, 0, false);
    while i < chars.len() {
        let c = chars[i];
        if quoted {
            quoted = !(c == '"' && chars[i - 1] != '\\');
        } else if c == '"' {
            quoted = true;
        } else if c == '{' {
            braces += 1;
        } else if c == '}' {
            braces -= 1;
        } else if (c.is_ascii_alphabetic() || c == '_') && (i == 0 || chars[i - 1] != '$') {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            if braces == 0 && (matches!(next, Some('{' | '[')) || name.ends_with("_bucket")) {
                names.insert(name);
            }
            continue;
        } else if c == '$' {
            while i + 1 < chars.len()
                && (chars[i + 1].is_ascii_alphanumeric() || chars[i + 1] == '_')
            {
                i += 1;
            }
        }
        i += 1;
    }
    names
}

#[test]
fn finds_selectors_and_buckets_not_labels_strings_or_variables() {
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.5, sum by (le) (rate(x_bucket{a="b{"}[$__rate_interval]))) / on (s) y{}"#
        ),
        ["x_bucket", "y"].map(String::from).into(),
    );
}
