//! What the proxy is told to serve: listeners with their routes, and clusters. Plain serde
//! types, so an embedder can build them in code or read them from its own configuration (the
//! `wasmesh` binary reads them from its JSON file, where unknown fields are errors that name
//! their path).

mod access_log;
mod cluster;
mod listener;
mod tls;

pub use access_log::AccessLogConfig;
pub use cluster::{CircuitBreakers, ClusterConfig, ClusterKind, PublishedEndpoints};
pub use listener::{
    HeaderMatch, Http2Options, ListenerConfig, RouteConfig, RouteMatch, TcpProxyConfig,
    UpgradeConfig,
};
pub use tls::{
    CertificateFiles, ClientCertificate, ClientCertificateMode, ListenerTls, TlsVersion,
    UpstreamTls,
};
