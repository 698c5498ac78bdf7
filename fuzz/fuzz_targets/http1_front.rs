//! Raw bytes to a wasmesh listener, as a client would send them (see `src/front.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmesh_fuzz::front::front().run(data));
