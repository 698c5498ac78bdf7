//! What every stream of one downstream connection shares: the addresses, the way to close the
//! connection from a stream, and the connection's place in its listener's limit. Apart from
//! the connection's code, so the request handlers read it without depending on the codec.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::Notify;
use wasmesh_host::stream_info::TlsSession;

use crate::overload::ConnectionSlot;

/// What every stream of one downstream connection shares.
pub struct Downstream {
    peer: SocketAddr,
    /// The client's IP as text, for every request's `x-forwarded-for`: written once per
    /// connection, not per request.
    peer_ip: Box<str>,
    local: SocketAddr,
    /// The TLS session, on a TLS listener.
    tls: Option<Arc<TlsSession>>,
    /// Notified by a response that outlived its timeout while the client was not reading: the
    /// connection is closed, since nothing else would free what it holds.
    cut: Notify,
    /// The connection's place in its listener's `max_connections`, held by every stream (an
    /// upgraded one outlives the HTTP connection it came from).
    _counted: ConnectionSlot,
}

impl Downstream {
    /// A connection from `peer` to our `local` address (over `tls` on a TLS listener), holding
    /// its place in the listener's connection limit.
    pub fn new(
        peer: SocketAddr,
        local: SocketAddr,
        tls: Option<Arc<TlsSession>>,
        counted: ConnectionSlot,
    ) -> Downstream {
        Downstream {
            peer,
            peer_ip: peer.ip().to_string().into(),
            local,
            tls,
            cut: Notify::new(),
            _counted: counted,
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The client's IP address, as `x-forwarded-for` names it.
    pub fn peer_ip(&self) -> &str {
        &self.peer_ip
    }

    /// The listener's address the client reached.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The TLS session, on a TLS listener.
    pub fn tls(&self) -> Option<Arc<TlsSession>> {
        self.tls.clone()
    }

    /// Closes the connection now (see `cut`).
    pub fn cut(&self) {
        self.cut.notify_one();
    }

    /// Resolves when a stream asked for the connection to be closed ([`Downstream::cut`]).
    pub async fn cut_requested(&self) {
        self.cut.notified().await
    }
}
