//! The committed Envoy examples (`envoy-configs/*.yaml`) are real configs: Envoy validates each,
//! which includes loading our `.wasm` modules and running their `on_configure`.

use wasmesh_tests::{build_filters, validate_example, workspace_root};

#[test]
fn committed_examples_validate() {
    build_filters();
    let dir = workspace_root().join("envoy-configs");
    let mut examples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty(), "no examples in {}", dir.display());
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|example| validate_example(example).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
