//! wasmesh-filter-lb: picks the endpoint of every request and names it in a request header
//! (default `x-envoy-original-dst-host`) for the host's `ORIGINAL_DST` cluster to connect to.
//!
//! The policies and the configuration live in `wasmesh_common::lb` (natively tested); this
//! crate is the glue: read the configuration, keep one balancer per VM (per worker, as Envoy
//! keeps its balancers), feed it the endpoint set (static, or from shared data), and tell it
//! how each request went. See the README for the configuration and the metrics.

mod address_text;
mod hash_input;
mod health;
mod metrics;
mod root;
mod service;
mod stream;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|context_id| Box::new(root::LbRoot::new(context_id)));
}}
