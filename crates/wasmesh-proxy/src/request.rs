//! One downstream request: the head checked ([`super::validate`]) and passed through the
//! request filters, routed, admitted by the cluster's circuit breakers, exchanged with the
//! upstream, and answered through the response filters ([`super::respond`], or
//! [`super::upgrade`] for a WebSocket); every failure answered as Envoy answers it.

use std::rc::Rc;
use std::time::Duration;

use http_body::Body;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;

use super::body;
use super::connector::UpstreamTls;
use super::downstream::Downstream;
use super::headers_conv::{self, request_to_map};
use super::local_reply::{self, HandlerResult};
use super::pumps::{self, RequestAbort};
use super::timers::{Expiry, StreamTimers};
use super::upstream::{PickError, SendError};
use super::upstream_failure::reset_body;
use super::validate::{self, Refusal};
use super::worker_view::{ListenerLocal, WorkerView};
use crate::spec::ListenerConfig;
use wasmesh_host::chain::{ChainStream, Step, StickyKeys};
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::store::LocalReply;
use wasmesh_host::stream_info::StreamInfo;

fn protocol(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2",
        _ => "HTTP/1.1",
    }
}

/// Adds what a proxy adds before filters run (as Envoy's connection manager does): the
/// client's address, the scheme it used when it did not say, a request id.
fn add_forwarding_headers(headers: &mut HeaderMap, client: &str, tls: bool) {
    match headers.get_str("x-forwarded-for") {
        Some(existing) => {
            let xff = format!("{existing}, {client}");
            headers.replace(b"x-forwarded-for", xff.as_bytes());
        }
        None => headers.replace(b"x-forwarded-for", client.as_bytes()),
    }
    if headers.get(b"x-forwarded-proto").is_none() {
        headers.add(b"x-forwarded-proto", if tls { b"https" } else { b"http" });
    }
    if headers.get(b"x-request-id").is_none() {
        headers.add(b"x-request-id", request_id().as_bytes());
    }
}

/// A random (version 4) UUID, as Envoy generates for `x-request-id`.
fn request_id() -> String {
    let mut b = [0u8; 16];
    if wasmesh_host::entropy::fill(&mut b).is_err() {
        let nanos = wasmesh_host::embedder::system_now_nanos().to_le_bytes();
        b[..8].copy_from_slice(&nanos);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    // 8-4-4-4-12 hex digits, written into one buffer (no string per byte).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(HEX[usize::from(byte >> 4)] as char);
        id.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    id
}

/// Handles one request of a downstream connection.
pub async fn handle(
    worker: Rc<dyn WorkerView>,
    name: &str,
    request: http::Request<Incoming>,
    downstream: Rc<Downstream>,
) -> HandlerResult {
    worker.count_request();
    let Some(listener) = worker.listener(name) else {
        return local_reply::build(&status_only(503), body::full("listener is gone\n"));
    };
    let (peer, local) = (downstream.peer(), downstream.local());
    let (mut parts, body) = request.into_parts();
    let max_head_bytes = listener.config.max_request_headers_kb as usize * 1024;
    if let Err(refusal) = validate::check(&parts, max_head_bytes) {
        return refuse(refusal, parts.version);
    }
    let is_grpc = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    let tls = downstream.tls();
    let mut headers = request_to_map(&parts, tls.is_some());
    let info =
        Rc::new(StreamInfo::new(peer, local, protocol(parts.version), is_grpc).with_tls(tls));
    let pause_limit = pause_limit(&listener.config);
    let buffer_limit = listener.config.per_connection_buffer_limit_bytes as usize;
    let keys = StickyKeys {
        connection: (peer, local),
        headers: &headers,
    };
    let stream = ChainStream::with_rollouts(
        &listener.chain,
        &keys,
        info.clone(),
        pause_limit,
        buffer_limit,
    );
    if let Some(log) = &listener.access_log {
        let (log, overload) = (log.clone(), worker.overload().clone());
        stream.at_end(Box::new(move |info| log.record(info, &overload)));
    }
    // Decided on the client's head, before any filter, as Envoy's connection manager does.
    let upgrade = match super::upgrade::requested(&parts.headers) {
        Some(protocol) if parts.version < http::Version::HTTP_2 => {
            let config = &listener.config;
            let route = super::routing::find(&config.routes, &headers).map(|i| &config.routes[i]);
            if !route.is_some_and(|route| config.allows_upgrade(route, &protocol)) {
                return refuse(validate::UPGRADE_REFUSED, parts.version);
            }
            super::upgrade::keep_upgrade_headers(&parts.headers, &mut headers);
            parts.extensions.remove::<OnUpgrade>()
        }
        _ => None,
    };
    listener.upstreams.strip_destination_headers(&mut headers);
    add_forwarding_headers(
        &mut headers,
        downstream.peer_ip(),
        downstream.tls().is_some(),
    );
    let end_of_stream = body.is_end_stream();
    match stream.request_headers(&mut headers, end_of_stream).await {
        Step::Continue => {}
        Step::LocalReply(reply) => return local_reply::through_filters(stream, reply).await,
        Step::Reset => return Err("stream reset by a filter".into()),
    }
    let client = Client {
        body,
        end_of_stream,
        upgrade,
        downstream,
        head: std::mem::take(&mut parts.headers),
    };
    forward(listener, stream, headers, client).await
}

/// Envoy's answer to a head its codec refuses: no filter runs, and an HTTP/1 connection closes
/// after it.
fn refuse(refusal: Refusal, version: http::Version) -> HandlerResult {
    log::debug!("refused a request head: {}", refusal.details);
    let mut headers = status_only(refusal.status);
    if !refusal.body.is_empty() {
        headers.add(b"content-type", b"text/plain");
    }
    if version < http::Version::HTTP_2 {
        headers.add(b"connection", b"close");
    }
    local_reply::build(&headers, body::full(refusal.body))
}

fn status_only(status: u16) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.add(b":status", status.to_string().as_bytes());
    headers
}

/// What of the client's request is left once its head has passed the filters.
struct Client {
    body: Incoming,
    end_of_stream: bool,
    /// The client's side of an allowed upgrade.
    upgrade: Option<OnUpgrade>,
    downstream: Rc<Downstream>,
    /// The client's header map as the codec parsed it, its allocation lent to the upstream
    /// request's.
    head: http::HeaderMap,
}

/// How long a filter may keep a stream paused: the longest route timeout, or the stream idle
/// timeout where a route's is off (a day at most, when both are off).
fn pause_limit(config: &ListenerConfig) -> Duration {
    let idle = match config.stream_idle_timeout_ms {
        0 => Duration::from_secs(24 * 3600),
        ms => Duration::from_millis(ms),
    };
    config
        .routes
        .iter()
        .map(|r| match r.timeout_ms {
            0 => idle,
            ms => Duration::from_millis(ms),
        })
        .max()
        .unwrap_or(Duration::from_secs(15))
}

/// Routes the filtered request and exchanges it with the upstream.
async fn forward(
    listener: Rc<ListenerLocal>,
    stream: Rc<ChainStream>,
    mut headers: HeaderMap,
    client: Client,
) -> HandlerResult {
    let Client {
        body,
        end_of_stream,
        upgrade,
        downstream,
        head,
    } = client;
    let Some(index) = super::routing::find(&listener.config.routes, &headers) else {
        return local_reply::through_filters(stream, LocalReply::text(404, "", "route_not_found"))
            .await;
    };
    let route = &listener.config.routes[index];
    stream.info().routed(listener.route_names[index].clone());
    let cluster = match listener.upstreams.get(&route.cluster) {
        Some(cluster) => cluster,
        None => {
            return local_reply::through_filters(
                stream,
                LocalReply::text(503, "no healthy upstream", "cluster_not_found"),
            )
            .await
        }
    };
    let endpoint = match cluster.pick(&mut headers) {
        Ok(endpoint) => endpoint,
        Err(e @ PickError::NotAllowed(_)) => {
            log::debug!("cluster {}: {e}", cluster.config.name);
            let reply = LocalReply::text(
                503,
                "original destination not allowed",
                "original_dst_not_allowed",
            );
            return local_reply::through_filters(stream, reply).await;
        }
        Err(e @ PickError::NoEndpoint(_)) => {
            log::debug!("cluster {}: {e}", cluster.config.name);
            return local_reply::through_filters(
                stream,
                LocalReply::text(503, "no healthy upstream", "no_healthy_upstream"),
            )
            .await;
        }
    };
    stream.info().upstream_picked(endpoint);
    // Held until the response is over: the request is outstanding that long.
    let mut admission = match cluster.admission.admit() {
        Ok(admission) => admission,
        Err(_) => return local_reply::through_filters(stream, overflow_reply()).await,
    };

    let abort = Rc::new(RequestAbort::default());
    let timers = Rc::new(StreamTimers::new(
        Duration::from_millis(route.timeout_ms),
        Duration::from_millis(listener.config.stream_idle_timeout_ms),
    ));
    let upstream_body = if end_of_stream {
        timers.route.request_complete();
        body::empty()
    } else {
        let (tx, rx) = body::channel();
        tokio::task::spawn_local(pumps::request_body(
            stream.clone(),
            body,
            tx,
            abort.clone(),
            timers.clone(),
        ));
        rx.boxed()
    };
    let request = match headers_conv::upstream_request(
        &headers,
        cluster.authority(endpoint),
        upstream_body,
        head,
    ) {
        Ok(mut request) => {
            if !end_of_stream && !cluster.config.http2 {
                announce_body(&mut request);
            }
            request
        }
        Err(e) => {
            log::debug!("cannot build upstream request: {e}");
            return local_reply::through_filters(
                stream,
                LocalReply::text(400, "bad request\n", "bad_request"),
            )
            .await;
        }
    };
    // Biased: when the request pump stops the stream (a filter's reply, a client's bad body),
    // the exchange it abandoned may fail in the same turn, and the stop is what happened.
    let outcome = tokio::select! {
        biased;
        step = abort.wait() => match step {
            Step::LocalReply(reply) => return local_reply::through_filters(stream, reply).await,
            _ => return Err("stream reset by a filter".into()),
        },
        step = stream.stopped_out_of_band() => match step {
            Step::LocalReply(reply) => return local_reply::through_filters(stream, reply).await,
            _ => return Err("stream reset by a filter".into()),
        },
        expiry = timers.expired() => Err(expiry),
        sent = cluster.send(&mut admission, endpoint, request) => Ok(sent),
    };
    match outcome {
        Err(Expiry::Route) => {
            local_reply::through_filters(
                stream,
                LocalReply::text(504, "upstream request timeout", "response_timeout"),
            )
            .await
        }
        Err(Expiry::Idle) => {
            // Envoy's codes: the client still owes body bytes (408), or it is the upstream
            // that is silent (504).
            let status = if timers.route.request_is_complete() {
                504
            } else {
                408
            };
            let reply = LocalReply::text(status, "stream timeout", "stream_idle_timeout");
            local_reply::through_filters(stream, reply).await
        }
        Ok(Err(SendError::Overflow(overflow))) => {
            log::debug!("cluster {}: {overflow}", cluster.config.name);
            local_reply::through_filters(stream, overflow_reply()).await
        }
        Ok(Err(e)) => {
            log::debug!("upstream {endpoint} failed: {e:?}");
            // Envoy's body and details: a refused or failed connect is a connection failure,
            // anything else a reset by the upstream before its response started.
            let (body, details) = super::upstream_failure::send_failure(&e);
            local_reply::through_filters(stream, LocalReply::text(503, &body, &details)).await
        }
        Ok(Ok(response)) => {
            if let Some(tls) = response.extensions().get::<UpstreamTls>() {
                stream.info().upstream_tls_used(tls.0.clone());
            }
            match upgrade {
                Some(client) if response.status() == http::StatusCode::SWITCHING_PROTOCOLS => {
                    super::upgrade::respond(stream, response, client, timers, admission, downstream)
                        .await
                }
                _ => super::respond::respond(stream, response, timers, downstream, admission).await,
            }
        }
    }
}

/// Says that an HTTP/1.1 request has a body when its length is unknown. hyper sends a GET,
/// HEAD or CONNECT of unknown length without its body unless told so, and a client's GET with
/// a chunked body (rare, but valid) reached the backend empty.
fn announce_body(request: &mut http::Request<body::ProxyBody>) {
    let headers = request.headers_mut();
    if !headers.contains_key(http::header::CONTENT_LENGTH) {
        let chunked = http::HeaderValue::from_static("chunked");
        headers.insert(http::header::TRANSFER_ENCODING, chunked);
    }
}

/// Envoy's answer when a circuit breaker turns a request away.
fn overflow_reply() -> LocalReply {
    let mut reply = LocalReply::text(
        503,
        &reset_body("overflow"),
        "upstream_reset_before_response_started{overflow}",
    );
    reply.headers.add(b"x-envoy-overloaded", b"true");
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids_and_differ() {
        let (a, b) = (request_id(), request_id());
        assert_ne!(a, b);
        for id in [a, b] {
            let groups: Vec<&str> = id.split('-').collect();
            let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            assert_eq!(lengths, [8, 4, 4, 4, 12], "{id}");
            assert!(
                id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
                "{id}"
            );
            assert!(groups[2].starts_with('4'), "version 4: {id}");
            assert!(
                matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
                "variant: {id}"
            );
        }
    }
}
