//! Facts about one HTTP stream that filters read as properties (`source.address`,
//! `response.code`, ...) and the access log uses: the one place that decides when each becomes
//! valid. Whoever drives the stream (the proxy, the harness) records each event when it
//! happens, through a method named after it; the properties read only the getters, so "when is
//! `response.code` readable?" is answered by the method that sets it, here.

pub mod response_flags;
pub mod tls;

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::headers::HeaderMap;
pub use tls::{CertificateFacts, TlsSession};

/// Shared by every filter of the stream (an `Rc` in each context).
#[derive(Debug)]
pub struct StreamInfo {
    source: SocketAddr,
    destination: SocketAddr,
    protocol: &'static str,
    is_grpc: bool,
    tls: Option<Arc<TlsSession>>,
    start: SystemTime,
    started: Instant,
    request_headers: RefCell<Option<HeaderMap>>,
    response_headers: RefCell<Option<HeaderMap>>,
    route_name: RefCell<Option<Arc<str>>>,
    upstream: Cell<Option<SocketAddr>>,
    upstream_tls: RefCell<Option<Arc<TlsSession>>>,
    response_code: Cell<Option<u16>>,
    code_details: RefCell<Cow<'static, str>>,
    request_body_bytes: Cell<u64>,
    response_body_bytes: Cell<u64>,
    /// The cluster a filter chose for a TCP connection (`envoy.tcp_proxy.cluster`).
    tcp_proxy_cluster: RefCell<Option<String>>,
    /// Response flags a TCP connection's relay set (it has no answer to derive them from).
    connection_flags: Cell<u64>,
}

impl StreamInfo {
    /// A stream from `source` to our listener at `destination` that starts now. `protocol` is
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`; `is_grpc` (`content-type: application/grpc...`)
    /// turns local replies into gRPC errors.
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
            is_grpc,
            tls: None,
            start: SystemTime::now(),
            started: Instant::now(),
            request_headers: RefCell::new(None),
            response_headers: RefCell::new(None),
            route_name: RefCell::new(None),
            upstream: Cell::new(None),
            upstream_tls: RefCell::new(None),
            response_code: Cell::new(None),
            code_details: RefCell::new(Cow::Borrowed("")),
            request_body_bytes: Cell::new(0),
            response_body_bytes: Cell::new(0),
            tcp_proxy_cluster: RefCell::new(None),
            connection_flags: Cell::new(0),
        }
    }

    /// The stream came over a TLS session: the `connection.*` TLS properties read it.
    pub fn with_tls(mut self, tls: Option<Arc<TlsSession>>) -> StreamInfo {
        self.tls = tls;
        self
    }

    // Events, in the order a stream meets them.

    /// The request-header phase ended with `headers` as the filters left them (every filter
    /// passed them on, or one replied): `request.headers` and the `request.*` properties
    /// derived from them read this map from now on, `on_log` included. (During a filter's own
    /// `on_request_headers` it reads the map it holds instead.)
    pub fn request_headers_ended(&self, headers: HeaderMap) {
        *self.request_headers.borrow_mut() = Some(headers);
    }

    /// A route matched: `route_name` (`<listener>.<index>`) from now on; empty before.
    pub fn routed(&self, route_name: Arc<str>) {
        *self.route_name.borrow_mut() = Some(route_name);
    }

    /// The cluster picked `endpoint`: `upstream.address` and `upstream.port` from now on.
    pub fn upstream_picked(&self, endpoint: SocketAddr) {
        self.upstream.set(Some(endpoint));
    }

    /// The upstream's response arrived over a TLS connection: the `upstream.*` TLS properties
    /// read its session from now on.
    pub fn upstream_tls_used(&self, session: Arc<TlsSession>) {
        *self.upstream_tls.borrow_mut() = Some(session);
    }

    /// Request body bytes arrived from the client (`request.size` counts them).
    pub fn request_body_received(&self, bytes: usize) {
        self.request_body_bytes
            .set(self.request_body_bytes.get() + bytes as u64);
    }

    /// The answer is decided, before the response callbacks run: the upstream's (`details`
    /// `via_upstream`) or a local reply's (its details: `route_not_found`, a filter's own...).
    /// `response.code`, `response.code_details` and `response.flags` read it from the response
    /// callbacks on.
    pub fn answered(&self, code: u16, details: impl Into<Cow<'static, str>>) {
        self.response_code.set(Some(code));
        *self.code_details.borrow_mut() = details.into();
    }

    /// The response-header phase ended with `headers` as the filters left them: their
    /// `:status` (which a filter may have rewritten) becomes `response.code`, and
    /// `response.headers` reads them from now on, `on_log` included.
    pub fn response_headers_ended(&self, headers: HeaderMap) {
        self.response_status_ended(&headers);
        *self.response_headers.borrow_mut() = Some(headers);
    }

    /// The response-header phase ended and nothing will read the map: only its `:status`
    /// becomes `response.code`.
    pub fn response_status_ended(&self, headers: &HeaderMap) {
        let status = headers.get_str(":status").and_then(|s| s.parse().ok());
        if status.is_some() {
            self.response_code.set(status);
        }
    }

    /// A filter set Envoy's filter state `envoy.tcp_proxy.cluster`: a TCP listener connects to
    /// this cluster instead of its own, if it has not connected yet (as Envoy's `tcp_proxy`
    /// reads it when it connects). Recorded on an HTTP stream too, where nothing reads it, as in
    /// Envoy.
    pub fn tcp_proxy_cluster_chosen(&self, cluster: String) {
        *self.tcp_proxy_cluster.borrow_mut() = Some(cluster);
    }

    /// A TCP connection's upstream could not be had: `flag` is Envoy's `tcp_proxy` flag for why
    /// (`UH` no endpoint, `UF` the connection failed, `NC` no such cluster). A TCP connection has
    /// no answer to derive its flags from, so they are set as Envoy's `tcp_proxy` sets them.
    pub fn connection_failed(&self, flag: u64) {
        self.connection_flags
            .set(self.connection_flags.get() | flag);
    }

    /// Response body bytes went to the client (`response.size` counts them).
    pub fn response_body_sent(&self, bytes: usize) {
        self.response_body_bytes
            .set(self.response_body_bytes.get() + bytes as u64);
    }

    // Reads.

    /// The cluster a filter chose for this TCP connection, if one did.
    pub fn tcp_proxy_cluster(&self) -> Option<String> {
        self.tcp_proxy_cluster.borrow().clone()
    }

    /// The client's address (`source.*`).
    pub fn source(&self) -> SocketAddr {
        self.source
    }

    /// Our listener's address (`destination.*`).
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }

    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2` (`request.protocol`).
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// The downstream TLS session, when the listener terminates TLS.
    pub fn tls(&self) -> Option<&TlsSession> {
        self.tls.as_deref()
    }

    /// Local replies become gRPC errors.
    pub fn is_grpc(&self) -> bool {
        self.is_grpc
    }

    /// When the stream started, wall clock (`request.time`).
    pub fn start_time(&self) -> SystemTime {
        self.start
    }

    /// How long the stream has lasted (`request.duration`).
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Both maps once their phases ended, taken out to be lent to each filter's `on_log` in
    /// turn without a copy per filter; [`StreamInfo::restore_ended_headers`] puts them back for
    /// what reads them after (the access log).
    pub fn take_ended_headers(&self) -> (Option<HeaderMap>, Option<HeaderMap>) {
        (self.request_headers.take(), self.response_headers.take())
    }

    /// Puts back what [`StreamInfo::take_ended_headers`] took.
    pub fn restore_ended_headers(&self, request: Option<HeaderMap>, response: Option<HeaderMap>) {
        *self.request_headers.borrow_mut() = request;
        *self.response_headers.borrow_mut() = response;
    }

    /// The request headers once their phase ended ([`StreamInfo::request_headers_ended`]).
    pub fn request_headers(&self) -> Ref<'_, Option<HeaderMap>> {
        self.request_headers.borrow()
    }

    /// The response headers once their phase ended ([`StreamInfo::response_headers_ended`]).
    pub fn response_headers(&self) -> Ref<'_, Option<HeaderMap>> {
        self.response_headers.borrow()
    }

    /// The matched route's name; empty before routing.
    pub fn route_name(&self) -> Ref<'_, str> {
        Ref::map(self.route_name.borrow(), |name| {
            name.as_deref().unwrap_or("")
        })
    }

    /// The endpoint the request went to, once picked.
    pub fn upstream(&self) -> Option<SocketAddr> {
        self.upstream.get()
    }

    /// The upstream connection's TLS session, once a response came over one.
    pub fn upstream_tls(&self) -> Option<Arc<TlsSession>> {
        self.upstream_tls.borrow().clone()
    }

    /// The status sent to the client, once the answer is decided.
    pub fn response_code(&self) -> Option<u16> {
        self.response_code.get()
    }

    /// Why that answer (Envoy's `response.code_details`); empty before it is decided.
    pub fn code_details(&self) -> Ref<'_, str> {
        Ref::map(self.code_details.borrow(), |details| details.as_ref())
    }

    /// Envoy's `response.flags`: from the details, or as a TCP relay set them (0 until there are
    /// any).
    pub fn response_flags(&self) -> u64 {
        response_flags::of(&self.code_details()) | self.connection_flags.get()
    }

    /// Request body bytes received so far.
    pub fn request_body_bytes(&self) -> u64 {
        self.request_body_bytes.get()
    }

    /// Response body bytes sent so far.
    pub fn response_body_bytes(&self) -> u64 {
        self.response_body_bytes.get()
    }
}

#[cfg(test)]
mod tests;
