//! wasmesh-guest-misbehave: a proxy-wasm module that breaks on purpose, so the end-to-end tests
//! can show that one broken VM costs one request (and its `fail_open` outcome), never the host.
//!
//! The request header `x-misbehave` picks the misbehaviour; the plugin and VM configuration can
//! make start-up fail. `README.md` next to this crate lists every case and what a host should do.

mod flood;
mod fuzz;
mod raw;
mod root;
mod stream;
mod wasi;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::MisbehaveRoot));
}}
