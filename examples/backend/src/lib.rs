//! wasmesh-backend
