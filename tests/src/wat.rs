//! The hand-written guests in `tests/guests/wat/`, assembled to `.wasm` for a test: modules
//! broken in ways the Rust SDK never produces (bad return values, missing exports).

use std::path::PathBuf;

use crate::paths::{target_dir, workspace_root};

/// Assembles `tests/guests/wat/<name>.wat` into `target/e2e/wat/<name>.wasm`; returns its path.
pub fn module(name: &str) -> PathBuf {
    let source = workspace_root()
        .join("tests/guests/wat")
        .join(format!("{name}.wat"));
    let bytes =
        wat::parse_file(&source).unwrap_or_else(|e| panic!("assembling {}: {e}", source.display()));
    let dir = target_dir().join("e2e").join("wat");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let path = dir.join(format!("{name}-{}.wasm", std::process::id()));
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}
