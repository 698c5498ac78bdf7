//! The per-stream context: count at request headers, time the first response byte, and settle
//! everything in `on_log`, which both hosts call exactly once at the end of every stream
//! (answered, locally replied, reset or aborted). That is why `response_total` and the
//! in-flight decrement live there: a stream that never got a response is still counted, as
//! status `0` and a failure, and in-flight cannot leak.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType, MetricType};
use wasmesh_common::metrics::access_log::AccessLog;
use wasmesh_common::metrics::names::{self, RequestLabels};
use wasmesh_common::metrics::Classification;

use crate::host::{self, now_ns};
use crate::state::State;
use crate::tracing::{self, TraceIds};

/// The request header an `original_dst` pick is in: the endpoint when the host cannot tell.
const PICK_HEADER: &str = "x-envoy-original-dst-host";

/// What the stream learnt at request headers.
struct Started {
    authority_label: String,
    route: String,
    started_ns: u64,
    /// Raw values for the access log (empty when it is off).
    method: String,
    authority: String,
    path: String,
    ids: TraceIds,
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
        let request = |name| host::header(MapType::HttpRequestHeaders, name).unwrap_or_default();
        let authority = request(":authority");
        let path = request(":path");
        let route = state.config.routes.name_of(&path).to_string();
        let authority_label = state.authority_label(&authority);
        let labels = RequestLabels {
            direction: state.config.direction.as_str(),
            authority: &authority_label,
            route: &route,
        };
        let (total, in_flight) = (labels.request_total(), labels.in_flight());
        state.series.add(MetricType::Counter, total, 1);
        state.series.add(MetricType::Gauge, in_flight, 1);
        let ids = tracing::on_request(state.config.trace);
        let logged = state.config.access_log;
        self.started = Some(Started {
            authority_label,
            route,
            started_ns,
            method: if logged {
                request(":method")
            } else {
                String::new()
            },
            authority: if logged { authority } else { String::new() },
            path: if logged { path } else { String::new() },
            ids,
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
        let status_code = self.status.unwrap_or(0).to_string();
        let direction = state.config.direction.as_str();
        let labels = RequestLabels {
            direction,
            authority: &started.authority_label,
            route: &started.route,
        };
        let class = classification.as_str();
        let (total, in_flight) = (
            labels.response_total(&status_code, class),
            labels.in_flight(),
        );
        let latency = labels.latency(&status_code, class);
        state.series.add(MetricType::Counter, total, 1);
        state.series.add(MetricType::Gauge, in_flight, -1);
        if let Some(ttfb) = self.ttfb_ns {
            state.series.record(latency, ttfb.div_ceil(1_000_000));
        }
        let endpoint = endpoint();
        if let Some(endpoint) = &endpoint {
            let label = state.endpoint_label(endpoint);
            let name = names::endpoint_response_total(direction, &label, class);
            state.series.add(MetricType::Counter, name, 1);
        }
        if state.config.access_log {
            let line = AccessLog {
                method: &started.method,
                authority: &started.authority,
                path: &started.path,
                status: self.status.unwrap_or(0),
                latency_ms: now_ns().saturating_sub(started.started_ns) / 1_000_000,
                endpoint: endpoint.as_deref().unwrap_or_default(),
                request_id: &started.ids.request_id,
                trace_id: &started.ids.trace_id,
                route: &started.route,
                classification: class,
                direction,
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
