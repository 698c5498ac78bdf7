//! wasmesh-filter-failover: outlier detection and retries, in front of `lb`.
//!
//! Placed before `lb` in the chain, it sees each response after `lb` did. It records every
//! outcome per endpoint (consecutive 5xx / gateway failures), writes ejections to the shared
//! health document `lb` honours, and retries an idempotent request that failed (its body
//! replayed, up to a limit) on a *different* healthy endpoint with an `http_call` to the
//! `ORIGINAL_DST` cluster, after a jittered backoff, within a retry budget, replacing the
//! failed response with the retry's. An overall request timeout answers 504. The rules live in
//! `wasmesh_common::failover` (natively tested); see the README for configuration and the
//! differences between hosts.

mod effects;
mod metrics;
mod reply;
mod root;
mod service;
mod shared;
mod stream;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|context_id| Box::new(root::FailoverRoot::new(context_id)));
}}
