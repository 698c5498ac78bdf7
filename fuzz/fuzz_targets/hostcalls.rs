//! Hostcalls with arguments and guest memory of the fuzzer's choosing (see `src/hostcalls.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wasmesh_fuzz::hostcalls::abi().run(data);
});
