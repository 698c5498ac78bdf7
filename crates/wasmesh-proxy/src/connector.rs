//! The connector of a cluster's pool: hyper's TCP connector, then the cluster's TLS
//! handshake when it has TLS, with each connection counted against the cluster's
//! `circuit_breakers.max_connections` (over every worker) and in this worker's pool (so the
//! cluster can tell whether the pool may have an idle one) for as long as it is open.
//! Requests wait as pending *before* they reach the pool
//! ([`crate::admission::PoolAdmission::ready`]); the connector itself only waits out a short
//! grace.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_service::Service;
use wasmesh_host::stream_info::TlsSession;

use super::body::BoxError;
use crate::overload::{ClusterLoad, Overload, Permit};
use crate::spec::CircuitBreakers;
use crate::tls::upstream::ClientTls;

/// A byte stream to an endpoint: TCP, or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Connects to a cluster's endpoints within its connection limit.
#[derive(Clone)]
pub struct CountingConnector {
    inner: HttpConnector,
    cluster: Arc<str>,
    load: Arc<ClusterLoad>,
    limits: CircuitBreakers,
    /// How long a connection waits for room (the cluster's connect timeout).
    grace: Duration,
    overload: Arc<Overload>,
    /// Connections this worker's pool holds.
    open_here: Arc<AtomicUsize>,
    /// The cluster's TLS; plain TCP when `None`.
    tls: Option<Arc<ClientTls>>,
    /// The SNI its connections send, when it is a pool of an `auto_sni` cluster's name.
    sni: Option<ServerName<'static>>,
}

impl CountingConnector {
    /// Connections through `inner` (then `tls`), counted in `overload`'s load of `cluster`
    /// and in `open_here`.
    pub fn new(
        inner: HttpConnector,
        cluster: &str,
        limits: CircuitBreakers,
        grace: Duration,
        overload: Arc<Overload>,
        open_here: Arc<AtomicUsize>,
        tls: Option<Arc<ClientTls>>,
    ) -> CountingConnector {
        CountingConnector {
            inner,
            tls,
            cluster: cluster.into(),
            load: overload.cluster(cluster),
            limits,
            grace,
            overload,
            open_here,
            sni: None,
        }
    }

    /// A connection to `endpoint`. The connector reads only the address from the URI it is
    /// given (the TLS name is its own), so one is made from the address.
    pub async fn connect(&self, endpoint: SocketAddr) -> Result<CountedConnection, BoxError> {
        let uri: Uri = format!("http://{endpoint}/").parse()?;
        self.clone().call(uri).await
    }

    /// The same connector, sending `sni` (one request host's pool of an `auto_sni` cluster).
    pub fn with_sni(&self, sni: ServerName<'static>) -> CountingConnector {
        CountingConnector {
            sni: Some(sni),
            ..self.clone()
        }
    }
}

impl Service<Uri> for CountingConnector {
    type Response = CountedConnection;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<CountedConnection, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let mut inner = self.inner.clone();
        let this = self.clone();
        Box::pin(async move {
            let permit = match this.load.connection(&this.limits, this.grace).await {
                Ok(permit) => permit,
                Err(overflow) => {
                    this.overload.count_overflow(&this.cluster, overflow);
                    return Err(overflow.into());
                }
            };
            let tcp = inner.call(uri).await?.into_inner();
            let (io, tls, h2): (Box<dyn Stream>, _, _) = match &this.tls {
                None => (Box::new(tcp), None, false),
                Some(tls) => {
                    let ip = tcp.peer_addr()?.ip();
                    let (stream, session) = tls.connect(tcp, ip, this.sni.as_ref()).await?;
                    let h2 = ClientTls::negotiated_h2(&stream);
                    (Box::new(stream), Some(session), h2)
                }
            };
            this.open_here.fetch_add(1, Ordering::AcqRel);
            Ok(CountedConnection {
                io: TokioIo::new(io),
                tls,
                h2,
                _permit: permit,
                open_here: this.open_here.clone(),
            })
        })
    }
}

/// An upstream connection holding its place in the cluster's connection count.
pub struct CountedConnection {
    io: TokioIo<Box<dyn Stream>>,
    /// Its TLS session, which every response on it carries in its extensions.
    tls: Option<Arc<TlsSession>>,
    /// ALPN chose h2.
    h2: bool,
    _permit: Permit,
    open_here: Arc<AtomicUsize>,
}

impl CountedConnection {
    /// Its TLS session, when it has TLS.
    pub fn tls_session(&self) -> Option<Arc<TlsSession>> {
        self.tls.clone()
    }
}

impl Drop for CountedConnection {
    fn drop(&mut self) {
        self.open_here.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connection for CountedConnection {
    fn connected(&self) -> Connected {
        let connected = match &self.tls {
            Some(session) => Connected::new().extra(UpstreamTls(session.clone())),
            None => Connected::new(),
        };
        if self.h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

/// The TLS session of the upstream connection a response came on (in its extensions).
#[derive(Clone)]
pub struct UpstreamTls(pub Arc<TlsSession>);

impl Read for CountedConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for CountedConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// Whether a failed exchange was a circuit breaker's refusal (the error the connector gave,
/// somewhere in the client's chain of sources).
pub fn overflow_of(error: &(dyn std::error::Error + 'static)) -> Option<crate::overload::Overflow> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(overflow) = e.downcast_ref::<crate::overload::Overflow>() {
            return Some(*overflow);
        }
        source = e.source();
    }
    None
}
