//! Istio `WasmPlugin` manifests for our filters
//! (<https://istio.io/latest/docs/reference/config/proxy_extensions/wasm-plugin/>): the image by
//! tag, pinned by its manifest digest in `sha256` when one is given, and each filter's example
//! configuration as `pluginConfig` (Istio hands it to the plugin as JSON, as wasmesh does).

use serde_json::{json, Value};

/// The example configuration each filter's manifest carries (the README's, per filter).
fn example_config(name: &str) -> Value {
    match name {
        "headers" => json!({ "response": { "add": { "x-served-by": "wasmesh" } } }),
        "ratelimit" => json!({ "tokens_per_second": 10, "burst": 20, "key": "global" }),
        "metrics" => json!({ "direction": "inbound" }),
        "discovery" => json!({ "services": [{ "service": "web",
            "source": { "http": { "cluster": "registry", "path": "/web.json" } } }] }),
        "failover" => json!({ "service": "web", "cluster": "dynamic" }),
        "lb" => json!({ "service": "web", "policy": "peak_ewma" }),
        "authz" => json!({ "default": "deny", "rules": [
            { "name": "same-namespace", "action": "allow",
              "from": { "identity_prefixes": ["spiffe://cluster.local/ns/default/"] } }] }),
        _ => json!({}),
    }
}

/// What a user must add beyond the manifest, where anything.
fn note(name: &str) -> &'static str {
    match name {
        "discovery" | "failover" | "lb" => {
            "# discovery, failover and lb work together in one vm_id and route through an\n# ORIGINAL_DST cluster, which Istio creates only through an EnvoyFilter; see\n# envoy-configs/ for the Envoy side.\n"
        }
        _ => "",
    }
}

/// The manifest for filter `name`; `digest` (hex) pins the image.
pub fn manifest(
    name: &str,
    phase: &str,
    registry: &str,
    version: &str,
    digest: Option<&str>,
) -> String {
    let sha256 = match digest {
        Some(digest) => format!("  sha256: {digest}\n"),
        None => "  # sha256: the manifest digest `cargo xtask dist` prints for this image\n".into(),
    };
    format!(
        "# wasmesh's {name} filter for Istio (written by `cargo xtask dist`).\n{note}\
         apiVersion: extensions.istio.io/v1alpha1\n\
         kind: WasmPlugin\n\
         metadata:\n  name: wasmesh-{name}\n  namespace: istio-system\n\
         spec:\n\
         \x20 url: oci://{registry}/{name}:{version}\n\
         {sha256}\
         \x20 imagePullPolicy: IfNotPresent\n\
         \x20 phase: {phase}\n\
         \x20 failStrategy: FAIL_CLOSE\n\
         \x20 pluginConfig: {config}\n",
        note = note(name),
        config = example_config(name),
    )
}
