//! Where a plugin's module comes from: a file, an `http(s)://` URL pinned by `sha256`, or an
//! image in an OCI registry (`oci://host/repo:tag`, `oci://host/repo@sha256:...`) in the forms
//! Istio's WasmPlugin pulls ([`oci`]). Fetches happen while a generation is built (at start, on
//! a reload), never on a request's path, with a timeout and a size cap ([`FetchLimits`]); what
//! was fetched is kept in the module cache by its digest ([`cache`]) and checked against it when
//! read back. A digest that does not match, an unreachable or hanging server, a module over the
//! cap: the generation is refused with the cause, and a running proxy keeps its configuration.

pub mod cache;
pub mod http;
pub mod oci;
pub mod registry_auth;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// How long a fetch may take and how big a module may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FetchLimits {
    /// For each request of the fetch.
    pub timeout: Duration,
    /// The most bytes a module (and each blob of an image) may have.
    pub max_bytes: u64,
}

/// How a plugin's remote module is fetched (`plugins[].fetch`).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchOptions {
    /// Timeout and size cap.
    pub limits: FetchLimits,
    /// The CA bundle HTTPS servers and registries are checked against, instead of Mozilla's
    /// roots.
    pub trusted_ca: Option<PathBuf>,
    /// A Docker `config.json` with credentials for registries that ask for them.
    pub credentials: Option<PathBuf>,
}

/// A plugin's module, as `wasm` names it.
#[derive(Debug, Clone, PartialEq)]
pub enum ModuleSource {
    /// A file.
    File(PathBuf),
    /// `http://` or `https://`.
    Url(String),
    /// `oci://`.
    Oci(oci::ImageRef),
}

impl ModuleSource {
    /// Reads `wasm` as the config gives it.
    pub fn parse(wasm: &Path) -> Result<ModuleSource> {
        let Some(text) = wasm.to_str() else {
            return Ok(ModuleSource::File(wasm.to_path_buf()));
        };
        if text.starts_with("http://") || text.starts_with("https://") {
            Ok(ModuleSource::Url(text.to_string()))
        } else if let Some(rest) = text.strip_prefix("oci://") {
            Ok(ModuleSource::Oci(oci::ImageRef::parse(rest)?))
        } else if text.contains("://") {
            bail!("unknown scheme in {text:?}: use a file path, http://, https:// or oci://")
        } else {
            Ok(ModuleSource::File(wasm.to_path_buf()))
        }
    }

    /// Whether it is fetched (not a file on this machine).
    pub fn is_remote(wasm: &Path) -> bool {
        !matches!(ModuleSource::parse(wasm), Ok(ModuleSource::File(_)))
    }
}

/// A module fetched for a generation: its bytes and where they came from (for errors).
pub struct Fetched {
    /// The module.
    pub bytes: Vec<u8>,
    /// The URL or image reference.
    pub origin: String,
}

/// Fetches the module of a remote `source` (not a file), checked against `sha256` (required
/// for a URL; for an image, the manifest's digest), using and filling the cache under
/// `cache_dir`. `at` names the plugin in errors.
pub fn fetch(
    source: &ModuleSource,
    sha256: Option<&str>,
    options: &FetchOptions,
    cache_dir: Option<&Path>,
    at: &str,
) -> Result<Fetched> {
    let cache = cache_dir.map(cache::Fetched::new);
    let client = http::Client::new(
        options.limits,
        options.trusted_ca.as_deref(),
        &format!("{at}.fetch.trusted_ca"),
    )?;
    match source {
        ModuleSource::File(path) => bail!("{} is a file, not fetched", path.display()),
        ModuleSource::Url(url) => {
            let Some(sha256) = sha256 else {
                bail!(
                    "config error at `{at}.sha256`: a module fetched from a URL needs its sha256"
                );
            };
            if let Some(bytes) = cache.as_ref().and_then(|c| c.get(sha256)) {
                return Ok(Fetched {
                    bytes,
                    origin: url.clone(),
                });
            }
            let bytes = client
                .get(url, &[])
                .with_context(|| format!("fetching {url}"))?;
            check_digest(&bytes, sha256, &format!("{at}.sha256"), url)?;
            if let Some(cache) = &cache {
                cache.put(sha256, &bytes);
            }
            Ok(Fetched {
                bytes,
                origin: url.clone(),
            })
        }
        ModuleSource::Oci(image) => {
            let credentials = match &options.credentials {
                Some(path) => {
                    let field = format!("{at}.fetch.credentials");
                    registry_auth::load(path, &image.registry, &field)?
                }
                None => None,
            };
            let bytes = oci::pull(image, sha256, &client, credentials, cache.as_ref(), at)
                .with_context(|| format!("pulling oci://{image}"))?;
            Ok(Fetched {
                bytes,
                origin: format!("oci://{image}"),
            })
        }
    }
}

/// Fails unless `bytes` hash to `expected` (hex), naming the field that pinned it.
pub fn check_digest(bytes: &[u8], expected: &str, field: &str, what: &str) -> Result<()> {
    let actual = wasmesh_host::runtime::module_cache::sha256_hex(bytes);
    if actual != expected {
        bail!("sha256 mismatch for {what}: it has {actual}, `{field}` says {expected}");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
