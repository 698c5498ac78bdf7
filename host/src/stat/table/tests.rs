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
