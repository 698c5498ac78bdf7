//! `headers`, `headers-set-all`: every header-map hostcall on request and response headers.
//!
//! The request edits are visible in the echo backend's `headers`; the response edits and a
//! few read-backs are visible in the response headers.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, MapType};

use crate::case::{Case, Env};
use crate::report::{self, ABSENT};
use crate::status;

const REQUEST: MapType = MapType::HttpRequestHeaders;
const RESPONSE: MapType = MapType::HttpResponseHeaders;

/// Per-header edits (`set_all == false`) or whole-map replacement (`set_all == true`).
pub struct Headers {
    set_all: bool,
    /// Pairs read on request headers, reported on response headers.
    request_pairs: usize,
}

impl Headers {
    /// `headers` (`false`) or `headers-set-all` (`true`).
    pub fn new(set_all: bool) -> Self {
        Self {
            set_all,
            request_pairs: 0,
        }
    }
}

/// Replaces the whole `map` with its current pairs minus `drop`, plus `extra`.
fn set_all(map: MapType, drop: &str, extra: (&str, &[u8])) {
    let pairs = hostcalls::get_map_bytes(map).unwrap_or_default();
    let mut next: Vec<(&str, &[u8])> = pairs
        .iter()
        .filter(|(name, _)| name != drop)
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    next.push(extra);
    if let Err(s) = hostcalls::set_map_bytes(map, next) {
        log::error!("abi-test: set pairs of {map:?}: {}", status::of(s));
    }
}

fn log_err<T>(what: &str, result: Result<T, proxy_wasm::types::Status>) {
    if let Err(s) = result {
        log::error!("abi-test: {what}: {}", status::of(s));
    }
}

impl Case for Headers {
    fn on_request_headers(&mut self, _: &Env<'_>, num_headers: usize, _: bool) -> Action {
        let pairs = report::pairs(REQUEST);
        self.request_pairs = pairs.len();
        if self.set_all {
            set_all(REQUEST, "x-abi-drop", ("x-abi-set-all", b"1"));
            return Action::Continue;
        }
        let got = |name: &str| report::header(REQUEST, name).unwrap_or_else(|| ABSENT.into());
        // Envoy's `proxy_get_header_map_size` is the sum of name and value lengths.
        let (size_status, size) = crate::raw::get_map_size(REQUEST);
        let sum: usize = pairs.iter().map(|(n, v)| n.len() + v.len()).sum();
        let map_size = if size_status == 0 && size == sum {
            "sum-of-lengths".to_string()
        } else {
            format!("status={size_status} size={size} sum={sum}")
        };
        let reads = [
            ("x-abi-got", got("x-abi-get")),
            ("x-abi-got-missing", got("x-abi-missing")),
            ("x-abi-method", got(":method")),
            ("x-abi-path", got(":path")),
            ("x-abi-authority", got(":authority")),
            ("x-abi-req-count", pairs.len().to_string()),
            ("x-abi-num-headers", num_headers.to_string()),
            ("x-abi-map-size", map_size),
        ];
        log_err(
            "add x-abi-added",
            hostcalls::add_map_value(REQUEST, "x-abi-added", "1"),
        );
        log_err(
            "add x-abi-multi",
            hostcalls::add_map_value(REQUEST, "x-abi-multi", "b"),
        );
        log_err(
            "replace",
            hostcalls::set_map_value(REQUEST, "x-abi-replace", Some("new")),
        );
        log_err(
            "replace (create)",
            hostcalls::set_map_value(REQUEST, "x-abi-replace-created", Some("created")),
        );
        log_err(
            "remove",
            hostcalls::remove_map_value(REQUEST, "x-abi-remove"),
        );
        log_err(
            "remove (absent)",
            hostcalls::remove_map_value(REQUEST, "x-abi-never-sent"),
        );
        for (name, value) in reads {
            report::set_header(REQUEST, name, &value);
        }
        Action::Continue
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        if self.set_all {
            set_all(RESPONSE, "x-backend", ("x-abi-resp-set-all", b"1"));
        } else {
            log_err(
                "add x-abi-resp",
                hostcalls::add_map_value(RESPONSE, "x-abi-resp", "1"),
            );
            report::set_header(RESPONSE, "x-backend", "replaced");
            log_err(
                "remove content-type",
                hostcalls::remove_map_value(RESPONSE, "content-type"),
            );
            let status = report::header(RESPONSE, ":status").unwrap_or_else(|| ABSENT.into());
            report::set_header(RESPONSE, "x-abi-resp-status", &status);
        }
        report::set_header(RESPONSE, "x-abi-req-count", &self.request_pairs.to_string());
        Action::Continue
    }
}
