//! Admission control shared by every worker: the counts that listener connection limits and
//! cluster circuit breakers are checked against, the counters of what they turned away, and the
//! other per-listener counters of connections (TLS handshakes, TCP listeners' connections).
//! Limits come from each generation's configuration; the counts live here, keyed by name, so a
//! reload that changes a threshold keeps the connections and requests already counted.

pub mod cluster;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use cluster::{ClusterLoad, Overflow, Permit};
use wasmesh_host::state::labelled::LabelledCounter;

/// The process's admission state.
pub struct Overload {
    listeners: Mutex<HashMap<String, Arc<AtomicUsize>>>,
    clusters: Mutex<HashMap<String, Arc<ClusterLoad>>>,
    /// Connections a listener closed at once for `max_connections`.
    pub listener_overflow: LabelledCounter,
    /// Times a cluster's `max_connections` were open when a request needed one more (it
    /// waited as pending, or was answered 503 if none freed up).
    pub cx_overflow: LabelledCounter,
    /// Requests a cluster's `max_pending_requests` turned away.
    pub pending_overflow: LabelledCounter,
    /// Requests a cluster's `max_requests` turned away.
    pub requests_overflow: LabelledCounter,
    /// Destinations an `original_dst` cluster refused (outside `allowed_destinations`).
    pub destination_refused: LabelledCounter,
    /// Downstream connections closed for what the client sent, by reason.
    pub protocol_errors: LabelledCounter,
    /// Downstream TLS handshakes finished, by listener.
    pub tls_handshakes: LabelledCounter,
    /// Downstream TLS handshakes that failed or timed out, by reason.
    pub tls_handshake_errors: LabelledCounter,
    /// Access-log lines dropped because the log's writer was that far behind, by listener.
    pub access_log_dropped: LabelledCounter,
    /// TCP listeners' connections that ended, by listener.
    pub tcp_connections: LabelledCounter,
    /// Bytes TCP listeners received from their clients, by listener.
    pub tcp_received_bytes: LabelledCounter,
    /// Bytes TCP listeners sent to their clients, by listener.
    pub tcp_sent_bytes: LabelledCounter,
    /// TCP connections closed because no upstream connection could be made, by listener.
    pub tcp_connect_failures: LabelledCounter,
    /// TCP connections closed for being idle, by listener.
    pub tcp_idle_timeouts: LabelledCounter,
}

impl Default for Overload {
    fn default() -> Self {
        Overload {
            listeners: Mutex::new(HashMap::new()),
            clusters: Mutex::new(HashMap::new()),
            listener_overflow: LabelledCounter::new(
                "wasmesh_listener_connections_overflow_total",
                "Connections closed as soon as they were accepted: the listener had max_connections open (Envoy: downstream_cx_overflow).",
                "listener",
            ),
            cx_overflow: LabelledCounter::new(
                "wasmesh_upstream_cx_overflow_total",
                "Times a request needed a connection while the cluster had circuit_breakers.max_connections open (Envoy: upstream_cx_overflow).",
                "cluster",
            ),
            pending_overflow: LabelledCounter::new(
                "wasmesh_upstream_rq_pending_overflow_total",
                "Requests answered 503 because circuit_breakers.max_pending_requests were already waiting for a connection (Envoy: upstream_rq_pending_overflow).",
                "cluster",
            ),
            requests_overflow: LabelledCounter::new(
                "wasmesh_upstream_rq_overflow_total",
                "Requests answered 503 because circuit_breakers.max_requests were outstanding (Envoy counts these in upstream_rq_pending_overflow).",
                "cluster",
            ),
            destination_refused: LabelledCounter::new(
                "wasmesh_original_dst_refused_total",
                "Requests answered 503 because a filter chose a destination outside the cluster's allowed_destinations.",
                "cluster",
            ),
            protocol_errors: LabelledCounter::new(
                "wasmesh_downstream_protocol_errors_total",
                "Downstream connections closed for what the client sent: the GOAWAY reason wasmesh's h2 codec sent (enhance_your_calm for rapid resets and CONTINUATION floods, protocol_error, ...), control_frame_flood, or http1_parse (Envoy: downstream_cx_protocol_error and the http2.* flood counters).",
                "reason",
            ),
            tls_handshakes: LabelledCounter::new(
                "wasmesh_downstream_tls_handshakes_total",
                "TLS handshakes finished on a TLS listener (Envoy: listener ssl.handshake).",
                "listener",
            ),
            tls_handshake_errors: LabelledCounter::new(
                "wasmesh_downstream_tls_handshake_errors_total",
                "Downstream TLS handshakes that did not finish, by reason: timeout, not_tls (plain text or garbage on a TLS port), no_client_certificate, bad_client_certificate (untrusted, expired, ...), alert_received (the client refused ours), incompatible (no common version or cipher), protocol_error, closed (Envoy: ssl.connection_error, ssl.fail_verify_no_cert, ssl.fail_verify_error).",
                "reason",
            ),
            access_log_dropped: LabelledCounter::new(
                "wasmesh_access_log_dropped_total",
                "Access-log lines dropped because the file's writer had 16 384 lines queued (a disk slower than the traffic); requests never wait for the log.",
                "listener",
            ),
            tcp_connections: LabelledCounter::new(
                "wasmesh_tcp_connections_total",
                "Connections a TCP listener (tcp_proxy) relayed, counted when they end (Envoy: tcp.<prefix>.downstream_cx_total).",
                "listener",
            ),
            tcp_received_bytes: LabelledCounter::new(
                "wasmesh_tcp_received_bytes_total",
                "Bytes TCP listeners received from their clients, counted when a connection ends (Envoy: tcp.<prefix>.downstream_cx_rx_bytes_total).",
                "listener",
            ),
            tcp_sent_bytes: LabelledCounter::new(
                "wasmesh_tcp_sent_bytes_total",
                "Bytes TCP listeners sent to their clients, counted when a connection ends (Envoy: tcp.<prefix>.downstream_cx_tx_bytes_total).",
                "listener",
            ),
            tcp_connect_failures: LabelledCounter::new(
                "wasmesh_tcp_upstream_connect_failures_total",
                "TCP connections closed because the cluster had no endpoint or none could be connected (Envoy: the cluster's upstream_cx_connect_fail).",
                "listener",
            ),
            tcp_idle_timeouts: LabelledCounter::new(
                "wasmesh_tcp_idle_timeouts_total",
                "TCP connections closed after idle_timeout_ms without a byte either way (Envoy: tcp.<prefix>.idle_timeout).",
                "listener",
            ),
        }
    }
}

impl Overload {
    /// The open-connection count of listener `name` (shared by every worker's accept loop).
    pub fn listener(&self, name: &str) -> Arc<AtomicUsize> {
        let mut listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        listeners.entry(name.to_string()).or_default().clone()
    }

    /// Downstream connections open now, over every listener.
    pub fn open_connections(&self) -> usize {
        let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        listeners
            .values()
            .map(|open| open.load(Ordering::Relaxed))
            .sum()
    }

    /// The load of cluster `name` (shared by every worker's client for it).
    pub fn cluster(&self, name: &str) -> Arc<ClusterLoad> {
        let mut clusters = self.clusters.lock().unwrap_or_else(|e| e.into_inner());
        clusters.entry(name.to_string()).or_default().clone()
    }

    /// Counts a request a circuit breaker turned away.
    pub fn count_overflow(&self, cluster: &str, overflow: Overflow) {
        match overflow {
            Overflow::Connections => self.cx_overflow.inc(cluster),
            Overflow::Pending => self.pending_overflow.inc(cluster),
            Overflow::Requests => self.requests_overflow.inc(cluster),
        }
    }

    /// Appends every family in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        for counter in [
            &self.listener_overflow,
            &self.cx_overflow,
            &self.pending_overflow,
            &self.requests_overflow,
            &self.destination_refused,
            &self.protocol_errors,
            &self.tls_handshakes,
            &self.tls_handshake_errors,
            &self.access_log_dropped,
            &self.tcp_connections,
            &self.tcp_received_bytes,
            &self.tcp_sent_bytes,
            &self.tcp_connect_failures,
            &self.tcp_idle_timeouts,
        ] {
            counter.render(out);
        }
    }
}

/// A connection counted against its listener's `max_connections` until dropped.
pub struct ConnectionSlot(Arc<AtomicUsize>);

impl ConnectionSlot {
    /// Counts one more connection in `open` if fewer than `max` are open (any number when
    /// `max` is `None`).
    pub fn take(open: &Arc<AtomicUsize>, max: Option<u32>) -> Option<ConnectionSlot> {
        let max = max.map_or(usize::MAX, |m| m as usize);
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| ConnectionSlot(open.clone()))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
