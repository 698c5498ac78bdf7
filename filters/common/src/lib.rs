//! wasmesh-common
