//! The demo configuration (`examples/demo/wasmesh.json`, wasmesh's embedded default) is valid:
//! `wasmesh check` parses it and loads every module it names.

use std::fs;
use std::process::Command;

use wasmesh_tests::{build_filters, target_dir, wasmesh_bin, workspace_root};

#[test]
fn demo_config_passes_wasmesh_check() {
    build_filters();
    let demo = workspace_root().join("examples/demo/wasmesh.json");
    let text = fs::read_to_string(&demo).expect("reading the demo config");
    // Its `.wasm` paths are relative to the root; point them at this build's target directory,
    // which may be elsewhere (CARGO_TARGET_DIR).
    let wasm_dir = target_dir().join("wasm32-wasip1").join("wasm");
    let text = text.replace("target/wasm32-wasip1/wasm", &wasm_dir.display().to_string());
    let dir = target_dir().join("e2e");
    fs::create_dir_all(&dir).expect("creating target/e2e");
    let config = dir.join(format!("demo-check-{}.json", std::process::id()));
    fs::write(&config, text).expect("writing the rewritten demo config");
    let output = Command::new(wasmesh_bin())
        .arg("check")
        .arg("-c")
        .arg(&config)
        .output()
        .expect("running wasmesh check");
    assert!(
        output.status.success(),
        "wasmesh check -c {} failed ({}):\n{}{}",
        config.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = fs::remove_file(&config);
}
