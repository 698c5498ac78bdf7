//! The `ratelimit` filter (`filters/ratelimit`): a token bucket in shared data, answering limited
//! requests itself (`send_http_response`) without reaching the upstream.

use serde_json::{json, Value};
use wasmesh_contract::exposition as prometheus;

use crate::client::{self, Response};
use crate::{build_filters, Backend, BackendHandle, MeshConfig, Plugin, Proxy, ProxyKind};

/// Burst of the buckets here; the refill is so slow that no token comes back during a test.
const BURST: u32 = 3;

fn limiter(key: &str) -> Value {
    json!({ "tokens_per_second": 0.001, "burst": BURST, "key": key })
}

fn start(kind: ProxyKind, plugins: Vec<Plugin>) -> (Proxy, BackendHandle) {
    let backend = Backend::start("b1");
    let proxy = kind.start(&MeshConfig::single(plugins, [backend.addr]));
    (proxy, backend)
}

fn assert_limited(kind: ProxyKind, response: &Response) {
    let host = kind.name();
    assert_eq!(response.status, 429, "{host}: {}", response.text());
    assert_eq!(response.text(), "rate limited\n", "{host}");
    let retry_after: u64 = response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{host}: no numeric retry-after: {:?}", response.headers));
    assert!(retry_after >= 1, "{host}");
    assert_eq!(response.header("x-ratelimit-limit"), Some("3"), "{host}");
}

/// `burst` requests pass, the next is answered 429 by the filter and never reaches the backend;
/// another key has its own bucket.
pub fn limits_per_key(kind: ProxyKind) {
    let filters = build_filters();
    let plugin =
        Plugin::new("ratelimit", &filters.ratelimit).configuration(limiter("header:x-client"));
    let (proxy, backend) = start(kind, vec![plugin]);
    let url = proxy.url("main", "/");
    for i in 0..BURST {
        let response = client::get(&url, &[("x-client", "a")]);
        assert_eq!(
            response.status,
            200,
            "{}: request {i}: {}",
            kind.name(),
            response.text()
        );
    }
    assert_limited(kind, &client::get(&url, &[("x-client", "a")]));
    assert_eq!(backend.requests_seen(), u64::from(BURST), "{}", kind.name());
    let other = client::get(&url, &[("x-client", "b")]);
    assert_eq!(
        other.status,
        200,
        "{}: key b has its own bucket",
        kind.name()
    );
}

/// A local reply from a later filter still passes the earlier filters' response callbacks:
/// `headers` (first) adds its response header to `ratelimit`'s (second) 429, as in Envoy, where a
/// local reply is encoded through the filters before the one that sent it.
pub fn local_reply_passes_earlier_filters(kind: ProxyKind) {
    let filters = build_filters();
    let headers = Plugin::new("headers", &filters.headers)
        .configuration(json!({ "response": { "add": { "x-resp-added": "yes" } } }));
    let ratelimit = Plugin::new("ratelimit", &filters.ratelimit).configuration(limiter("global"));
    let (proxy, backend) = start(kind, vec![headers, ratelimit]);
    let url = proxy.url("main", "/");
    for _ in 0..BURST {
        let response = client::get(&url, &[]);
        assert_eq!(response.status, 200, "{}", kind.name());
        assert_eq!(
            response.header("x-resp-added"),
            Some("yes"),
            "{}",
            kind.name()
        );
    }
    let limited = client::get(&url, &[]);
    assert_limited(kind, &limited);
    assert_eq!(
        limited.header("x-resp-added"),
        Some("yes"),
        "{}",
        kind.name()
    );
    assert_eq!(backend.requests_seen(), u64::from(BURST), "{}", kind.name());
}

/// `metrics` in front of `ratelimit`: the request `ratelimit` answers 429 is counted by
/// `metrics`, whose `on_log` reads request headers of a stream that never reached an upstream
/// (Envoy answers them; wasmesh once answered BadArgument there and the filter trapped on every
/// 429). The rig's end-of-scenario check fails the test if any VM failed.
pub fn limited_request_is_counted_by_metrics(kind: ProxyKind) {
    let filters = build_filters();
    let metrics = Plugin::new("metrics", &filters.metrics).configuration(json!({}));
    let ratelimit = Plugin::new("ratelimit", &filters.ratelimit).configuration(limiter("global"));
    let (proxy, _backend) = start(kind, vec![metrics, ratelimit]);
    let url = proxy.url("main", "/");
    for _ in 0..BURST {
        assert_eq!(client::get(&url, &[]).status, 200, "{}", kind.name());
    }
    assert_limited(kind, &client::get(&url, &[]));
    let counted = |status: &str| {
        let text = proxy.admin_get("/stats/prometheus").text();
        prometheus::value(&text, "response_total", &[("status_code", status)])
    };
    crate::poll_until(
        &format!("{}: response_total counts the 429", kind.name()),
        std::time::Duration::from_secs(10),
        || match (counted("200"), counted("429")) {
            (Some(ok), Some(limited)) if ok == f64::from(BURST) && limited == 1.0 => Ok(()),
            other => Err(format!("(200, 429) samples: {other:?}")),
        },
    );
}

/// Slots of the store in [`new_keys_are_bounded`]: small, so a few requests fill it.
const MAX_KEYS: u32 = 8;
/// New keys sent there, each an 8 KB header value.
const NEW_KEYS: u32 = 40;

/// A flood of new, large keys (`x-client` values of 8 KB): the filter keeps at most `max_keys`
/// buckets, counts each key that finds no slot in `ratelimit_store_full_total`, answers it as
/// `on_store_full` says (`deny`: the limit status; `allow`: through), and a key that got a slot
/// keeps its bucket through the flood. No VM fails (the rig checks); in wasmesh no shared-data
/// write is refused for the VM id's cap.
pub fn new_keys_are_bounded(kind: ProxyKind, on_store_full: &str) {
    let host = kind.name();
    let filters = build_filters();
    let mut config = limiter("header:x-client");
    config["burst"] = json!(1);
    config["max_keys"] = json!(MAX_KEYS);
    config["on_store_full"] = json!(on_store_full);
    let plugin = Plugin::new("ratelimit", &filters.ratelimit).configuration(config);
    let (proxy, backend) = start(kind, vec![plugin]);
    let url = proxy.url("main", "/");
    let client_id = |i: u32| format!("{i:04}-{}", "x".repeat(8 * 1024));
    let statuses: Vec<u16> = (0..NEW_KEYS)
        .map(|i| {
            client::get(&url, &[("x-client", client_id(i).as_str())])
                .status
                .as_u16()
        })
        .collect();
    let metric = |name: &str| {
        let text = proxy.admin_get("/stats/prometheus").text();
        prometheus::value(&text, name, &[]).unwrap_or(0.0) as u32
    };
    let (allowed, store_full) = (
        metric("ratelimit_allowed_total"),
        metric("ratelimit_store_full_total"),
    );
    let passed = statuses.iter().filter(|s| **s == 200).count() as u32;
    assert_eq!(
        passed, allowed,
        "{host}: ratelimit_allowed_total: {statuses:?}"
    );
    // `allow` lets the keys that found no slot through too, without a bucket.
    let bucketed = if on_store_full == "deny" {
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 429),
            "{host}: {statuses:?}"
        );
        allowed
    } else {
        assert_eq!(passed, NEW_KEYS, "{host}: allow lets every request through");
        allowed - store_full
    };
    assert!(
        (1..=MAX_KEYS).contains(&bucketed),
        "{host}: {bucketed} keys got a bucket, at most {MAX_KEYS} slots: {statuses:?}"
    );
    assert_eq!(
        bucketed + store_full,
        NEW_KEYS,
        "{host}: every new key either got a slot or found the store full: {statuses:?}"
    );
    assert_eq!(backend.requests_seen(), u64::from(passed), "{host}");
    // The first key got a slot (the store was empty) and its bucket (burst 1) is spent.
    assert_eq!(statuses[0], 200, "{host}: {statuses:?}");
    let again = client::get(&url, &[("x-client", client_id(0).as_str())]);
    assert_eq!(
        again.status, 429,
        "{host}: the first key's bucket survived the flood"
    );
    assert_eq!(again.header("x-ratelimit-limit"), Some("1"), "{host}");
    if kind == ProxyKind::Wasmesh {
        let text = proxy.admin_get("/metrics").text();
        let refused = prometheus::value(
            &text,
            "wasmesh_guest_state_refused_total",
            &[("kind", "shared_data")],
        );
        assert_eq!(refused, Some(0.0), "{host}: shared-data writes refused");
    }
}
