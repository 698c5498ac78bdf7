//! wasmesh-guest-abi-test
