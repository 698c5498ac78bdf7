//! Upstream clusters on one worker: a pooled hyper client per cluster
//! (HTTP/1.1 keep-alive or h2c), endpoint choice (round robin for static
//! clusters, the filter-set header for `original_dst`), and sending.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::body::ProxyBody;
use crate::config::{ClusterConfig, ClusterKind};
use crate::runtime::HeaderMap;

/// Why no request could be sent.
#[derive(Debug)]
pub enum PickError {
    /// No cluster of that name.
    UnknownCluster,
    /// `original_dst` without a usable header.
    NoEndpoint(String),
}

/// A cluster's client and endpoint state.
pub struct Cluster {
    /// Its configuration.
    pub config: ClusterConfig,
    client: Client<HttpConnector, ProxyBody>,
    next: Cell<usize>,
}

impl Cluster {
    fn new(config: &ClusterConfig) -> Cluster {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_millis(config.connect_timeout_ms)));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(1024)
            .http2_only(config.http2)
            .build(connector);
        Cluster {
            config: config.clone(),
            client,
            next: Cell::new(0),
        }
    }

    /// Chooses the endpoint; for `original_dst` the header is read and removed.
    pub fn pick(&self, headers: &mut HeaderMap) -> Result<SocketAddr, PickError> {
        match self.config.kind {
            ClusterKind::Static => {
                let i = self.next.get();
                self.next.set(i.wrapping_add(1));
                Ok(self.config.endpoints[i % self.config.endpoints.len()])
            }
            ClusterKind::OriginalDst => {
                let name = self.config.header.as_bytes();
                let value = headers
                    .get(name)
                    .map(|v| String::from_utf8_lossy(v).into_owned());
                headers.remove(name);
                let value = value.ok_or_else(|| {
                    PickError::NoEndpoint(format!("no {} header", self.config.header))
                })?;
                value.trim().parse().map_err(|_| {
                    PickError::NoEndpoint(format!(
                        "{} is not ip:port: {value:?}",
                        self.config.header
                    ))
                })
            }
        }
    }

    /// Sends a request (its URI already absolute) on the pooled client.
    pub async fn send(
        &self,
        request: http::Request<ProxyBody>,
    ) -> Result<http::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        self.client.request(request).await
    }
}

/// Every cluster of a configuration generation, on one worker.
pub struct Upstreams {
    clusters: HashMap<String, Cluster>,
    /// The headers `original_dst` clusters read their destination from.
    destination_headers: Vec<String>,
}

impl Upstreams {
    /// Clients for every configured cluster.
    pub fn new(configs: &[ClusterConfig]) -> Upstreams {
        let mut destination_headers: Vec<String> = configs
            .iter()
            .filter(|c| c.kind == ClusterKind::OriginalDst)
            .map(|c| c.header.to_ascii_lowercase())
            .collect();
        destination_headers.sort();
        destination_headers.dedup();
        Upstreams {
            clusters: configs
                .iter()
                .map(|c| (c.name.clone(), Cluster::new(c)))
                .collect(),
            destination_headers,
        }
    }

    /// Removes from a client's request every header an `original_dst` cluster would connect
    /// by, before any filter runs: only a filter may choose the destination. Envoy trusts the
    /// client's header when no filter overwrites it (no `lb` on the route, or one that failed
    /// open), which lets a client reach any address; wasmesh does not.
    pub fn strip_destination_headers(&self, headers: &mut HeaderMap) {
        for name in &self.destination_headers {
            headers.remove(name.as_bytes());
        }
    }

    /// A cluster by name.
    pub fn get(&self, name: &str) -> Result<&Cluster, PickError> {
        self.clusters.get(name).ok_or(PickError::UnknownCluster)
    }
}
