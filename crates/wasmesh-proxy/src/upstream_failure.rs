//! Envoy's words for an upstream that failed before its response started: the local reply's
//! body and its `response.code_details`, from which the stream's `response.flags` follow
//! (`wasmesh_host::stream_info::response_flags`).

/// Envoy's body and details for a connection to the upstream that could not be made: the
/// errno's text when the system gave one (`Connection refused`), as Envoy reports the
/// transport's failure reason.
pub fn connect_failure(error: &(dyn std::error::Error + 'static)) -> (String, String) {
    let io = std::iter::successors(Some(error), |e| e.source())
        .find_map(|e| e.downcast_ref::<std::io::Error>());
    if io.is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) {
        return (
            reset_body("connection timeout"),
            "upstream_reset_before_response_started{connection_timeout}".into(),
        );
    }
    let Some(errno) = io.and_then(std::io::Error::raw_os_error) else {
        return (
            reset_body("remote connection failure"),
            "upstream_reset_before_response_started{remote_connection_failure}".into(),
        );
    };
    let text = nix::errno::Errno::from_raw(errno).desc();
    let transport = format!("delayed connect error: {text}");
    let body = format!(
        "{}, transport failure reason: {transport}",
        reset_body("remote connection failure")
    );
    let details = format!(
        "upstream_reset_before_response_started{{remote_connection_failure|{}}}",
        transport.replace(' ', "_")
    );
    (body, details)
}

/// The words and details Envoy's router answers a request with (an HTTP call's body, a gRPC
/// call's `grpc-message`) when sending it to the cluster failed before any response.
pub fn send_failure(error: &super::upstream::SendError) -> (String, String) {
    use super::upstream::SendError;
    let reset = |reason: &str| {
        (
            reset_body(reason),
            format!(
                "upstream_reset_before_response_started{{{}}}",
                reason.replace(' ', "_")
            ),
        )
    };
    match error {
        SendError::Connect(e) => connect_failure(&**e),
        SendError::Exchange(_) => reset("connection termination"),
        SendError::Overflow(_) => reset("overflow"),
    }
}

/// Envoy's body for a stream reset before the upstream's response started.
pub fn reset_body(reason: &str) -> String {
    format!("upstream connect error or disconnect/reset before headers. reset reason: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmesh_host::stream_info::response_flags::{of, UPSTREAM_CONNECTION_FAILURE};

    #[test]
    fn a_refused_connection_is_told_as_envoy_tells_it() {
        let refused = std::io::Error::from_raw_os_error(111);
        let (body, details) = connect_failure(&refused);
        assert_eq!(
            details,
            "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}"
        );
        assert_eq!(
            body,
            "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused"
        );
        assert_eq!(of(&details), UPSTREAM_CONNECTION_FAILURE);
    }
}
