//! The per-stream context: count at request headers, time the first response byte, and settle
//! everything in `on_log`, which both hosts call exactly once at the end of every stream
//! (answered, locally replied, reset or aborted). That is why `response_total` and the
//! in-flight decrement live there: a stream that never got a response is still counted, as
//! status `0` and a failure, and in-flight cannot leak.
//!
//! The request path reads only what it uses: `:path` when routes are configured or the line is
//! logged, `:method` and the raw values only for the access log, which is built only when the
//! host's level lets an info line through.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use wasmesh_common::metrics::access_log::AccessLog;
use wasmesh_common::metrics::Classification;
use wasmesh_filter_glue::clock::now_ns;
use wasmesh_filter_glue::metric;

use crate::host;
use crate::ids::Outcome;
use crate::state::{State, StreamKey};
use crate::tracing::{self, TraceIds};

/// The request header an `original_dst` pick is in: the endpoint when the host cannot tell.
const PICK_HEADER: &str = "x-envoy-original-dst-host";

/// What the stream learnt at request headers.
struct Started {
    key: StreamKey,
    /// The `request_in_flight` series incremented at the start.
    in_flight: Option<u32>,
    started_ns: u64,
    /// What only the access log needs; `None` when it is off or the host drops info lines.
    log: Option<Logged>,
}

/// Raw request values for the access-log line.
struct Logged {
    method: String,
    authority: String,
    path: String,
    ids: TraceIds,
    /// `connection.uri_san_peer_certificate`; empty without mutual TLS.
    peer_identity: String,
}

/// One per HTTP stream.
pub struct MetricsStream {
    state: Option<Rc<RefCell<State>>>,
    started: Option<Started>,
    status: Option<u16>,
    ttfb_ns: Option<u64>,
    grpc_status: Option<String>,
}

impl MetricsStream {
    /// A stream of the worker's state (`None` only if never configured: then it does nothing).
    pub fn new(state: Option<Rc<RefCell<State>>>) -> Self {
        Self {
            state,
            started: None,
            status: None,
            ttfb_ns: None,
            grpc_status: None,
        }
    }
}

impl Context for MetricsStream {}

impl HttpContext for MetricsStream {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(state) = self.state.clone() else {
            return Action::Continue;
        };
        let mut state = state.borrow_mut();
        let started_ns = now_ns();
        let logged = state.config.access_log && log::log_enabled!(log::Level::Info);
        let request = |name| host::header(MapType::HttpRequestHeaders, name).unwrap_or_default();
        let authority = request(":authority");
        let path = if logged || !state.config.routes.is_empty() {
            request(":path")
        } else {
            String::new()
        };
        let key = state.key(&authority, &path);
        let in_flight = state.count_request(key).in_flight;
        let ids = tracing::on_request(state.config.trace, logged);
        let log = logged.then(|| Logged {
            method: request(":method"),
            authority,
            path,
            ids,
            peer_identity: host::string_property(&["connection", "uri_san_peer_certificate"])
                .unwrap_or_default(),
        });
        self.started = Some(Started {
            key,
            in_flight,
            started_ns,
            log,
        });
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(started) = &self.started else {
            return Action::Continue;
        };
        self.ttfb_ns = Some(now_ns().saturating_sub(started.started_ns));
        self.status = host::header(MapType::HttpResponseHeaders, ":status")
            .and_then(|s| s.parse::<u16>().ok());
        self.grpc_status = host::header(MapType::HttpResponseHeaders, "grpc-status");
        Action::Continue
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        if let Some(status) = host::header(MapType::HttpResponseTrailers, "grpc-status") {
            self.grpc_status = Some(status);
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        let (Some(state), Some(started)) = (self.state.clone(), self.started.take()) else {
            return;
        };
        let mut state = state.borrow_mut();
        let classification = Classification::of(self.status, self.grpc_status.as_deref());
        let outcome = Outcome {
            status: self.status.unwrap_or(0),
            classification,
        };
        let ttfb_ms = self.ttfb_ns.map(|ttfb| ttfb.div_ceil(1_000_000));
        state.count_response(started.key, outcome, ttfb_ms);
        metric::add("metrics", started.in_flight, -1);
        let endpoint = endpoint();
        if let Some(endpoint) = &endpoint {
            state.count_endpoint(endpoint, classification);
        }
        if let Some(logged) = started.log {
            let line = AccessLog {
                method: &logged.method,
                authority: &logged.authority,
                path: &logged.path,
                status: outcome.status,
                latency_ms: now_ns().saturating_sub(started.started_ns) / 1_000_000,
                endpoint: endpoint.as_deref().unwrap_or_default(),
                request_id: &logged.ids.request_id,
                trace_id: &logged.ids.trace_id,
                route: state.route_name(started.key),
                classification: classification.as_str(),
                direction: state.config.direction.as_str(),
                peer_identity: &logged.peer_identity,
            }
            .line();
            log::info!("{line}");
        }
    }
}

/// The upstream endpoint (`ip:port`) the stream went to: the host's `upstream.address`, else
/// an `original_dst` pick header; `None` when the stream never reached for an endpoint.
fn endpoint() -> Option<String> {
    host::string_property(&["upstream", "address"])
        .or_else(|| host::header(MapType::HttpRequestHeaders, PICK_HEADER))
        .filter(|e| !e.is_empty())
}
