//! wasmesh-guest-abi-test: the proxy-wasm ABI exerciser used by the end-to-end tests that run
//! the same module in wasmesh and in Envoy and compare what a client sees.
//!
//! Each request picks a behaviour with the `x-abi-case` header (see `README.md` next to this
//! crate for every case, the request to send and the expected result). Results come back as
//! JSON local replies, response headers, or in what the echo backend saw.

mod case;
mod cases;
mod counter;
mod imports;
mod names;
mod probe;
mod raw;
mod report;
mod root;
mod singleton;
mod status;
mod stream;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Trace);
    proxy_wasm::set_root_context(|context_id| Box::new(root::AbiRoot::new(context_id)));
}}
