//! `cargo xtask dist`: each filter's `.wasm` and sha256, an OCI image layout in the form Istio's
//! WasmPlugin pulls (one `tar+gzip` layer holding `plugin.wasm`), pushed to a real registry
//! (Debian's `docker-registry`) with plain registry API calls and read back by tag as Istio's
//! fetcher reads it; and the committed WasmPlugin examples are what the task writes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wasmesh_tests::oci_registry::OciRegistry;
use wasmesh_tests::{build_filters, sha256_hex, target_dir, workspace_root};

const FILTERS: [&str; 7] = [
    "headers",
    "ratelimit",
    "metrics",
    "discovery",
    "failover",
    "lb",
    "authz",
];
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `cargo xtask dist --out <dir>` and returns the dir.
fn dist() -> PathBuf {
    let out = target_dir().join("dist-test");
    let output = Command::new(env!("CARGO"))
        .args(["xtask", "dist", "--out"])
        .arg(&out)
        .current_dir(workspace_root())
        .output()
        .expect("running cargo xtask dist");
    assert!(
        output.status.success(),
        "cargo xtask dist failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// The one file in a `tar+gzip` layer, by name, as Istio's fetcher finds `plugin.wasm`.
fn unpack(layer: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    archive
        .entries()
        .expect("a tar")
        .map(|entry| {
            let mut entry = entry.expect("an entry");
            let name = entry.path().expect("a path").display().to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("its bytes");
            (name, bytes)
        })
        .collect()
}

#[test]
fn dist_writes_modules_digests_and_images_a_registry_serves() {
    let filters = build_filters();
    let out = dist();
    let registry = OciRegistry::start();
    for name in FILTERS {
        let built_path = filters
            .headers
            .with_file_name(format!("wasmesh_filter_{name}.wasm"));
        let built = read(&built_path);
        assert!(
            read(&out.join(format!("{name}.wasm"))) == built,
            "{name}.wasm is the build"
        );
        let sums = String::from_utf8(read(&out.join(format!("{name}.wasm.sha256")))).expect("text");
        assert_eq!(sums, format!("{}  {name}.wasm\n", sha256_hex(&built)));

        // The layout: index → manifest → config and one layer, each blob named by its digest.
        let layout = out.join("oci").join(name);
        let blob = |digest: &str| {
            let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
            let bytes = read(&layout.join("blobs/sha256").join(hex));
            assert_eq!(
                sha256_hex(&bytes),
                hex,
                "blob {digest} holds what its name says"
            );
            bytes
        };
        let index: Value = serde_json::from_slice(&read(&layout.join("index.json"))).expect("JSON");
        let entry = &index["manifests"][0];
        assert_eq!(entry["mediaType"], MANIFEST_TYPE);
        assert_eq!(
            entry["annotations"]["org.opencontainers.image.ref.name"],
            "0.1.0"
        );
        let manifest_digest = entry["digest"].as_str().expect("a digest");
        let manifest_bytes = blob(manifest_digest);
        let manifest: Value = serde_json::from_slice(&manifest_bytes).expect("JSON");
        let layers = manifest["layers"].as_array().expect("layers");
        assert_eq!(
            layers.len(),
            1,
            "{name}: one layer, as the compat variant requires"
        );
        assert_eq!(
            layers[0]["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        let layer = blob(layers[0]["digest"].as_str().expect("a digest"));
        assert_eq!(layers[0]["size"], layer.len());
        let files = unpack(&layer);
        assert_eq!(
            files.len(),
            1,
            "{name}: {:?}",
            files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        assert_eq!(files[0].0, "plugin.wasm");
        assert!(files[0].1 == built, "{name}: plugin.wasm is the build");
        let config = blob(manifest["config"]["digest"].as_str().expect("a digest"));
        let config: Value = serde_json::from_slice(&config).expect("JSON");
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&layer[..])
            .read_to_end(&mut tar)
            .expect("gunzip");
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            format!("sha256:{}", sha256_hex(&tar))
        );

        // Pushed to a real registry and read back by tag, the way a WasmPlugin pulls it.
        let repository = format!("wasmesh/{name}");
        for descriptor in [&manifest["config"], &layers[0]] {
            let digest = descriptor["digest"].as_str().expect("a digest");
            registry.push_blob(&repository, &blob(digest), &digest[7..]);
        }
        let pushed = registry.push_manifest(&repository, "0.1.0", &manifest_bytes, MANIFEST_TYPE);
        assert_eq!(
            pushed, manifest_digest,
            "{name}: the registry's digest is the layout's"
        );
        let pulled = registry.manifest(&repository, "0.1.0", MANIFEST_TYPE);
        assert_eq!(pulled.status, 200);
        assert_eq!(
            pulled.header("docker-content-digest"),
            Some(manifest_digest)
        );
        assert!(
            pulled.body == manifest_bytes,
            "{name}: the manifest comes back as pushed"
        );
        let fetched = registry.blob(
            &repository,
            &layers[0]["digest"].as_str().expect("digest")[7..],
        );
        assert_eq!(fetched.status, 200);
        assert!(
            unpack(&fetched.body)[0].1 == built,
            "{name}: the module comes back"
        );

        // The manifest `dist` wrote pins this image; the committed example is the same by tag.
        let written = String::from_utf8(read(&out.join("wasmplugin").join(format!("{name}.yaml"))))
            .expect("text");
        let pin = format!("  sha256: {}\n", &manifest_digest[7..]);
        assert!(written.contains(&pin), "{written}");
        assert!(
            written.contains(&format!(
                "  url: oci://registry.example.com/wasmesh/{name}:0.1.0\n"
            )),
            "{written}"
        );
        let example_path = workspace_root()
            .join("envoy-configs/wasmplugin")
            .join(format!("{name}.yaml"));
        let example = String::from_utf8(read(&example_path)).expect("text");
        let unpinned = written.replace(
            &pin,
            "  # sha256: the manifest digest `cargo xtask dist` prints for this image\n",
        );
        assert_eq!(
            example,
            unpinned,
            "{}: run `cargo xtask dist --examples` to refresh it",
            example_path.display()
        );
    }
    // The same build gives the same images.
    let again = dist();
    for name in FILTERS {
        let index = |dir: &Path| read(&dir.join("oci").join(name).join("index.json"));
        assert!(index(&out) == index(&again), "{name}: reproducible");
    }
}
