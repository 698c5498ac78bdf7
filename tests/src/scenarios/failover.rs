//! The `failover` filter (`filters/failover`) in front of `lb`: outlier ejection shared with
//! `lb` through shared data (both plugins in VM id `mesh`), and retries of idempotent requests
//! on another endpoint through an `http_call` to the `original_dst` cluster.
//!
//! Chain: `failover` → `lb` → router. `failover` sees the response after `lb`, reads the
//! endpoint `lb` picked back from the pick header, and replaces a failed response by the
//! retry's answer. One worker everywhere, so budgets and round robin are exact.

mod always_503;
mod body;
mod budget;
mod chain;
mod client_faults;
mod kill;
mod outage;
mod timeout;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_contract::exposition as prometheus;

pub use always_503::Always503;
pub use body::{configured_post_is_retried_with_its_body, oversized_body_is_not_retried};
pub use budget::{a_tight_budget_caps_the_retries, half_503_stays_within_the_budget};
pub use chain::{chain, merged};
pub use client_faults::client_faults_eject_nothing;
pub use kill::kill_one_of_three_under_load;
pub use outage::{answers_in, assert_back_after_ejection, assert_no_failures, restart};
pub use timeout::{
    per_try_timeout_is_named, request_timeout_while_a_retry_hangs,
    request_timeout_while_the_first_try_hangs, retries_wait_out_their_backoff,
};

use crate::{client, poll_until, Backend, BackendHandle, MeshConfig, Proxy, ProxyKind};
use chain::{mesh, split_mesh, ECHO_HEADER};

/// Asserts that `config` is refused by the host, with `needle` (the field) in its logs.
pub fn assert_refused(kind: ProxyKind, config: &MeshConfig, needle: &str) {
    match kind.try_start(config) {
        Ok(proxy) => panic!(
            "{} started without {needle:?}:\n{}",
            kind.name(),
            proxy.logs()
        ),
        Err(logs) => assert!(
            logs.contains(needle),
            "{}: the error should say {needle:?}:\n{logs}",
            kind.name()
        ),
    }
}

/// A proxy whose first tries all go to a new 503 upstream (returned, to count its requests)
/// and whose retries go to `other`: the shape of the body and timeout tests.
fn first_try_503(kind: ProxyKind, other: SocketAddr, extra: Value) -> (Always503, Proxy) {
    let bad = Always503::start();
    let proxy = kind.start(&split_mesh(&[bad.addr], &[bad.addr, other], extra));
    (bad, proxy)
}

/// Outlier detection off: these tests look at retries alone.
pub(crate) fn no_ejection() -> Value {
    json!({ "outlier": { "consecutive_5xx": 0, "consecutive_gateway_failure": 0 } })
}

/// The value of `name` with `labels` at `/stats/prometheus` (absent: `None`).
fn metric(proxy: &Proxy, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    prometheus::value(&proxy.admin_get("/stats/prometheus").text(), name, labels)
}

/// Sum of `failover_retries_total` of service `web` over every reason.
pub(crate) fn retries(proxy: &Proxy) -> f64 {
    let text = proxy.admin_get("/stats/prometheus").text();
    prometheus::samples(&text)
        .iter()
        .filter(|s| s.name == "failover_retries_total")
        .filter(|s| s.labels.get("service").map(String::as_str) == Some("web"))
        .map(|s| s.value)
        .sum()
}

/// Polls until `failover_retries_total` (all reasons) is `want`.
fn assert_retries(proxy: &Proxy, want: f64) {
    let host = proxy.kind.name();
    poll_until(
        &format!("{host}: failover_retries_total = {want}"),
        Duration::from_secs(5),
        || match retries(proxy) {
            got if got == want => Ok(()),
            got => Err(format!("{got}")),
        },
    );
}

/// A port nothing listens on: connections to it are refused.
fn refused_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a port to free");
    listener.local_addr().expect("its address")
}

/// Round robin over a healthy backend and one answering 503: every GET that lands on the
/// 503 is retried on the healthy one, so all 10 answer 200 from `b1`; the retried answers name
/// `b1` in the echo header; 5 retries counted with reason `gateway-error`.
pub fn upstream_503_is_retried_on_another_endpoint(kind: ProxyKind) {
    let host = kind.name();
    let good = Backend::start("b1");
    let bad = Always503::start();
    let proxy = kind.start(&mesh(&[good.addr, bad.addr], no_ejection()));
    for i in 0..10 {
        let response = client::get(&proxy.url("main", "/retry"), &[]);
        assert_eq!(response.status, 200, "{host}: GET {i}: {}", response.text());
        assert_eq!(response.echo().backend, "b1", "{host}: GET {i}");
        assert_eq!(
            response.header(ECHO_HEADER),
            Some(good.addr.to_string().as_str()),
            "{host}: GET {i}: the echo names the endpoint that answered"
        );
        let types: Vec<_> = response.headers.get_all("content-type").iter().collect();
        assert_eq!(
            types,
            ["application/json"],
            "{host}: GET {i}: one content type"
        );
    }
    assert_eq!(
        bad.requests(),
        5,
        "{host}: round robin sent half to the 503"
    );
    assert_eq!(
        good.requests_seen(),
        10,
        "{host}: 5 first tries + 5 retries"
    );
    assert_retries(&proxy, 5.0);
    let reason = [("service", "web"), ("reason", "gateway-error")];
    assert_eq!(
        metric(&proxy, "failover_retries_total", &reason),
        Some(5.0),
        "{host}"
    );
}

/// POST is not in the default methods: a POST that lands on the 503 gets the 503.
pub fn post_is_not_retried_by_default(kind: ProxyKind) {
    let host = kind.name();
    let good = Backend::start("b1");
    let bad = Always503::start();
    let proxy = kind.start(&mesh(&[good.addr, bad.addr], no_ejection()));
    let mut statuses: Vec<u16> = (0..6)
        .map(|_| {
            client::post(&proxy.url("main", "/post"), &[], "order=1")
                .status
                .as_u16()
        })
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 503, 503, 503], "{host}");
    assert_eq!(retries(&proxy), 0.0, "{host}");
}

/// An endpoint that refuses connections: GETs landing there are retried on the live one; all
/// 6 answer 200 and 3 retries are counted (whatever reason the host lets the filter see).
pub fn refused_connection_is_retried(kind: ProxyKind) {
    let (_good, proxy) = refused_and_retried(kind, 6);
    assert_retries(&proxy, 3.0);
}

/// Round robin over `b1` and a refused port; `n` GETs, each must answer 200.
fn refused_and_retried(kind: ProxyKind, n: usize) -> (BackendHandle, Proxy) {
    let host = kind.name();
    let good = Backend::start("b1");
    let proxy = kind.start(&mesh(&[good.addr, refused_port()], no_ejection()));
    for i in 0..n {
        let response = client::get(&proxy.url("main", "/refused"), &[]);
        assert_eq!(response.status, 200, "{host}: GET {i}: {}", response.text());
    }
    (good, proxy)
}

/// The same, asserting the reason label: a refused connection is a `connect-failure`, told
/// apart from an upstream's own 503 by the host's `response.code_details` property.
pub fn refused_connection_is_named_connect_failure(kind: ProxyKind) {
    let host = kind.name();
    let (_good, proxy) = refused_and_retried(kind, 2);
    assert_retries(&proxy, 1.0);
    let text = proxy.admin_get("/stats/prometheus").text();
    let labels = [("service", "web"), ("reason", "connect-failure")];
    assert_eq!(
        prometheus::value(&text, "failover_retries_total", &labels),
        Some(1.0),
        "{host}: the retry's reason:\n{}",
        text.lines()
            .filter(|l| l.starts_with("failover_"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A configuration error names the field, and the host refuses to start.
pub fn bad_config_names_the_field(kind: ProxyKind) {
    let config = mesh(
        &[refused_port()],
        json!({ "retry": { "retry_on": ["5XX"] } }),
    );
    assert_refused(kind, &config, "retry.retry_on[0]: unknown variant `5XX`");
}
