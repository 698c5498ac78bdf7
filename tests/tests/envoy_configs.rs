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

/// The committed config declares one `stats_tags` entry per label of the metric naming
/// convention, with the regex the convention defines; a label added to the convention without
/// its tag would leave it inside Envoy's metric names.
#[test]
fn committed_example_tags_every_metric_label() {
    let path = workspace_root().join("envoy-configs/wasm-filter.yaml");
    let yaml = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    for label in wasmesh_common::metric_name::LABELS {
        let entry = format!(
            "{{ tag_name: {label}, regex: \"{}\" }}",
            wasmesh_common::metric_name::envoy_tag_regex(label)
        );
        assert!(yaml.contains(&entry), "{} lacks `{entry}`", path.display());
    }
}
