use std::io::Write;

use super::oci::{plugin_wasm, ImageRef};
use super::*;

#[test]
fn wasm_names_a_file_a_url_or_an_image() {
    let parse = |text: &str| ModuleSource::parse(Path::new(text));
    assert_eq!(
        parse("filters/x.wasm").unwrap(),
        ModuleSource::File("filters/x.wasm".into())
    );
    assert_eq!(
        parse("https://example.com/x.wasm").unwrap(),
        ModuleSource::Url("https://example.com/x.wasm".into())
    );
    let image = |registry: &str, repository: &str, reference: &str| ImageRef {
        registry: registry.into(),
        repository: repository.into(),
        reference: reference.into(),
    };
    assert_eq!(
        parse("oci://127.0.0.1:5000/wasmesh/headers:1.0").unwrap(),
        ModuleSource::Oci(image("127.0.0.1:5000", "wasmesh/headers", "1.0"))
    );
    assert_eq!(
        parse("oci://ghcr.io/acme/auth").unwrap(),
        ModuleSource::Oci(image("ghcr.io", "acme/auth", "latest"))
    );
    let digest = format!("sha256:{}", "ab".repeat(32));
    let pinned = parse(&format!("oci://ghcr.io/acme/auth@{digest}")).unwrap();
    assert_eq!(
        pinned,
        ModuleSource::Oci(image("ghcr.io", "acme/auth", &digest))
    );
    assert!(parse("oci://ghcr.io/acme/auth@sha256:abc").is_err());
    assert!(parse("oci://nothing").is_err());
    assert!(parse("ftp://example.com/x.wasm").is_err());
    assert!(ModuleSource::is_remote(Path::new("http://h/x.wasm")));
    assert!(!ModuleSource::is_remote(Path::new("x.wasm")));
}

fn layer(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, *bytes).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn the_compat_layer_gives_plugin_wasm_within_the_cap() {
    let wasm = b"\0asm\x01\0\0\0".as_slice();
    let found = plugin_wasm(&layer(&[("README", b"hi"), ("./plugin.wasm", wasm)]), 1024).unwrap();
    assert_eq!(found, wasm);
    let error = plugin_wasm(&layer(&[("other.wasm", wasm)]), 1024).unwrap_err();
    assert_eq!(error.to_string(), "the layer holds no plugin.wasm");
    let big = vec![0u8; 2048];
    let error = plugin_wasm(&layer(&[("plugin.wasm", &big)]), 1024).unwrap_err();
    assert!(
        error.to_string().contains("more than the cap of 1024"),
        "{error}"
    );
}

#[test]
fn the_cache_gives_back_only_what_still_matches_its_digest() {
    let dir = std::env::temp_dir().join(format!("wasmesh-fetched-test-{}", std::process::id()));
    let cache = cache::Fetched::new(&dir);
    let bytes = b"a module".as_slice();
    let digest = wasmesh_host::runtime::module_cache::sha256_hex(bytes);
    assert_eq!(cache.get(&digest), None);
    cache.put(&digest, bytes);
    assert_eq!(cache.get(&digest).as_deref(), Some(bytes));
    std::fs::write(
        dir.join("fetched").join(format!("sha256-{digest}")),
        b"tampered",
    )
    .unwrap();
    assert_eq!(cache.get(&digest), None, "a changed file is not used");
    let _ = std::fs::remove_dir_all(&dir);
}
