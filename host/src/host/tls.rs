//! The TLS a configuration generation loads once for every worker: each listener's server
//! settings, and each cluster's client settings, which a generation keeps from the previous one
//! when nothing they are loaded from changed (so the cluster keeps its pool of connections).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use wasmesh_host::runtime::module_cache;
use wasmesh_proxy::spec::UpstreamTls;
use wasmesh_proxy::tls::upstream::ClientTls;
use wasmesh_proxy::tls::ServerTls;

use super::Generation;
use crate::config::Config;

/// Each TLS listener's settings, by listener name (errors name the listener).
pub fn listeners(config: &Config) -> Result<HashMap<String, Arc<ServerTls>>> {
    let mut tls = HashMap::new();
    for (i, listener) in config.listeners.iter().enumerate() {
        if let Some(spec) = &listener.tls {
            let loaded = ServerTls::load(spec)
                .with_context(|| format!("listeners[{i}].tls ({:?})", listener.name))?;
            tls.insert(listener.name.clone(), Arc::new(loaded));
        }
    }
    Ok(tls)
}

/// The TLS clusters' settings of a generation.
pub struct ClustersTls {
    /// By cluster name.
    pub loaded: HashMap<String, Arc<ClientTls>>,
    /// What each was loaded from ([`source`]), by cluster name.
    pub sources: HashMap<String, String>,
}

/// Each TLS cluster's settings and what they were loaded from: `previous`'s when its settings
/// and files are the same.
pub fn clusters(config: &Config, previous: Option<&Generation>) -> Result<ClustersTls> {
    let mut loaded_tls = HashMap::new();
    let mut sources = HashMap::new();
    for (i, cluster) in config.clusters.iter().enumerate() {
        let Some(spec) = &cluster.tls else {
            continue;
        };
        let source = source(spec, cluster.http2);
        let kept = previous
            .filter(|p| {
                source.is_some() && p.upstream_tls_sources.get(&cluster.name) == source.as_ref()
            })
            .and_then(|p| p.upstream_tls.get(&cluster.name).cloned());
        let loaded = match kept {
            Some(tls) => tls,
            None => Arc::new(
                ClientTls::load(spec, cluster.http2)
                    .with_context(|| format!("clusters[{i}].tls ({:?})", cluster.name))?,
            ),
        };
        loaded_tls.insert(cluster.name.clone(), loaded);
        if let Some(source) = source {
            sources.insert(cluster.name.clone(), source);
        }
    }
    Ok(ClustersTls {
        loaded: loaded_tls,
        sources,
    })
}

/// What a cluster's TLS is loaded from: its settings and the digests of the files they name;
/// `None` when a file cannot be read (loading it will say why).
fn source(spec: &UpstreamTls, http2: bool) -> Option<String> {
    let mut files: Vec<&Path> = spec.trusted_ca.iter().map(|p| p.as_path()).collect();
    if let Some(client) = &spec.client_certificate {
        files.push(&client.certificate_chain);
        files.push(&client.private_key);
    }
    let digests = files
        .iter()
        .map(|path| {
            std::fs::read(path)
                .ok()
                .map(|bytes| module_cache::sha256_hex(&bytes))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(format!("{spec:?} {http2} {digests:?}"))
}
