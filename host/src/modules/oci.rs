//! Pulling a module from an OCI registry, in the forms Istio's WasmPlugin pulls: an image whose
//! one `tar+gzip` layer (OCI or Docker media type) holds `plugin.wasm` (the "compat" variant),
//! or one with a raw `application/vnd.module.wasm.content.layer.v1+wasm` layer (the "oci"
//! variant). Pulled over the registry API (`/v2/<repo>/manifests/<ref>`, then the layer's
//! blob, redirects followed; [`session`]: HTTPS, credentials or a token when the registry asks
//! for them). The manifest is checked against the reference's digest and the plugin's
//! `sha256` (as Istio checks its `sha256`), the layer against the manifest's digest for it.

use std::fmt;
use std::io::Read;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use wasmesh_host::runtime::module_cache::sha256_hex;

mod session;

use super::cache::Fetched;
use super::check_digest;
use super::http::Client;
use super::registry_auth::Credentials;
use session::Session;

/// What a manifest may weigh.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The compat variant's layer types, and the file its tar holds.
const TAR_LAYERS: [&str; 2] = [
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
];
const COMPAT_FILE: &str = "plugin.wasm";
/// The oci variant's layer type.
const WASM_LAYER: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
/// The manifests we read.
const ACCEPT: &str =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// `host[:port]/repository` and a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry's host and port.
    pub registry: String,
    /// The repository (`wasmesh/headers`).
    pub repository: String,
    /// A tag, or `sha256:<hex>`.
    pub reference: String,
}

impl ImageRef {
    /// Reads what follows `oci://`: `host[:port]/repo[:tag]` or `host[:port]/repo@sha256:<hex>`
    /// (no tag: `latest`).
    pub fn parse(text: &str) -> Result<ImageRef> {
        let Some((registry, path)) = text.split_once('/') else {
            bail!("oci://{text}: expected oci://<registry>/<repository>[:tag|@sha256:<digest>]");
        };
        let (repository, reference) = if let Some((repo, digest)) = path.split_once('@') {
            let hex = digest.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("oci://{text}: a digest is sha256: and 64 hex digits");
            }
            (repo, digest.to_ascii_lowercase())
        } else {
            match path.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo, tag.to_string()),
                _ => (path, "latest".to_string()),
            }
        };
        if registry.is_empty() || repository.is_empty() || reference.is_empty() {
            bail!("oci://{text}: expected oci://<registry>/<repository>[:tag|@sha256:<digest>]");
        }
        Ok(ImageRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            reference,
        })
    }

    /// Whether the registry is on this machine (Docker treats such registries as insecure:
    /// HTTPS first, plain HTTP when they don't speak TLS).
    fn is_loopback(&self) -> bool {
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(&*self.registry, |(h, _)| h);
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if self.reference.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        write!(
            f,
            "{}/{}{separator}{}",
            self.registry, self.repository, self.reference
        )
    }
}

/// The module in `image`; its manifest must hash to `sha256` when given (`{at}.sha256`).
/// `credentials` answer a registry that asks for them.
pub fn pull(
    image: &ImageRef,
    sha256: Option<&str>,
    client: &Client,
    credentials: Option<Credentials>,
    cache: Option<&Fetched>,
    at: &str,
) -> Result<Vec<u8>> {
    let limits = client.limits();
    let mut session = Session::new(client, image, credentials);
    let reply = session.get(
        &format!("manifests/{}", image.reference),
        &[("accept", ACCEPT)],
        limits.max_bytes.min(MAX_MANIFEST_BYTES),
    )?;
    let (status, body) = (reply.status, &reply.body);
    if !(200..300).contains(&status) {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        bail!("the manifest: the registry answered {status}: {text}");
    }
    let digest = sha256_hex(body);
    if let Some(pinned) = image.reference.strip_prefix("sha256:") {
        if pinned != digest {
            bail!("sha256 mismatch: the registry's manifest has {digest}, the reference pins {pinned}");
        }
    }
    if let Some(expected) = sha256 {
        check_digest(
            body,
            expected,
            &format!("{at}.sha256"),
            "the image's manifest",
        )?;
    }
    let manifest: Value = serde_json::from_slice(body).context("the manifest is not JSON")?;
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    if layers.is_empty() {
        let kind = manifest["mediaType"].as_str().unwrap_or("without layers");
        bail!("the manifest ({kind}) has no layers: name an image manifest, not an index");
    }
    let types: Vec<&str> = layers
        .iter()
        .filter_map(|l| l["mediaType"].as_str())
        .collect();
    let (layer, compat) = match layers.iter().find(|l| l["mediaType"] == WASM_LAYER) {
        Some(layer) => (layer, false),
        None if layers.len() == 1 && TAR_LAYERS.contains(&types.first().copied().unwrap_or("")) => {
            (&layers[0], true)
        }
        None => bail!(
            "no layer in a form a Wasm image has (one tar+gzip layer holding {COMPAT_FILE}, or a layer of type {WASM_LAYER}): layers {types:?}"
        ),
    };
    let layer_digest = layer["digest"].as_str().unwrap_or("");
    let Some(hex) = layer_digest.strip_prefix("sha256:") else {
        bail!("the layer's digest {layer_digest:?} is not a sha256");
    };
    if layer["size"]
        .as_u64()
        .is_some_and(|size| size > limits.max_bytes)
    {
        bail!(
            "the layer has {} bytes, more than the cap of {}",
            layer["size"],
            limits.max_bytes
        );
    }
    let blob = match cache.and_then(|c| c.get(hex)) {
        Some(blob) => blob,
        None => {
            let reply = session.get(&format!("blobs/{layer_digest}"), &[], limits.max_bytes)?;
            if !(200..300).contains(&reply.status) {
                bail!("the layer: the registry answered {}", reply.status);
            }
            let blob = reply.body;
            check_digest(&blob, hex, "the manifest's layer digest", "the layer")?;
            if let Some(cache) = cache {
                cache.put(hex, &blob);
            }
            blob
        }
    };
    if compat {
        plugin_wasm(&blob, limits.max_bytes)
    } else {
        Ok(blob)
    }
}

/// `plugin.wasm` out of a `tar+gzip` layer, at most `max_bytes` of it.
pub(super) fn plugin_wasm(layer: &[u8], max_bytes: u64) -> Result<Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    for entry in archive.entries().context("the layer is not a tar+gzip")? {
        let entry = entry.context("reading the layer's tar")?;
        let path = entry.path().context("a tar entry's name")?.into_owned();
        if path.file_name().and_then(|n| n.to_str()) != Some(COMPAT_FILE) {
            continue;
        }
        if entry.size() > max_bytes {
            bail!(
                "{COMPAT_FILE} has {} bytes, more than the cap of {max_bytes}",
                entry.size()
            );
        }
        let mut bytes = Vec::new();
        entry
            .take(max_bytes)
            .read_to_end(&mut bytes)
            .context("reading plugin.wasm")?;
        return Ok(bytes);
    }
    bail!("the layer holds no {COMPAT_FILE}")
}
