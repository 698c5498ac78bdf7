//! wasmesh host
