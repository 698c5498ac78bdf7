//! Modules from servers and registries that a real network has: HTTPS with a certificate from
//! the operator's own CA (`fetch.trusted_ca`), and registries that ask for credentials — a
//! password (Basic, the registry's htpasswd) or a token from a token service (Bearer, anonymous
//! as for a public GHCR image, or for a user) — answered from a Docker `config.json`
//! (`fetch.credentials`). Each refusal names its cause and leaves the running module serving.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Value};

use super::{assert_filter_runs, config, headers_module, registry_with_images, reload_with, start};
use crate::oci_registry::secured::{Access, SecuredRegistry};
use crate::{sha256_hex, Backend, BackendHandle};

const USER: &str = "puller";
const PASSWORD: &str = "s3cret:with-colon";

/// A Docker `config.json` in the registry's directory giving `password` for [`USER`] at
/// `registry`, written as `docker login` writes it (`auth`: base64 of `user:password`).
fn docker_config(dir: &Path, registry: &SecuredRegistry, password: &str) -> PathBuf {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
    let path = dir.join(format!("config-{}.json", sha256_hex(password.as_bytes())));
    let config = json!({ "auths": { registry.addr.to_string(): { "auth": auth } } });
    std::fs::write(&path, config.to_string()).expect("writing config.json");
    path
}

/// The image `repository:1.0` of `registry` with `fetch` options.
fn image_config(backend: &BackendHandle, registry: &SecuredRegistry, fetch: Value) -> Value {
    let wasm = format!("oci://{}/wasmesh/headers:1.0", registry.addr);
    config(backend, &wasm, None, Some(fetch))
}

/// A reload to `config` is refused with every one of `needles` in the answer, and the running
/// module still serves.
fn refused(proxy: &crate::Proxy, config: &Value, needles: &[&str]) {
    let (status, body) = reload_with(proxy, config);
    eprintln!("refused: {status} {body}");
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let error = error["error"].as_str().unwrap_or_default();
    for needle in needles {
        assert!(error.contains(needle), "no {needle:?} in {error}");
    }
    assert_filter_runs(proxy);
}

/// A URL and an image over HTTPS whose certificate the operator's CA signed: fetched with
/// `fetch.trusted_ca`; without it (Mozilla's roots) or with another CA the certificate is
/// refused, and a registry on this machine that fails its certificate is not retried in plain
/// text.
pub fn modules_over_https_from_a_private_ca() {
    let registry = registry_with_images();
    let secured = registry.secured(Access::Open);
    let module = headers_module();
    let sha = sha256_hex(&module);
    let backend = Backend::start("b1");
    let trusted = json!({ "trusted_ca": secured.ca });
    let url = format!(
        "https://{}/v2/wasmesh/headers-raw/blobs/sha256:{sha}",
        secured.addr
    );
    let proxy = start(config(&backend, &url, Some(&sha), Some(trusted.clone())));
    assert_filter_runs(&proxy);
    let image = image_config(&backend, &secured, trusted);
    let (status, body) = reload_with(&proxy, &image);
    assert_eq!(status, 200, "the image over HTTPS: {body}");
    assert_filter_runs(&proxy);

    let other_ca = crate::pki::TestPki::mint().ca;
    // Pinned to another digest so that the module cache does not answer for the server.
    let other_sha = sha256_hex(b"another build");
    for fetch in [json!({}), json!({ "trusted_ca": other_ca })] {
        let by_url = config(&backend, &url, Some(&other_sha), Some(fetch.clone()));
        refused(
            &proxy,
            &by_url,
            &[
                "fetching https://",
                "certificate is not trusted",
                "`fetch.trusted_ca`",
                "UnknownIssuer",
            ],
        );
        refused(
            &proxy,
            &image_config(&backend, &secured, fetch),
            &[
                "GET https://",
                "certificate is not trusted",
                "UnknownIssuer",
            ],
        );
    }
    let missing = json!({ "trusted_ca": "/nonexistent/ca.pem" });
    refused(
        &proxy,
        &config(&backend, &url, Some(&other_sha), Some(missing)),
        &[
            "config error at `plugins[0].fetch.trusted_ca`",
            "/nonexistent/ca.pem",
        ],
    );
}

/// A registry asking for a password (Basic): pulled with the `config.json` entry for it;
/// refused without one, or with a wrong password, naming the cause.
pub fn registry_asking_for_a_password() {
    let registry = registry_with_images();
    let secured = registry.secured(Access::Password {
        user: USER.into(),
        password: PASSWORD.into(),
    });
    let dir = crate::process::run_dir("registry-credentials");
    let backend = Backend::start("b1");
    let good =
        json!({ "trusted_ca": secured.ca, "credentials": docker_config(&dir, &secured, PASSWORD) });
    let proxy = start(image_config(&backend, &secured, good));
    assert_filter_runs(&proxy);

    let none = json!({ "trusted_ca": secured.ca });
    refused(
        &proxy,
        &image_config(&backend, &secured, none),
        &[
            "the registry asks for credentials: a password (Basic), and `fetch.credentials` has none for 127.0.0.1:",
        ],
    );
    let wrong =
        json!({ "trusted_ca": secured.ca, "credentials": docker_config(&dir, &secured, "wrong") });
    refused(
        &proxy,
        &image_config(&backend, &secured, wrong),
        &["the registry refused user \"puller\" of `fetch.credentials`"],
    );
}

/// A registry whose token service gives anyone `pull` (a public image on GHCR or Docker Hub):
/// pulled with no credentials; one that gives tokens only to its user: pulled with the
/// `config.json` entry, refused without it or with a wrong password.
pub fn registry_with_a_token_service() {
    let registry = registry_with_images();
    let backend = Backend::start("b1");

    let public = registry.secured(Access::Token { user: None });
    let proxy = start(image_config(
        &backend,
        &public,
        json!({ "trusted_ca": public.ca }),
    ));
    assert_filter_runs(&proxy);
    let grants = public
        .token_service
        .as_ref()
        .expect("a token service")
        .grants();
    assert_eq!(grants, ["anonymous repository:wasmesh/headers:pull"]);

    let private = registry.secured(Access::Token {
        user: Some((USER.into(), PASSWORD.into())),
    });
    let dir = crate::process::run_dir("registry-credentials");
    let with =
        json!({ "trusted_ca": private.ca, "credentials": docker_config(&dir, &private, PASSWORD) });
    let (status, body) = reload_with(&proxy, &image_config(&backend, &private, with));
    assert_eq!(status, 200, "pulled with a token for the user: {body}");
    assert_filter_runs(&proxy);
    let grants = private
        .token_service
        .as_ref()
        .expect("a token service")
        .grants();
    assert_eq!(grants, ["puller repository:wasmesh/headers:pull"]);

    refused(
        &proxy,
        &image_config(&backend, &private, json!({ "trusted_ca": private.ca })),
        &[
            "the token service http://",
            "answered 401 for an anonymous pull",
        ],
    );
    let wrong =
        json!({ "trusted_ca": private.ca, "credentials": docker_config(&dir, &private, "wrong") });
    refused(
        &proxy,
        &image_config(&backend, &private, wrong),
        &["answered 401 for user \"puller\""],
    );
}
