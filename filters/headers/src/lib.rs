//! wasmesh-filter-headers
