//! Request heads a proxy in front of unknown backends must refuse rather than forward, refused
//! with Envoy 1.40's status and body before any filter runs (Envoy refuses them in its codec,
//! where no filter sees them either).
//!
//! hyper parses the request; what it lets through and Envoy does not is checked here:
//! a `Transfer-Encoding` other than a lone `chunked` (501: hyper decodes `gzip, chunked` as
//! chunked and the coding would be lost), HTTP/1.1 without `Host` (RFC 9112 §3.2) or with a
//! `Host` that is no host, `CONNECT`, and `Upgrade` to anything but `websocket` (which the
//! matched route decides on, see [`super::upgrade`]) or `h2c`.

use http::request::Parts;
use http::{Method, Version};

/// How a refused request is answered; the connection closes after it, as Envoy's does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Status code.
    pub status: u16,
    /// Body (`text/plain` when not empty).
    pub body: &'static str,
    /// `response.code_details` and the debug log.
    pub details: &'static str,
}

/// Envoy's answer to an upgrade no listener or route allows.
pub const UPGRADE_REFUSED: Refusal = Refusal {
    status: 403,
    body: "",
    details: "upgrade_failed",
};

const NOT_IMPLEMENTED: Refusal = Refusal {
    status: 501,
    body: "Not Implemented",
    details: "unsupported_transfer_encoding",
};

/// Envoy's answer to a head larger than `max_request_headers_kb`.
const HEAD_TOO_LARGE: Refusal = Refusal {
    status: 431,
    body: "",
    details: "header_overflow",
};

/// `Ok` for a head that may go on to the filters; the refusal otherwise. `max_head_bytes` is
/// the listener's `max_request_headers_kb` in bytes.
pub fn check(head: &Parts, max_head_bytes: usize) -> Result<(), Refusal> {
    if head_size(head) > max_head_bytes {
        return Err(HEAD_TOO_LARGE);
    }
    if head.method == Method::CONNECT {
        // Envoy routes CONNECT only through routes with a `connect_matcher`; none exist here.
        return Err(Refusal {
            status: 404,
            body: "",
            details: "route_not_found",
        });
    }
    if head.version < Version::HTTP_2 {
        check_http1(head)?;
    }
    Ok(())
}

/// The head's size as Envoy counts it against `max_request_headers_kb`: the URI and every
/// header's name and value. hyper's own limit is its read buffer, which it enforces in
/// read-sized steps, so a head of 61 KiB got through a 60 KiB limit.
fn head_size(head: &Parts) -> usize {
    let fields: usize = head
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let uri = &head.uri;
    let scheme = uri.scheme_str().map_or(0, str::len);
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    scheme + authority + path + head.method.as_str().len() + fields
}

fn check_http1(head: &Parts) -> Result<(), Refusal> {
    let headers = &head.headers;
    let mut codings = headers.get_all(http::header::TRANSFER_ENCODING).iter();
    if let Some(first) = codings.next() {
        let lone_chunked = codings.next().is_none()
            && first
                .to_str()
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
        if !lone_chunked {
            return Err(NOT_IMPLEMENTED);
        }
    }
    if super::upgrade::requested(headers).is_some_and(|p| p != "websocket") {
        return Err(UPGRADE_REFUSED);
    }
    if head.version == Version::HTTP_11 {
        let mut hosts = headers.get_all(http::header::HOST).iter();
        match (hosts.next(), hosts.next()) {
            (None, _) => {
                return Err(Refusal {
                    status: 400,
                    body: "",
                    details: "missing_host_header",
                })
            }
            (Some(host), None) if is_host(host.as_bytes()) => {}
            _ => {
                return Err(Refusal {
                    status: 400,
                    body: "Bad Request",
                    details: "invalid_host_header",
                })
            }
        }
    }
    Ok(())
}

/// Whether `value` is `host[:port]` as RFC 3986 allows it: a reg-name or IPv4 address (letters,
/// digits, `-._~`, sub-delims, percent-escapes) or a bracketed IP literal, then digits.
fn is_host(value: &[u8]) -> bool {
    let (host, port) = if value.first() == Some(&b'[') {
        let Some(end) = value.iter().position(|b| *b == b']') else {
            return false;
        };
        let literal = &value[1..end];
        if literal.is_empty()
            || !literal
                .iter()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
        {
            return false;
        }
        (&value[..=end], &value[end + 1..])
    } else {
        match value.iter().rposition(|b| *b == b':') {
            Some(colon) => (&value[..colon], &value[colon..]),
            None => (value, &value[value.len()..]),
        }
    };
    let reg_name_ok = host.first() == Some(&b'[')
        || host.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'%'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                )
        });
    let port_ok = match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    };
    !host.is_empty() && reg_name_ok && port_ok
}

#[cfg(test)]
mod tests;
