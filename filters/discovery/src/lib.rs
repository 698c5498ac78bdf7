//! wasmesh-filter-discovery: a root context that, on its tick, asks each configured registry for
//! a service's endpoints (`dispatch_http_call` to a cluster of the host) and publishes the set
//! to shared data at `wasmesh.v1.endpoints.<service>` for `lb` and `failover`.
//!
//! The registry formats, change detection and the stale/backoff rules live in
//! `wasmesh_common::discovery` (natively tested); this crate is the ABI glue. Its HTTP streams
//! do nothing: it sits in a listener's chain only so that both hosts run its root context.

mod metrics;
mod publish;
mod root;
mod service;
mod stream;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|context_id| Box::new(root::DiscoveryRoot::new(context_id)));
}}
