//! Modules named by URL (`http://…` with `sha256`) or by image in a real OCI registry
//! (`oci://…:tag`, `oci://…@sha256:…`, both forms Istio pulls): the module is fetched while the
//! generation is built, checked against its digest, kept in the module cache; a digest that
//! does not match, a server that hangs, a module over the cap, an unreachable server or a
//! missing image refuse the configuration, naming the cause, and a running wasmesh keeps
//! serving the one it had. wasmesh only here; `envoy_remote_modules.rs` loads the same URL
//! through Envoy's `remote` data source.

pub mod registry_access;

use std::ffi::OsStr;
use std::io::Write;

use serde_json::{json, Value};

use crate::client;
use crate::oci_registry::OciRegistry;
use crate::static_server::{Answer, StaticServer};
use crate::{build_filters, Backend, BackendHandle, Cluster, MeshConfig, Plugin, Proxy};
use crate::{sha256_hex, Wasmesh};

/// The response header the `headers` filter adds here.
pub const MARK: (&str, &str) = ("x-fetched", "yes");

/// The built `headers` filter.
pub fn headers_module() -> Vec<u8> {
    std::fs::read(&build_filters().headers).expect("the headers filter")
}

/// A listener `main` whose filter `headers` (module `wasm`, pinned by `sha256`) adds [`MARK`]
/// to responses; `fetch` is `plugins[0].fetch` when given.
pub fn config(
    backend: &BackendHandle,
    wasm: &str,
    sha256: Option<&str>,
    fetch: Option<Value>,
) -> Value {
    let filters = build_filters();
    let configuration = json!({ "response": { "add": { MARK.0: MARK.1 } } });
    let headers = Plugin::new("headers", &filters.headers).configuration(configuration);
    let mut config = MeshConfig::single(vec![headers], [backend.addr])
        .workers(1)
        .to_wasmesh_json();
    config["plugins"][0]["wasm"] = json!(wasm);
    if let Some(sha256) = sha256 {
        config["plugins"][0]["sha256"] = json!(sha256);
    }
    if let Some(fetch) = fetch {
        config["plugins"][0]["fetch"] = fetch;
    }
    config
}

/// Starts wasmesh with a module cache of its own (so what one test fetched is not another's).
pub fn start(config: Value) -> Proxy {
    let cache = crate::process::run_dir("module-cache");
    Wasmesh::try_start_with_env(config, &[("WASMESH_CACHE_DIR", OsStr::new(&cache))])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The proxy serves with the fetched filter in its chain.
pub fn assert_filter_runs(proxy: &Proxy) {
    let response = client::get(&proxy.url("main", "/"), &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header(MARK.0),
        Some(MARK.1),
        "the fetched filter ran"
    );
}

/// `POST /reload` after writing `config` over the proxy's file: the status and body.
pub fn reload_with(proxy: &Proxy, config: &Value) -> (u16, String) {
    super::reload::rewrite_config(proxy, config);
    let response = client::post(&format!("http://{}/reload", proxy.admin_addr()), &[], "");
    (response.status.as_u16(), response.text())
}

/// `plugins[0]`'s module digest as the live view reports it.
pub fn served_sha256(proxy: &Proxy) -> String {
    let data = proxy.admin_get("/ui/data").json();
    data["plugins"][0]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// By URL with its sha256: fetched once, served, shown with its digest; a reload with the
/// server gone still builds (the cache has it, checked against the digest).
pub fn module_by_url_is_fetched_checked_and_cached() {
    let module = headers_module();
    let sha = sha256_hex(&module);
    let server = StaticServer::start(vec![("/headers.wasm", Answer::Bytes(module))]);
    let backend = Backend::start("b1");
    let config = config(&backend, &server.url("/headers.wasm"), Some(&sha), None);
    let proxy = start(config.clone());
    assert_filter_runs(&proxy);
    assert_eq!(served_sha256(&proxy), sha);
    assert_eq!(server.requests(), 1, "fetched once, at start");
    drop(server);
    let mut changed = config;
    changed["plugins"][0]["configuration"]["response"]["add"]["x-second"] = json!("generation");
    let (status, body) = reload_with(&proxy, &changed);
    assert_eq!(status, 200, "the cached module serves the reload: {body}");
    let response = client::get(&proxy.url("main", "/"), &[]);
    assert_eq!(response.header("x-second"), Some("generation"));
}

/// Every bad fetch refuses the reload, naming its cause, and the running generation serves on.
pub fn bad_fetches_are_refused_and_the_running_module_serves_on() {
    let module = headers_module();
    let sha = sha256_hex(&module);
    // What the failing cases pin: not the served module (whose digest the cache holds once it
    // is fetched, so a fetch by it would not go out), as a config pinning a new build would.
    let other = sha256_hex(&[module.as_slice(), b"\0"].concat());
    let server = StaticServer::start(vec![
        ("/headers.wasm", Answer::Bytes(module.clone())),
        ("/hang.wasm", Answer::Hang),
        ("/huge.wasm", Answer::Endless(1 << 30)),
    ]);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("its address")
    };
    let backend = Backend::start("b1");
    let proxy = start(config(
        &backend,
        &server.url("/headers.wasm"),
        Some(&sha),
        None,
    ));
    let fast = Some(json!({ "timeout_ms": 500, "max_mb": 1 }));
    let cases = [
        (
            server.url("/headers.wasm"),
            Some(other.as_str()),
            None,
            vec!["sha256 mismatch for http://", "`plugins[0].sha256` says"],
        ),
        (
            server.url("/hang.wasm"),
            Some(other.as_str()),
            fast.clone(),
            vec!["/hang.wasm", "timed out after 500ms"],
        ),
        (
            server.url("/huge.wasm"),
            Some(other.as_str()),
            fast.clone(),
            vec!["/huge.wasm", "more than 1048576 bytes"],
        ),
        (
            format!("http://{closed}/headers.wasm"),
            Some(other.as_str()),
            fast,
            vec!["fetching http://", "onnection refused"],
        ),
        (
            server.url("/missing.wasm"),
            Some(other.as_str()),
            None,
            vec!["answered 404"],
        ),
        (
            server.url("/headers.wasm"),
            None,
            None,
            vec![
                "config error at `plugins[0].sha256`: a module fetched from a URL needs its sha256",
            ],
        ),
        (
            "ftp://example.com/x.wasm".to_string(),
            None,
            None,
            vec!["config error at `plugins[0].wasm`: unknown scheme"],
        ),
    ];
    for (url, sha256, fetch, needles) in cases {
        let (status, body) = reload_with(&proxy, &config(&backend, &url, sha256, fetch));
        eprintln!("{url}: {status} {body}");
        assert_eq!(status, 400, "{url}: {body}");
        for needle in needles {
            assert!(body.contains(needle), "{url}: no {needle:?} in {body}");
        }
        assert_eq!(proxy.admin_get("/config").json()["generation"], 1, "{url}");
        assert_filter_runs(&proxy);
    }
}

/// The image forms: the compat variant (one `tar+gzip` layer holding `plugin.wasm`, as
/// `cargo xtask dist` writes it) and the oci variant (a raw wasm layer).
#[derive(Clone, Copy, Debug)]
pub enum ImageForm {
    /// `application/vnd.oci.image.layer.v1.tar+gzip` holding `plugin.wasm`.
    Compat,
    /// `application/vnd.module.wasm.content.layer.v1+wasm`.
    WasmLayer,
    /// A layer of another type (`application/octet-stream`): not a Wasm image.
    Other,
}

/// Pushes `wasm` as `repository:tag` in `form`; returns the manifest's digest (hex).
pub fn push_image(
    registry: &OciRegistry,
    repository: &str,
    tag: &str,
    wasm: &[u8],
    form: ImageForm,
) -> String {
    let (layer, layer_type, config, config_type) = match form {
        ImageForm::Compat => {
            let mut tar = tar::Builder::new(Vec::new());
            let mut header = tar::Header::new_ustar();
            header.set_size(wasm.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, "plugin.wasm", wasm)
                .expect("a tar entry");
            let tar = tar.into_inner().expect("a tar");
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&tar).expect("gzip");
            let config = json!({ "architecture": "wasm", "os": "wasip1",
                "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(&tar))] } });
            (
                gz.finish().expect("gzip"),
                "application/vnd.oci.image.layer.v1.tar+gzip",
                config.to_string().into_bytes(),
                "application/vnd.oci.image.config.v1+json",
            )
        }
        ImageForm::WasmLayer | ImageForm::Other => (
            wasm.to_vec(),
            if matches!(form, ImageForm::Other) {
                "application/octet-stream"
            } else {
                "application/vnd.module.wasm.content.layer.v1+wasm"
            },
            b"{}".to_vec(),
            "application/vnd.module.wasm.config.v1+json",
        ),
    };
    for blob in [&layer, &config] {
        registry.push_blob(repository, blob, &sha256_hex(blob));
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": config_type, "digest": format!("sha256:{}", sha256_hex(&config)), "size": config.len() },
        "layers": [{ "mediaType": layer_type, "digest": format!("sha256:{}", sha256_hex(&layer)), "size": layer.len() }],
    })
    .to_string()
    .into_bytes();
    let digest = registry.push_manifest(
        repository,
        tag,
        &manifest,
        "application/vnd.oci.image.manifest.v1+json",
    );
    digest.trim_start_matches("sha256:").to_string()
}

/// From a real registry: by tag pinned by `sha256` and by `@sha256:` digest, in both image
/// forms; the module served is the one pushed. A wrong digest, a digest or tag the registry
/// does not have, an image whose `plugin.wasm` is not wasm and one without a Wasm layer are
/// refused, naming the cause.
pub fn module_from_an_oci_registry() {
    let module = headers_module();
    let registry = OciRegistry::start();
    let compat = push_image(
        &registry,
        "wasmesh/headers",
        "1.0",
        &module,
        ImageForm::Compat,
    );
    let raw = push_image(
        &registry,
        "wasmesh/headers-raw",
        "1.0",
        &module,
        ImageForm::WasmLayer,
    );
    let backend = Backend::start("b1");
    let host = registry.addr;
    let proxy = start(config(
        &backend,
        &format!("oci://{host}/wasmesh/headers:1.0"),
        Some(&compat),
        None,
    ));
    assert_filter_runs(&proxy);
    assert_eq!(
        served_sha256(&proxy),
        sha256_hex(&module),
        "the module pushed"
    );
    let good = [
        (
            format!("oci://{host}/wasmesh/headers@sha256:{compat}"),
            None,
        ),
        (
            format!("oci://{host}/wasmesh/headers-raw:1.0"),
            Some(raw.as_str()),
        ),
        (
            format!("oci://{host}/wasmesh/headers-raw@sha256:{raw}"),
            None,
        ),
    ];
    for (image, sha256) in good {
        let (status, body) = reload_with(&proxy, &config(&backend, &image, sha256, None));
        assert_eq!(status, 200, "{image}: {body}");
        assert_filter_runs(&proxy);
    }
    push_image(
        &registry,
        "wasmesh/not-wasm",
        "1.0",
        b"not wasm",
        ImageForm::Compat,
    );
    push_image(&registry, "wasmesh/other", "1.0", &module, ImageForm::Other);
    let bad = [
        (
            format!("oci://{host}/wasmesh/headers:1.0"),
            Some(raw.as_str()),
            "`plugins[0].sha256` says",
        ),
        (
            format!("oci://{host}/wasmesh/headers@sha256:{raw}"),
            None,
            "answered 404",
        ),
        (
            format!("oci://{host}/wasmesh/nothing:1.0"),
            None,
            "answered 404",
        ),
        (
            format!("oci://{host}/wasmesh/not-wasm:1.0"),
            None,
            "is not a wasm module",
        ),
        (
            format!("oci://{host}/wasmesh/other:1.0"),
            None,
            "no layer in a form a Wasm image has",
        ),
    ];
    for (image, sha256, needle) in bad {
        let (status, body) = reload_with(&proxy, &config(&backend, &image, sha256, None));
        eprintln!("{image}: {status} {body}");
        assert_eq!(status, 400, "{image}: {body}");
        assert!(
            body.contains(needle) && body.contains(&image),
            "{image}: {body}"
        );
        // The module serving is still the good one. (Not the generation number: the file
        // watcher may reload the last good file once more after its POST /reload.)
        assert_eq!(served_sha256(&proxy), sha256_hex(&module), "{image}");
        assert_filter_runs(&proxy);
    }
}

/// The mesh of the differential cases: the `headers` filter fetched from `server` by URL,
/// pinned by `sha256` (Envoy: a `remote` data source through cluster `wasm_server`).
pub fn remote_mesh(backend: &BackendHandle, server: &StaticServer, sha256: &str) -> MeshConfig {
    let configuration = json!({ "response": { "add": { MARK.0: MARK.1 } } });
    let remote = crate::RemoteModule {
        url: server.url("/headers.wasm"),
        sha256: sha256.to_string(),
        cluster: "wasm_server".into(),
        trusted_ca: None,
    };
    let headers = Plugin::new("headers", &build_filters().headers)
        .configuration(configuration)
        .remote(remote);
    MeshConfig::single(vec![headers], [backend.addr])
        .workers(1)
        .cluster(Cluster::fixed("wasm_server", [server.addr]))
}

/// Both hosts load the module by URL, checked against its sha256, and run it.
pub fn module_by_url_serves(kind: crate::ProxyKind) {
    let module = headers_module();
    let sha = sha256_hex(&module);
    let server = StaticServer::start(vec![("/headers.wasm", Answer::Bytes(module))]);
    let backend = Backend::start("b1");
    let proxy = kind.start(&remote_mesh(&backend, &server, &sha));
    // The filter runs, and the config names it only by URL (wasmesh may have had it in its
    // module cache under that digest already; Envoy fetches it).
    assert_filter_runs(&proxy);
}

/// A registry holding the `headers` filter as `wasmesh/headers:1.0` (compat form) and
/// `wasmesh/headers-raw:1.0` (a raw wasm layer, whose blob is the module itself).
pub fn registry_with_images() -> OciRegistry {
    let registry = OciRegistry::start();
    let module = headers_module();
    push_image(
        &registry,
        "wasmesh/headers",
        "1.0",
        &module,
        ImageForm::Compat,
    );
    push_image(
        &registry,
        "wasmesh/headers-raw",
        "1.0",
        &module,
        ImageForm::WasmLayer,
    );
    registry
}

/// Both hosts load the module by an `https://` URL (a registry's blob URL) from a server whose
/// certificate a private CA signed, trusting that CA (wasmesh: `fetch.trusted_ca`; Envoy: the
/// TLS settings of the cluster it fetches through).
pub fn module_by_https_url_serves(kind: crate::ProxyKind) {
    let module = headers_module();
    let sha = sha256_hex(&module);
    let registry = registry_with_images();
    let secured = registry.secured(crate::oci_registry::secured::Access::Open);
    let backend = Backend::start("b1");
    let configuration = json!({ "response": { "add": { MARK.0: MARK.1 } } });
    let remote = crate::RemoteModule {
        url: format!(
            "https://{}/v2/wasmesh/headers-raw/blobs/sha256:{sha}",
            secured.addr
        ),
        sha256: sha,
        cluster: "wasm_server".into(),
        trusted_ca: Some(secured.ca.clone()),
    };
    let headers = Plugin::new("headers", &build_filters().headers)
        .configuration(configuration)
        .remote(remote);
    let tls = crate::ClusterTls {
        trusted_ca: secured.ca.clone(),
        ..crate::ClusterTls::default()
    };
    let mesh = MeshConfig::single(vec![headers], [backend.addr])
        .workers(1)
        .cluster(Cluster::fixed("wasm_server", [secured.addr]).tls(tls));
    let proxy = kind.start(&mesh);
    assert_filter_runs(&proxy);
}

/// A module whose bytes do not match the configured sha256. wasmesh refuses the configuration,
/// naming the mismatch, and does not start (a reload would keep the running one:
/// `bad_fetches_are_refused_and_the_running_module_serves_on`). Envoy 1.40 starts, logs only
/// "Wasm remote code fetch is unstable and may cause a crash", and answers every request on
/// the listener 503 with an empty body: the plugin never loads and fails closed.
pub fn module_with_a_wrong_sha256(kind: crate::ProxyKind) {
    let module = headers_module();
    let server = StaticServer::start(vec![("/headers.wasm", Answer::Bytes(module.clone()))]);
    let backend = Backend::start("b1");
    let wrong = sha256_hex(b"another module");
    let mesh = remote_mesh(&backend, &server, &wrong);
    match kind {
        crate::ProxyKind::Wasmesh => {
            let error = match kind.try_start(&mesh) {
                Ok(_) => panic!("wasmesh started with a module that does not match its sha256"),
                Err(e) => e,
            };
            let expected = format!(
                "sha256 mismatch for {}: it has {}, `plugins[0].sha256` says {wrong}",
                server.url("/headers.wasm"),
                sha256_hex(&module)
            );
            assert!(error.contains(&expected), "{error}");
        }
        crate::ProxyKind::Envoy => {
            let proxy = kind.start(&mesh);
            let response = client::get(&proxy.url("main", "/"), &[]);
            assert_eq!(response.status, 503, "{}", response.text());
            assert!(response.body.is_empty(), "{}", response.text());
            assert_eq!(response.header(MARK.0), None);
        }
    }
}
