//! wasmesh-filter-metrics: Linkerd-style golden metrics through the proxy-wasm metrics API
//! (`request_total`, `response_total`, `response_latency_ms`, `request_in_flight`,
//! `endpoint_response_total`, labels in the name as `wasmesh_contract::metric_name` says), W3C
//! `traceparent` propagation, a generated `x-request-id`, and, when `access_log` is on, one JSON
//! access-log line per request.
//!
//! The rules (routes, classification, label cap, trace context, the log line) live in
//! `wasmesh_common::metrics` and are tested natively; this crate reads headers and properties,
//! keeps the per-VM state and calls the metrics hostcalls. See the README.

mod host;
mod ids;
mod root;
mod state;
mod stream;
mod tracing;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::MetricsRoot::default()));
}}
