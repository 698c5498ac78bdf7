//! `cargo xtask dist [--out DIR] [--registry HOST/PATH]`: our filters as a user deploys them.
//! For each filter: `<name>.wasm`, `<name>.wasm.sha256` (`sha256sum`'s format), an OCI image
//! layout under `oci/<name>/` in the form Istio's WasmPlugin pulls (the "compat" variant of the
//! Wasm image spec: one `tar+gzip` layer holding `plugin.wasm`; [`oci`]), and a WasmPlugin
//! manifest under `wasmplugin/<name>.yaml` that pins the image by its manifest digest. The files
//! are reproducible: the same `.wasm` gives the same digests.

mod oci;
mod wasmplugin;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cmd::root;

/// Our filters: crate suffix and the Istio phase its WasmPlugin runs in.
pub const FILTERS: &[(&str, &str)] = &[
    ("headers", "UNSPECIFIED_PHASE"),
    ("ratelimit", "AUTHZ"),
    ("metrics", "STATS"),
    ("discovery", "UNSPECIFIED_PHASE"),
    ("failover", "UNSPECIFIED_PHASE"),
    ("lb", "UNSPECIFIED_PHASE"),
    ("authz", "AUTHZ"),
];

/// Where images are said to live in the manifests unless `--registry` says otherwise.
pub const DEFAULT_REGISTRY: &str = "registry.example.com/wasmesh";

/// `cargo xtask dist`: the examples with `--examples`, else everything under `out`.
pub fn run_task(out: &Path, registry: &str, examples: bool) -> anyhow::Result<()> {
    if !examples {
        return run(out, registry);
    }
    for (path, text) in self::examples() {
        write(&path, text.as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Builds the filters and writes everything under `out`.
pub fn run(out: &Path, registry: &str) -> anyhow::Result<()> {
    crate::filters::build()?;
    let version = env!("CARGO_PKG_VERSION");
    let built = root().join("target/wasm32-wasip1/wasm");
    println!(
        "{:<10} {:<64} IMAGE (manifest digest)",
        "FILTER", "SHA256 (.wasm)"
    );
    for (name, phase) in FILTERS {
        let module = built.join(format!("wasmesh_filter_{name}.wasm"));
        let bytes =
            std::fs::read(&module).with_context(|| format!("reading {}", module.display()))?;
        let wasm_sha = oci::sha256_hex(&bytes);
        write(&out.join(format!("{name}.wasm")), &bytes)?;
        write(
            &out.join(format!("{name}.wasm.sha256")),
            format!("{wasm_sha}  {name}.wasm\n").as_bytes(),
        )?;
        let image = oci::write_layout(&out.join("oci").join(name), &bytes, name, version)?;
        let manifest = wasmplugin::manifest(name, phase, registry, version, Some(&image));
        write(
            &out.join("wasmplugin").join(format!("{name}.yaml")),
            manifest.as_bytes(),
        )?;
        println!("{name:<10} {wasm_sha} {registry}/{name}:{version}@sha256:{image}");
    }
    println!(
        "\nwrote {} (push an image with e.g. `skopeo copy oci:{}/oci/<filter> docker://<registry>/<filter>:{version}`)",
        out.display(),
        out.display()
    );
    Ok(())
}

/// The committed examples (`envoy-configs/wasmplugin/`): the same manifests by tag, without a
/// digest (each build has its own; `cargo xtask dist` writes the pinned ones).
pub fn examples() -> Vec<(PathBuf, String)> {
    let version = env!("CARGO_PKG_VERSION");
    FILTERS
        .iter()
        .map(|(name, phase)| {
            let path = root()
                .join("envoy-configs/wasmplugin")
                .join(format!("{name}.yaml"));
            let text = wasmplugin::manifest(name, phase, DEFAULT_REGISTRY, version, None);
            (path, text)
        })
        .collect()
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
