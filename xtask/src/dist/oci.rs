//! An OCI image layout (<https://github.com/opencontainers/image-spec/blob/main/image-layout.md>)
//! holding one filter as Istio's WasmPlugin pulls it: the "compat" variant of the Wasm image
//! spec, a single `application/vnd.oci.image.layer.v1.tar+gzip` layer whose tar holds
//! `plugin.wasm`. Any registry client pushes it (`skopeo copy oci:DIR docker://...`), and the
//! tests push it to a real registry with plain registry API calls.
//!
//! Reproducible: the tar entry has mode 0644, owner 0 and mtime 0, the gzip header no time, the
//! JSON documents a fixed key order.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The layer's media type (the compat variant's, with OCI manifests).
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The image configuration's media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes the layout for `wasm` into `dir` (replacing what was there); returns the manifest's
/// digest (hex), the image's identity in a registry.
pub fn write_layout(dir: &Path, wasm: &[u8], name: &str, version: &str) -> anyhow::Result<String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).with_context(|| format!("creating {}", blobs.display()))?;
    let put = |bytes: &[u8]| -> anyhow::Result<String> {
        let digest = sha256_hex(bytes);
        std::fs::write(blobs.join(&digest), bytes)?;
        Ok(digest)
    };
    let tar = tar_of(wasm)?;
    let layer = gzip(&tar)?;
    let layer_digest = put(&layer)?;
    let config = serde_json::to_vec(&json!({
        "architecture": "wasm",
        "os": "wasip1",
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(&tar))] },
        "config": {},
    }))?;
    let config_digest = put(&config)?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": { "mediaType": CONFIG_MEDIA_TYPE, "digest": format!("sha256:{config_digest}"), "size": config.len() },
        "layers": [
            { "mediaType": LAYER_MEDIA_TYPE, "digest": format!("sha256:{layer_digest}"), "size": layer.len() },
        ],
        "annotations": {
            "org.opencontainers.image.title": format!("wasmesh {name} filter"),
            "org.opencontainers.image.version": version,
            "org.opencontainers.image.description": format!("proxy-wasm filter {name} (module sha256 {})", sha256_hex(wasm)),
        },
    }))?;
    let manifest_digest = put(&manifest)?;
    std::fs::write(
        dir.join("oci-layout"),
        serde_json::to_vec(&json!({ "imageLayoutVersion": "1.0.0" }))?,
    )?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": format!("sha256:{manifest_digest}"),
            "size": manifest.len(),
            "annotations": { "org.opencontainers.image.ref.name": version },
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec_pretty(&index)?)?;
    Ok(manifest_digest)
}

/// A tar with one entry, `plugin.wasm`.
fn tar_of(wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(wasm.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, "plugin.wasm", wasm)?;
    Ok(builder.into_inner()?)
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}
