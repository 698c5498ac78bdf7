//! wasmesh-tests
