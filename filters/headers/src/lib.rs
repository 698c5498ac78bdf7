//! wasmesh-filter-headers: a proxy-wasm HTTP filter that adds, replaces and removes request and
//! response headers, as configured (see `wasmesh_common::headers` for the JSON format).
//!
//! The configuration is parsed once per root context in `on_configure`; a bad one is logged
//! with the field path and refused, so the host never runs the filter half-configured.

mod filter;
mod mutate;
mod root;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_context_id| Box::new(root::HeadersRoot::default()));
}}
