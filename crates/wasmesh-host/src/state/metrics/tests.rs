use super::*;

/// The registry's exposition.
pub(super) fn render(registry: &Registry) -> String {
    let mut text = String::new();
    registry.render_prometheus(&mut text);
    text
}

#[test]
fn define_is_idempotent_and_kinds_behave() {
    let registry = Registry::default();
    let c = registry.define("reqs", MetricKind::Counter);
    assert_eq!(registry.define("reqs", MetricKind::Counter), c);
    let counter = registry.get(c).unwrap();
    counter.increment(2).unwrap();
    assert_eq!(counter.increment(-1), Err(MetricError::BadArgument));
    assert_eq!(counter.get(), Ok(2));
    assert_eq!(registry.get(0).err(), Some(MetricError::NotFound));

    let h = registry
        .get(registry.define("lat", MetricKind::Histogram))
        .unwrap();
    h.record(3);
    h.record(700);
    let text = render(&registry);
    assert!(text.contains("lat_bucket{le=\"5\"} 1"), "{text}");
    assert!(text.contains("lat_bucket{le=\"1000\"} 2"), "{text}");
    assert!(text.contains("lat_count 2"), "{text}");
    assert!(text.contains("reqs 2"), "{text}");
}

#[test]
fn labelled_names_become_one_family_with_labels() {
    let registry = Registry::default();
    for (status, n) in [("200", 3), ("503", 1)] {
        let name = format!("response_total;authority=web;status_code={status}");
        let id = registry.define(&name, MetricKind::Counter);
        registry.get(id).unwrap().increment(n).unwrap();
    }
    registry.define("other_total", MetricKind::Counter);
    let text = render(&registry);
    assert_eq!(
        text.matches("# TYPE response_total counter").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("response_total{authority=\"web\",status_code=\"200\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("response_total{authority=\"web\",status_code=\"503\"} 1\n"),
        "{text}"
    );
    let family_start = text.find("# TYPE response_total").unwrap();
    let other = text.find("# TYPE other_total").unwrap();
    assert!(other < family_start, "families sorted by name: {text}");
}

#[test]
fn histograms_follow_bucket_rules_and_keep_labels() {
    let registry = Registry::default();
    registry.set_bucket_rules(vec![BucketRule {
        prefix: "response_latency_ms".into(),
        bounds: vec![10.0, 100.0],
    }]);
    let id = registry.define("response_latency_ms;route=api", MetricKind::Histogram);
    let h = registry.get(id).unwrap();
    h.record(5);
    h.record(50);
    h.record(5000);
    let other = registry.define("size", MetricKind::Histogram);
    registry.get(other).unwrap().record(1);
    let text = render(&registry);
    assert!(
        text.contains("response_latency_ms_bucket{route=\"api\",le=\"10\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("response_latency_ms_bucket{route=\"api\",le=\"100\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("response_latency_ms_bucket{route=\"api\",le=\"+Inf\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("response_latency_ms_sum{route=\"api\"} 5055\n"),
        "{text}"
    );
    assert!(
        text.contains("size_bucket{le=\"0.5\"} 0\n"),
        "default bounds: {text}"
    );
}

#[test]
fn label_values_are_escaped() {
    let registry = Registry::default();
    registry.define("m;route=a\"b\\c", MetricKind::Gauge);
    let text = render(&registry);
    assert!(text.contains("m{route=\"a\\\"b\\\\c\"} 0"), "{text}");
}

#[test]
fn guest_definitions_are_capped_and_old_names_still_resolve() {
    let registry = Registry::default();
    let first = registry
        .define_for_guest("vm", "m0", MetricKind::Counter)
        .unwrap();
    for i in 1..MAX_METRICS {
        registry
            .define_for_guest("vm", &format!("m{i}"), MetricKind::Counter)
            .unwrap();
    }
    let extra = format!("m{MAX_METRICS}");
    assert_eq!(
        registry.define_for_guest("vm", &extra, MetricKind::Counter),
        Err(MetricError::Refused)
    );
    assert_eq!(
        registry.define_for_guest("vm", "m0", MetricKind::Counter),
        Ok(first)
    );
    registry.get(first).unwrap().increment(1).unwrap();
    assert_eq!(registry.refused.count(), 1);
}

#[test]
fn overlong_guest_names_are_refused() {
    let registry = Registry::default();
    let long = "x".repeat(MAX_NAME_BYTES + 1);
    assert_eq!(
        registry.define_for_guest("vm", &long, MetricKind::Gauge),
        Err(MetricError::Refused)
    );
    let fits = "x".repeat(MAX_NAME_BYTES);
    assert!(registry
        .define_for_guest("vm", &fits, MetricKind::Gauge)
        .is_ok());
    assert_eq!(registry.refused.count(), 1);
}
