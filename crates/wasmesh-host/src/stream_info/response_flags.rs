//! Envoy's response flags (`response.flags`, a bit set) and its words for why the proxy itself
//! answered (`response.code_details`, the local reply bodies), so a filter tells which side
//! failed exactly as it would in Envoy: a refused connection is the upstream's fault
//! (`UF`), a route timeout too (`UT`), a route that does not exist the configuration's (`NR`),
//! a body that does not parse the client's (`http1.codec_error`, no flag).

/// `UH`: no healthy upstream.
pub const NO_HEALTHY_UPSTREAM: u64 = 0x2;
/// `UT`: the route timeout.
pub const UPSTREAM_REQUEST_TIMEOUT: u64 = 0x4;
/// `UF`: the upstream connection failed.
pub const UPSTREAM_CONNECTION_FAILURE: u64 = 0x20;
/// `UC`: the upstream connection ended before the response started.
pub const UPSTREAM_CONNECTION_TERMINATION: u64 = 0x40;
/// `UO`: a circuit breaker turned the request away.
pub const UPSTREAM_OVERFLOW: u64 = 0x80;
/// `NR`: no route.
pub const NO_ROUTE_FOUND: u64 = 0x100;
/// `URX`: the attempts to reach an upstream ran out (a TCP connection's one connect attempt
/// failed, in Envoy's `tcp_proxy`).
pub const UPSTREAM_RETRY_LIMIT_EXCEEDED: u64 = 0x8000;
/// `SI`: the stream idle timeout.
pub const STREAM_IDLE_TIMEOUT: u64 = 0x10000;
/// `NC`: the route's cluster does not exist.
pub const NO_CLUSTER_FOUND: u64 = 0x100_0000;

/// The flags of a stream whose answer has these details. The details are set in one place for
/// every answer, so deriving the flags from them keeps the two properties from disagreeing.
pub fn of(details: &str) -> u64 {
    const RESET: &str = "upstream_reset_before_response_started{";
    if let Some(reason) = details.strip_prefix(RESET) {
        return if reason.starts_with("remote_connection_failure")
            || reason.starts_with("connection_timeout")
        {
            UPSTREAM_CONNECTION_FAILURE
        } else if reason.starts_with("overflow") {
            UPSTREAM_OVERFLOW
        } else {
            UPSTREAM_CONNECTION_TERMINATION
        };
    }
    match details {
        "response_timeout" => UPSTREAM_REQUEST_TIMEOUT,
        "route_not_found" => NO_ROUTE_FOUND,
        "cluster_not_found" => NO_CLUSTER_FOUND,
        "no_healthy_upstream" => NO_HEALTHY_UPSTREAM,
        "stream_idle_timeout" => STREAM_IDLE_TIMEOUT,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_the_details() {
        assert_eq!(of("via_upstream"), 0);
        assert_eq!(of("response_timeout"), UPSTREAM_REQUEST_TIMEOUT);
        assert_eq!(
            of("upstream_reset_before_response_started{overflow}"),
            UPSTREAM_OVERFLOW
        );
        assert_eq!(
            of("upstream_reset_before_response_started{connection_termination}"),
            UPSTREAM_CONNECTION_TERMINATION
        );
        assert_eq!(
            of("upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}"),
            UPSTREAM_CONNECTION_FAILURE
        );
        assert_eq!(of("http1.codec_error"), 0);
    }
}
