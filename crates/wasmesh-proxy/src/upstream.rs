//! Upstream clusters on one worker: a connection pool per cluster
//! (HTTP/1.1 keep-alive or h2c, over TLS when the cluster has it; one per request host for
//! `auto_sni`, [`sni_pools`]), endpoint choice (round robin for static clusters, the
//! filter-set header for `original_dst`), and sending.

mod authorities;
mod http1_pool;
mod pool;
mod sni_pools;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;

use super::admission::{Admission, PoolAdmission};
use super::body::BoxError;
use super::body::ProxyBody;
use super::connector::{CountedConnection, CountingConnector};
use super::published::PublishedAddresses;
use crate::overload::{Overflow, Overload};
use crate::spec::{ClusterConfig, ClusterKind};
use crate::tls::upstream::{sni_of_host, ClientTls};
use authorities::Authorities;
use pool::Pool;
use sni_pools::SniPools;
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::state::SharedState;

/// Why a cluster picked no endpoint.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    /// `original_dst` without a usable header.
    #[error("no endpoint: {0}")]
    NoEndpoint(String),
    /// `original_dst` with a destination outside `allowed_destinations`.
    #[error("{0} is outside allowed_destinations")]
    NotAllowed(SocketAddr),
}

/// Why an exchange with a cluster failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A circuit breaker turned the request away.
    #[error(transparent)]
    Overflow(#[from] Overflow),
    /// No connection could be made (refused, timed out, the TLS handshake failed).
    #[error("connect: {0}")]
    Connect(BoxError),
    /// The connection failed during the exchange (reset, closed, protocol).
    #[error("exchange: {0}")]
    Exchange(BoxError),
}

impl SendError {
    /// A connector's failure: a circuit breaker's refusal, or a connection not made.
    fn connect(error: BoxError) -> SendError {
        match super::connector::overflow_of(&*error) {
            Some(overflow) => SendError::Overflow(overflow),
            None => SendError::Connect(error),
        }
    }
}

impl From<hyper_util::client::legacy::Error> for SendError {
    fn from(error: hyper_util::client::legacy::Error) -> Self {
        if let Some(overflow) = super::connector::overflow_of(&error) {
            SendError::Overflow(overflow)
        } else if error.is_connect() {
            SendError::Connect(error.into())
        } else {
            SendError::Exchange(error.into())
        }
    }
}

/// A cluster's client and endpoint state.
pub struct Cluster {
    /// Its configuration.
    pub config: ClusterConfig,
    /// Requests go over TLS (`https://`, which h2's `:scheme` carries).
    https: bool,
    /// The TLS its connections were made with (a reload keeps the cluster only with the same).
    tls: Option<Arc<ClientTls>>,
    pool: Pool,
    /// What its pool connects with, for a TCP proxy's connections (which no pool shares).
    connector: CountingConnector,
    /// `auto_sni`: a client per request host.
    sni_pools: Option<RefCell<SniPools>>,
    next: Cell<usize>,
    /// The URI authority of each endpoint it sent to.
    authorities: RefCell<Authorities>,
    /// Its circuit breakers, as this worker applies them.
    pub admission: PoolAdmission,
    overload: Arc<Overload>,
    /// `allowed_endpoints`: the published addresses a destination may also be.
    published: Option<PublishedAddresses>,
}

impl Cluster {
    fn new(
        config: &ClusterConfig,
        overload: &Arc<Overload>,
        shared: &Arc<SharedState>,
        tls: Option<Arc<ClientTls>>,
    ) -> Cluster {
        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(Duration::from_millis(config.connect_timeout_ms)));
        tcp.set_nodelay(true);
        // `https://` URIs reach the TCP connector too; TLS is the next step, ours.
        tcp.enforce_http(false);
        let https = tls.is_some();
        let auto_sni = tls.as_ref().is_some_and(|tls| tls.auto_sni);
        let kept_tls = tls.clone();
        let admission = PoolAdmission::new(config, overload);
        let connector = CountingConnector::new(
            tcp,
            &config.name,
            config.circuit_breakers,
            Duration::from_millis(config.connect_timeout_ms),
            overload.clone(),
            admission.open_here(),
            tls,
        );
        let sni_pools =
            auto_sni.then(|| RefCell::new(SniPools::new(connector.clone(), config.http2)));
        let pool = Pool::new(connector.clone(), config.http2);
        Cluster {
            connector,
            config: config.clone(),
            https,
            tls: kept_tls,
            pool,
            sni_pools,
            next: Cell::new(0),
            authorities: RefCell::default(),
            admission,
            overload: overload.clone(),
            published: config
                .allowed_endpoints
                .as_ref()
                .map(|p| PublishedAddresses::new(p, shared.clone())),
        }
    }

    /// Whether a filter may send a request to `destination`: anywhere when the cluster names
    /// no `allowed_destinations` nor `allowed_endpoints`, else inside one of them.
    fn allows(&self, destination: SocketAddr) -> bool {
        let networks = &self.config.allowed_destinations;
        if networks.is_empty() && self.published.is_none() {
            return true;
        }
        networks.iter().any(|n| n.contains(&destination.ip()))
            || self
                .published
                .as_ref()
                .is_some_and(|p| p.contains(destination))
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
                // Parsed where it lies (no copy per request); the error alone copies it.
                let parsed = headers.get(name).map(|value| {
                    std::str::from_utf8(value)
                        .ok()
                        .and_then(|text| text.trim().parse::<SocketAddr>().ok())
                        .ok_or_else(|| String::from_utf8_lossy(value).into_owned())
                });
                headers.remove(name);
                let parsed = parsed.ok_or_else(|| {
                    PickError::NoEndpoint(format!("no {} header", self.config.header))
                })?;
                let destination = parsed.map_err(|value| {
                    PickError::NoEndpoint(format!(
                        "{} is not ip:port: {value:?}",
                        self.config.header
                    ))
                })?;
                if !self.allows(destination) {
                    self.overload.destination_refused.inc(&self.config.name);
                    return Err(PickError::NotAllowed(destination));
                }
                Ok(destination)
            }
        }
    }

    /// The authority of the requests sent to `endpoint`.
    pub fn authority(&self, endpoint: SocketAddr) -> http::uri::Authority {
        self.authorities.borrow_mut().of(endpoint)
    }

    /// Sends a request (its URI already absolute, to `endpoint`) on the cluster's pool, once
    /// the circuit breakers let it (see [`PoolAdmission::ready`]).
    pub async fn send(
        &self,
        admission: &mut Admission,
        endpoint: SocketAddr,
        mut request: http::Request<ProxyBody>,
    ) -> Result<http::Response<hyper::body::Incoming>, SendError> {
        self.admission.ready(admission).await?;
        if self.https {
            let mut parts = request.uri().clone().into_parts();
            parts.scheme = Some(http::uri::Scheme::HTTPS);
            if let Ok(uri) = http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
        // The cluster's own pool is used in place: cloning it per request would touch its
        // shared reference counts on every request for nothing.
        match self.sni_pool(&request) {
            Some(pool) => pool.send(endpoint, request).await,
            None => self.pool.send(endpoint, request).await,
        }
    }

    /// Opens a connection of its own to `endpoint` for a TCP proxy: plain or with the cluster's
    /// TLS, within its connect timeout and `circuit_breakers.max_connections`, as the pool's are.
    pub async fn connect(&self, endpoint: SocketAddr) -> Result<CountedConnection, BoxError> {
        self.connector.connect(endpoint).await
    }

    /// For `auto_sni`, the pool of the request's host (`None`: the cluster's own pool).
    fn sni_pool(&self, request: &http::Request<ProxyBody>) -> Option<Pool> {
        let pools = self.sni_pools.as_ref()?;
        let host = request.headers().get(http::header::HOST)?.to_str().ok()?;
        let sni = sni_of_host(host)?;
        Some(pools.borrow_mut().pool(sni))
    }
}

/// Every cluster of a configuration generation, on one worker.
pub struct Upstreams {
    clusters: HashMap<String, Rc<Cluster>>,
    /// The headers `original_dst` clusters read their destination from.
    destination_headers: Vec<String>,
}

impl Upstreams {
    /// Clients for every configured cluster, counted in `overload`; `shared` holds the endpoint
    /// sets `allowed_endpoints` reads; `tls` each TLS cluster's settings, by name, loaded once
    /// for every worker. A cluster of `previous` with the same configuration and TLS is kept,
    /// with its pool of open connections (a reload does not reconnect to every upstream).
    pub fn new(
        configs: &[ClusterConfig],
        overload: &Arc<Overload>,
        shared: &Arc<SharedState>,
        tls: &HashMap<String, Arc<ClientTls>>,
        previous: Option<&Upstreams>,
    ) -> Upstreams {
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
                .map(|c| {
                    let tls = tls.get(&c.name).cloned();
                    let kept = previous
                        .and_then(|p| p.clusters.get(&c.name))
                        .filter(|old| old.config == *c && same_tls(&old.tls, &tls));
                    let cluster = match kept {
                        Some(old) => old.clone(),
                        None => Rc::new(Cluster::new(c, overload, shared, tls)),
                    };
                    (c.name.clone(), cluster)
                })
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
    pub fn get(&self, name: &str) -> Option<&Cluster> {
        self.clusters.get(name).map(|c| &**c)
    }
}

fn same_tls(a: &Option<Arc<ClientTls>>, b: &Option<Arc<ClientTls>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}
