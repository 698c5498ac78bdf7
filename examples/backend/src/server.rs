//! The accept loop: HTTP/1.1 and h2c (prior knowledge) on the same port.

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::delay::ExtraDelay;
use crate::flaky::Flaky;
use crate::service::{handle, unavailable};

/// Serves `listener` until `shutdown` resolves. Connections still open then are dropped with the
/// runtime: a backend being stopped is, for the proxy, a backend going away.
pub async fn serve(
    listener: TcpListener,
    name: String,
    requests_seen: Arc<AtomicU64>,
    shutdown: impl Future<Output = ()>,
) {
    serve_delayed(
        listener,
        name,
        requests_seen,
        ExtraDelay::default(),
        shutdown,
    )
    .await;
}

/// Like [`serve`], with every answer held back by `extra_delay` (read per request, so it can be
/// changed while serving): a uniformly slow endpoint, for load-balancing measurements.
pub async fn serve_delayed(
    listener: TcpListener,
    name: String,
    requests_seen: Arc<AtomicU64>,
    extra_delay: ExtraDelay,
    shutdown: impl Future<Output = ()>,
) {
    let flaky = Flaky::default();
    serve_shaped(listener, name, requests_seen, extra_delay, flaky, shutdown).await;
}

/// Like [`serve_delayed`], with the requests `flaky` picks answered 503 (after being read
/// and counted): a live endpoint that fails part of the time, for retry tests.
pub async fn serve_shaped(
    listener: TcpListener,
    name: String,
    requests_seen: Arc<AtomicU64>,
    extra_delay: ExtraDelay,
    flaky: Flaky,
    shutdown: impl Future<Output = ()>,
) {
    let name: Arc<str> = name.into();
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // Running out of file descriptors and the like: keep serving the others.
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let name = name.clone();
        let counter = requests_seen.clone();
        let delay = extra_delay.clone();
        let flaky = flaky.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let (name, counter, delay) = (name.clone(), counter.clone(), delay.clone());
                let flaky = flaky.clone();
                async move {
                    // Counted on arrival (inside `handle`), answered `delay` later.
                    let response = handle(req, name.clone(), counter).await;
                    let response = match flaky.fails_next() {
                        true => Ok(unavailable(&name)),
                        false => response,
                    };
                    delay.wait().await;
                    response
                }
            });
            // Errors here are clients hanging up or speaking bad HTTP: nothing to report.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}
