//! Naming what a client did wrong when its connection ends in an error, for
//! `wasmesh_downstream_protocol_errors_total{reason}`: hyper's HTTP/1 parse errors, and the
//! GOAWAYs wasmesh's h2 codec sent (rapid resets and CONTINUATION floods end in
//! `ENHANCE_YOUR_CALM`). Errors of the peer's own making that are not protocol errors (a
//! reset, a closed socket) are not counted.

use std::error::Error;

/// The reason label for a connection that ended with `error`, if a client's protocol error
/// ended it.
pub fn reason(error: &(dyn Error + 'static)) -> Option<String> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
            if hyper.is_parse_too_large() {
                return Some("http1_head_too_large".into());
            }
            if hyper.is_parse() {
                return Some("http1_parse".into());
            }
        }
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            if h2.is_go_away() && h2.is_library() {
                return h2.reason().map(|r| format!("{r:?}").to_ascii_lowercase());
            }
            return None;
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_that_are_not_the_clients_protocol_are_not_named() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(reason(&io), None);
        let remote: h2::Error = h2::Reason::PROTOCOL_ERROR.into();
        assert_eq!(reason(&remote), None, "not a GOAWAY wasmesh sent");
    }
}
