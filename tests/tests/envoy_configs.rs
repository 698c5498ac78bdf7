//! The committed Envoy examples (`envoy-configs/*.yaml`) are real configs: Envoy validates each,
//! which includes loading our `.wasm` modules and running their `on_configure`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wasmesh_tests::scenarios::reload::replace_file;
use wasmesh_tests::{
    build_filters, client, poll_until, target_dir, validate_example, workspace_root,
};
use wasmesh_tests::{Backend, Envoy};

#[test]
fn committed_examples_validate() {
    build_filters();
    let dir = workspace_root().join("envoy-configs");
    let mut examples = yaml_files(&dir);
    assert!(!examples.is_empty(), "no examples in {}", dir.display());
    // Bootstraps only: the ECDS files in hot-swap/live and hot-swap/versions are not, and
    // validation does not read them (hot_swap_example_swaps_each_committed_version does).
    examples.extend(yaml_files(&dir.join("hot-swap")));
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|example| validate_example(example).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The `*.yaml` files directly in `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

/// `envoy-configs/hot-swap/` as its README runs it: Envoy started on the committed bootstrap
/// and live ECDS file, then each committed version renamed over the live file; responses show
/// each version's marker. Fixed ports and the demo's backends are swapped for ephemeral ones.
#[test]
fn hot_swap_example_swaps_each_committed_version() {
    let filters = build_filters();
    let backends = [
        Backend::start("b1"),
        Backend::start("b2"),
        Backend::start("b3"),
    ];
    let example = workspace_root().join("envoy-configs/hot-swap");
    let wasm_dir = filters
        .headers
        .parent()
        .expect("the wasm directory")
        .to_path_buf();
    assert_eq!(wasm_dir, target_dir().join("wasm32-wasip1").join("wasm"));
    // The ECDS files: module paths to this build, the lb endpoints (demo's b2, b3) to ours.
    let ecds = |name: &str| {
        let mut text = read(&example.join(name));
        text = text.replace(
            "filename: target/wasm32-wasip1/wasm/",
            &format!("filename: {}/", wasm_dir.display()),
        );
        for (demo, backend) in ["127.0.0.1:8082", "127.0.0.1:8083"]
            .iter()
            .zip(&backends[1..])
        {
            text = text.replace(demo, &backend.addr.to_string());
        }
        text
    };
    let mut bootstrap = read(&example.join("envoy.yaml"));
    for (from, to) in [
        ("port_value: 10002", "port_value: 0".to_string()),
        ("port_value: 9903", "port_value: 0".to_string()),
        (
            "port_value: 8081",
            format!("port_value: {}", backends[0].addr.port()),
        ),
        // Envoy runs in its own directory: the live file is copied there.
        ("envoy-configs/hot-swap/live", "live".to_string()),
    ] {
        assert!(bootstrap.contains(from), "envoy.yaml has no `{from}`");
        bootstrap = bootstrap.replace(from, &to);
    }
    let live = ecds("live/swapped.yaml");
    let proxy =
        Envoy::try_start_with_files(bootstrap, &[("live/swapped.yaml", live.as_bytes())], 1)
            .unwrap_or_else(|e| panic!("{e}"));
    let url = proxy.url("main", "/hello");
    let expect = [
        (
            "versions/lb.yaml",
            vec![backends[1].addr.to_string(), backends[2].addr.to_string()],
        ),
        ("versions/headers.yaml", vec!["headers-v1".to_string()]),
    ];
    assert_eq!(
        version_served(&url),
        "headers-v1",
        "the live file's version at start"
    );
    for (version, markers) in expect {
        replace_file(
            &proxy.run_dir().join("live/swapped.yaml"),
            ecds(version).as_bytes(),
        );
        poll_until(version, Duration::from_secs(30), || {
            let marker = version_served(&url);
            match markers.contains(&marker) {
                true => Ok(()),
                false => Err(format!("x-version {marker:?}, want one of {markers:?}")),
            }
        });
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The `x-version` of a `200` from `url`.
fn version_served(url: &str) -> String {
    let response = client::get(url, &[]);
    assert_eq!(response.status, 200, "{url}: {}", response.text());
    response.header("x-version").unwrap_or_default().to_string()
}

/// The committed config declares one `stats_tags` entry per label of the metric naming
/// convention, with the regex the convention defines; a label added to the convention without
/// its tag would leave it inside Envoy's metric names.
#[test]
fn committed_example_tags_every_metric_label() {
    let path = workspace_root().join("envoy-configs/wasm-filter.yaml");
    let yaml = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    for label in wasmesh_contract::metric_name::LABELS {
        let entry = format!(
            "{{ tag_name: {label}, regex: \"{}\" }}",
            wasmesh_contract::metric_name::envoy_tag_regex(label)
        );
        assert!(yaml.contains(&entry), "{} lacks `{entry}`", path.display());
    }
}
