//! wasmesh-filter-ratelimit: a local rate limiter whose token buckets live in proxy-wasm shared
//! data, so every worker (and every VM of the same VM id) draws from the same buckets.
//!
//! Configuration (see `wasmesh_common::ratelimit::config`):
//! `{"tokens_per_second": 10, "burst": 20, "key": "global" | "header:<name>", "status": 429}`.
//! A limited request gets a local reply (`status`, body `rate limited\n`, `retry-after`,
//! `x-ratelimit-limit: <burst>`); counters `ratelimit_allowed_total` and
//! `ratelimit_limited_total` count the outcomes.

mod limiter;
mod metrics;
mod root;
mod salt;
mod store;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_context_id| Box::new(root::RateLimitRoot::default()));
}}
