//! Facts about one HTTP stream that filters read as properties
//! (`source.address`, `response.code`, ...) and the access log uses.

pub mod response_flags;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use crate::headers::HeaderMap;

/// Shared by every filter of the stream (an `Rc` in each context).
#[derive(Debug)]
pub struct StreamInfo {
    /// Client address.
    pub source: SocketAddr,
    /// Our listener's address.
    pub destination: SocketAddr,
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`.
    pub protocol: &'static str,
    /// Wall-clock start (for `request.time`).
    pub start: SystemTime,
    /// Monotonic start (for `request.duration`).
    pub started: Instant,
    /// Request headers once the request phase has passed them on.
    pub request_headers: RefCell<Option<HeaderMap>>,
    /// Response headers once the response phase has passed them on.
    pub response_headers: RefCell<Option<HeaderMap>>,
    /// Endpoint the request went to.
    pub upstream: Cell<Option<SocketAddr>>,
    /// Status sent to the client.
    pub response_code: Cell<Option<u16>>,
    /// Why that response (Envoy's `response.code_details`): `via_upstream` for the upstream's
    /// answer, else the local reply's details (`upstream_reset_before_response_started{…}`,
    /// `route_not_found`, a filter's own details…).
    pub code_details: RefCell<Cow<'static, str>>,
    /// Request body bytes received.
    pub request_body_bytes: Cell<u64>,
    /// Response body bytes sent.
    pub response_body_bytes: Cell<u64>,
    /// Route name (listener name + index) that matched.
    pub route_name: RefCell<String>,
    /// The request is gRPC (`content-type: application/grpc...`): local replies become gRPC errors.
    pub is_grpc: bool,
}

impl StreamInfo {
    /// A stream that starts now.
    pub fn new(
        source: SocketAddr,
        destination: SocketAddr,
        protocol: &'static str,
        is_grpc: bool,
    ) -> StreamInfo {
        StreamInfo {
            source,
            destination,
            protocol,
            start: SystemTime::now(),
            started: Instant::now(),
            request_headers: RefCell::new(None),
            response_headers: RefCell::new(None),
            upstream: Cell::new(None),
            response_code: Cell::new(None),
            code_details: RefCell::new(Cow::Borrowed("")),
            request_body_bytes: Cell::new(0),
            response_body_bytes: Cell::new(0),
            route_name: RefCell::new(String::new()),
            is_grpc,
        }
    }
}
