//! What each filter leaves on the probe request, so a table line never measures a chain where a
//! filter did not load or did not run, nor a filter where none was configured.

use std::net::SocketAddr;

use anyhow::bail;
use serde_json::{json, Value};
use wasmesh_contract::exposition;
use wasmesh_tests::client::Response;

use crate::cost::chain::Upstreams;
use crate::lb::cases::ECHO_HEADER;

/// Request header `headers` adds: proves on the way in that the filter ran.
pub const REQUEST_HEADER: (&str, &str) = ("x-bench", "1");
/// Response header `headers` adds: proves the response direction too.
pub const RESPONSE_HEADER: (&str, &str) = ("x-served-by", "wasmesh-bench");
/// The counter `metrics` defines on every request's headers.
pub const METRICS_COUNTER: &str = "request_total";
/// The counter `failover` defines on its first retry.
pub const FAILOVER_COUNTER: &str = "failover_retries_total";
/// The path of the probe's failing request: the backends answer it 503, a gateway error
/// `failover` retries by default.
pub const FAILING_PATH: &str = "/status/503";

/// What one probe request through a proxy showed.
pub struct Evidence<'a> {
    /// The answer the client got.
    pub response: &'a Response,
    /// The backend's JSON echo of the request it received.
    pub echo: &'a Value,
    /// The answer to a GET of [`FAILING_PATH`], sent after the first.
    pub failing: &'a Response,
    /// The proxy's `/stats/prometheus` right after both answers.
    pub stats: &'a str,
    /// The backends.
    pub upstreams: Upstreams,
}

/// `headers` adds one request and one response header: about the least work a filter can do
/// while still touching both directions.
pub fn headers_configuration() -> Value {
    json!({
        "request": { "add": { REQUEST_HEADER.0: REQUEST_HEADER.1 } },
        "response": { "add": { RESPONSE_HEADER.0: RESPONSE_HEADER.1 } },
    })
}

/// `lb` as the end-to-end tests configure it: service `web`, `round_robin` over a static list
/// (here the one backend), its pick echoed in [`ECHO_HEADER`].
pub fn lb_configuration(backend: SocketAddr) -> Value {
    json!({
        "service": "web",
        "policy": "round_robin",
        "endpoints": [{ "address": backend.to_string(), "weight": 1 }],
        "response_header": ECHO_HEADER,
    })
}

/// `failover` as the end-to-end tests configure it (before `lb`, the same service and echo
/// header, retries through `original_dst` cluster `dynamic`), with its defaults (2 retries on
/// gateway errors, Envoy's outlier thresholds), over the backend and the spare.
pub fn failover_configuration(upstreams: &Upstreams) -> Value {
    json!({
        "service": "web",
        "cluster": "dynamic",
        "endpoints": [
            { "address": upstreams.backend.to_string() },
            { "address": upstreams.spare.to_string() },
        ],
        "response_header": ECHO_HEADER,
    })
}

/// Both of `headers`' headers with their values; an error if only one is there or a value is
/// wrong.
pub fn headers_ran(seen: &Evidence) -> anyhow::Result<bool> {
    let request = seen.echo["headers"][REQUEST_HEADER.0].as_str();
    let response = seen.response.header(RESPONSE_HEADER.0);
    match (request, response) {
        (None, None) => Ok(false),
        (Some(request), Some(response))
            if (request, response) == (REQUEST_HEADER.1, RESPONSE_HEADER.1) =>
        {
            Ok(true)
        }
        partial => bail!("headers ran half-way or wrongly: {partial:?}"),
    }
}

/// `lb`'s echo header, naming the one backend; an error if it names anything else.
pub fn lb_ran(seen: &Evidence) -> anyhow::Result<bool> {
    match seen.response.header(ECHO_HEADER) {
        None => Ok(false),
        Some(pick) if pick == seen.upstreams.backend.to_string() => Ok(true),
        Some(pick) => bail!(
            "lb picked {pick:?}, the backend is {}",
            seen.upstreams.backend
        ),
    }
}

/// [`METRICS_COUNTER`] among the proxy's Prometheus samples after the probe.
pub fn metrics_ran(seen: &Evidence) -> anyhow::Result<bool> {
    Ok(exposition::samples(seen.stats)
        .iter()
        .any(|sample| sample.name == METRICS_COUNTER))
}

/// A retry of the failing request: [`FAILOVER_COUNTER`] of service `web` counted, and the
/// answer's echo header naming the spare (the endpoint the retry went to). On a healthy answer
/// `failover` leaves no mark, so the failing request is how the probe sees it run. An error if
/// only one of the two shows.
pub fn failover_ran(seen: &Evidence) -> anyhow::Result<bool> {
    let retries: f64 = exposition::samples(seen.stats)
        .iter()
        .filter(|s| s.name == FAILOVER_COUNTER)
        .filter(|s| s.labels.get("service").map(String::as_str) == Some("web"))
        .map(|s| s.value)
        .sum();
    let spare = seen.upstreams.spare.to_string();
    let retried_on_spare = seen.failing.header(ECHO_HEADER) == Some(spare.as_str());
    match (retries > 0.0, retried_on_spare) {
        (false, false) => Ok(false),
        (true, true) => Ok(true),
        _ => bail!(
            "failover ran half-way: {FAILOVER_COUNTER} {retries}, failing answer's {ECHO_HEADER} {:?} (the spare is {spare})",
            seen.failing.header(ECHO_HEADER)
        ),
    }
}
