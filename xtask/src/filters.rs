//! Building the wasm filters, the same way the test rig does.

use crate::cmd::{cargo, run};

/// The crates compiled to `wasm32-wasip1`.
pub const WASM_CRATES: [&str; 3] = [
    "wasmesh-filter-headers",
    "wasmesh-filter-ratelimit",
    "wasmesh-guest-abi-test",
];

/// `cargo build --profile wasm --target wasm32-wasip1 -p <each filter>`.
pub fn build() -> anyhow::Result<()> {
    let mut args = vec!["build", "--profile", "wasm", "--target", "wasm32-wasip1"];
    for krate in WASM_CRATES {
        args.extend(["-p", krate]);
    }
    run(&mut cargo(args))
}
