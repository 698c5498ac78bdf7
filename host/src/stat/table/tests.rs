use super::*;
use crate::stat::aggregate::RouteRow;
use crate::stat::snapshot::{EndpointKey, RouteKey};

fn row(direction: &str, route: &str, responses: f64) -> RouteRow {
    RouteRow {
        key: RouteKey {
            direction: direction.into(),
            authority: "web".into(),
            route: route.into(),
        },
        responses,
        success: (responses > 0.0).then_some(100.0 / 110.0),
        rps: (responses > 0.0).then_some(12.25),
        latency: if responses > 0.0 {
            [Some(1.55), Some(150.0), Some(189.0)]
        } else {
            [None; 3]
        },
        in_flight: 2.0,
    }
}

#[test]
fn cumulative_route_table() {
    let layout = Layout {
        cumulative: true,
        by: By::AuthorityRoute,
    };
    let text = routes(
        &[row("inbound", "api", 110.0), row("inbound", "static", 0.0)],
        layout,
    );
    assert_eq!(
        text,
        "AUTHORITY   ROUTE    SUCCESS   REQUESTS   LATENCY_P50   LATENCY_P95   LATENCY_P99   IN_FLIGHT\n\
         web         api      90.91%    110        1.6ms         150ms         189ms         2\n\
         web         static   -         0          -             -             -             2\n"
    );
}

#[test]
fn windowed_table_shows_rates_and_directions_when_there_are_several() {
    let layout = Layout {
        cumulative: false,
        by: By::Route,
    };
    let text = routes(
        &[row("inbound", "api", 110.0), row("outbound", "api", 0.0)],
        layout,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "DIRECTION   ROUTE   SUCCESS   RPS       LATENCY_P50   LATENCY_P95   LATENCY_P99   IN_FLIGHT"
    );
    assert!(
        lines[1].starts_with("inbound     api     90.91%    12.2rps"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("outbound    api     -         -  "),
        "{text}"
    );
}

#[test]
fn endpoint_table() {
    let row = EndpointRow {
        key: EndpointKey {
            service: "web".into(),
            endpoint: "10.0.0.1:80".into(),
        },
        requests: 30.0,
        share: Some(30.0 / 110.0),
        rps: None,
        failures: 0.0,
        in_flight: 0.0,
        ewma_ms: Some(4.5),
    };
    let layout = Layout {
        cumulative: true,
        by: By::AuthorityRoute,
    };
    assert_eq!(
        endpoints(&[row], layout),
        "SERVICE   ENDPOINT      REQUESTS   SHARE    FAILURES   IN_FLIGHT   EWMA\n\
         web       10.0.0.1:80   30         27.27%   0          0           4.5ms\n"
    );
}

#[test]
fn discovery_table() {
    use crate::endpoints_view::{EndpointView, ServiceView, View};
    let endpoint =
        |address: &str, until: Option<u64>, ejected: bool, ejections: u32| EndpointView {
            address: address.into(),
            weight: 2,
            priority: 0,
            zone: String::new(),
            labels: Default::default(),
            ejected,
            ejected_until_ms: until,
            ejections,
        };
    let service = |name: &str, endpoints: Vec<EndpointView>| ServiceView {
        service: name.into(),
        vm_id: "mesh".into(),
        source: Some("consul".into()),
        version: 3,
        updated_ms: Some(0),
        age_ms: Some(125_000),
        stale: name == "api",
        errors: vec![],
        endpoints,
    };
    let view = View {
        now_ms: 10_000,
        services: vec![
            service("api", vec![]),
            service(
                "web",
                vec![
                    endpoint("10.0.0.1:80", None, false, 0),
                    endpoint("10.0.0.2:80", Some(22_500), true, 1),
                    endpoint("10.0.0.3:80", Some(5_000), false, 2),
                ],
            ),
        ],
    };
    assert_eq!(
        discovery(&view),
        "\
SERVICE   SOURCE   VERSION   AGE     STALE   ENDPOINT      WEIGHT   PRIORITY   ZONE   HEALTH
api       consul   3         2m05s   yes     -             -        -          -      -
web       consul   3         2m05s   no      10.0.0.1:80   2        0          -      ok
web       consul   3         2m05s   no      10.0.0.2:80   2        0          -      ejected 12.5s more (1x)
web       consul   3         2m05s   no      10.0.0.3:80   2        0          -      ok (ejected 2x before)
"
    );
}
