//! Where this example's filter is: the tests in `tests/` load it from here.

use std::path::PathBuf;

/// The `ratelimit` filter as `cargo xtask build-filters` builds it. A test of your own filter
/// names your `.wasm` instead (e.g. `target/wasm32-wasip1/release/my_filter.wasm`).
pub fn ratelimit_wasm() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/wasm32-wasip1/wasm/wasmesh_filter_ratelimit.wasm");
    assert!(
        path.exists(),
        "{} is missing: build the filters first (`cargo xtask build-filters`)",
        path.display()
    );
    path
}
