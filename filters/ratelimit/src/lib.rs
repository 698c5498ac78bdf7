//! wasmesh-filter-ratelimit
