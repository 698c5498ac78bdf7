//! A cluster's connection pool on one worker, by the protocol it speaks upstream: HTTP/1.1 in
//! our own pool ([`Http1Pool`]), h2 in hyper-util's pooled client (one h2 connection carries
//! every request, so its pool is seldom in the way).

use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::super::body::ProxyBody;
use super::super::connector::CountingConnector;
use super::http1_pool::Http1Pool;
use super::SendError;

/// The connections of a cluster (or of one request host of an `auto_sni` cluster); a clone
/// shares them.
#[derive(Clone)]
pub enum Pool {
    Http1(Http1Pool),
    /// Boxed: the pooled client is four times the size of the HTTP/1.1 pool.
    H2(Box<Client<CountingConnector, ProxyBody>>),
}

impl Pool {
    /// A pool over `connector` speaking h2 when `http2`, else HTTP/1.1.
    pub fn new(connector: CountingConnector, http2: bool) -> Pool {
        if http2 {
            Pool::H2(Box::new(h2_client(connector)))
        } else {
            Pool::Http1(Http1Pool::new(connector))
        }
    }

    /// Sends `request` (its URI absolute, to `endpoint`).
    pub async fn send(
        &self,
        endpoint: SocketAddr,
        request: http::Request<ProxyBody>,
    ) -> Result<http::Response<Incoming>, SendError> {
        match self {
            Pool::Http1(pool) => pool.send(endpoint, request).await,
            Pool::H2(client) => Ok(client.request(request).await?),
        }
    }
}

/// A pooled client over `connector` speaking h2 only.
fn h2_client(connector: CountingConnector) -> Client<CountingConnector, ProxyBody> {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(1024)
        .build(connector)
}
