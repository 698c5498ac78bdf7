//! Converting between hyper's request/response heads and the ordered
//! [`HeaderMap`] filters see (with `:method`, `:path`, `:authority`,
//! `:scheme`, `:status` pseudo headers), dropping hop-by-hop headers.

use http::header::{HeaderName, HeaderValue};

use http::uri::Authority;
use http::{request, response};

use super::body::ProxyBody;
use super::header_names::header_name;
use wasmesh_host::headers::HeaderMap;

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
];

fn is_hop_by_hop(name: &str, connection_listed: &[String]) -> bool {
    HOP_BY_HOP.contains(&name) || connection_listed.iter().any(|c| c == name)
}

fn connection_listed(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `te: trailers` is the one `te` that goes on: it says the client takes trailers, which gRPC
/// servers require (and h2 allows), and Envoy forwards it even when `connection` names it.
fn is_te_trailers(name: &str, value: &http::HeaderValue) -> bool {
    name == "te"
        && value
            .as_bytes()
            .trim_ascii()
            .eq_ignore_ascii_case(b"trailers")
}

/// Appends `from`'s end-to-end headers to `into`, leaving out `except` too (`host`, which a
/// request carries as `:authority`).
fn copy_end_to_end(from: &http::HeaderMap, into: &mut HeaderMap, except: Option<&HeaderName>) {
    let listed = connection_listed(from);
    for (name, value) in from {
        if Some(name) == except {
            continue;
        }
        if !is_hop_by_hop(name.as_str(), &listed) || is_te_trailers(name.as_str(), value) {
            into.add(name.as_str().as_bytes(), value.as_bytes());
        }
    }
}

/// A downstream request head as filters see it.
pub fn request_to_map(parts: &request::Parts, tls: bool) -> HeaderMap {
    // Room for the pseudo headers, the client's, and the few the proxy and filters add.
    let mut map = HeaderMap::with_capacity(parts.headers.len() + 8);
    // An absolute-form URI's userinfo (`user:pw@`) is not part of the host (RFC 9110 §4.2.4
    // deprecates it; Envoy drops it), so it never reaches `:authority` or the upstream's Host.
    let authority = parts
        .uri
        .authority()
        .map(|a| {
            a.as_str()
                .rsplit_once('@')
                .map_or(a.as_str(), |(_, host)| host)
        })
        .or_else(|| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
        })
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    map.add(b":authority", authority.as_bytes());
    map.add(b":path", path.as_bytes());
    map.add(b":method", parts.method.as_str().as_bytes());
    // An HTTP/1 request names no scheme: the connection's is the answer, as Envoy's codec
    // gives it. An h2 request carries its own `:scheme`.
    let connection_scheme = if tls { "https" } else { "http" };
    map.add(
        b":scheme",
        parts
            .uri
            .scheme_str()
            .unwrap_or(connection_scheme)
            .as_bytes(),
    );
    copy_end_to_end(&parts.headers, &mut map, Some(&http::header::HOST));
    map
}

/// An upstream response head as filters see it.
pub fn response_to_map(parts: &response::Parts) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(parts.headers.len() + 4);
    map.add(b":status", parts.status.as_str().as_bytes());
    copy_end_to_end(&parts.headers, &mut map, None);
    map
}

/// Non-pseudo pairs as hyper headers; invalid names or values are dropped with a log line.
pub fn to_http_headers(map: &HeaderMap) -> http::HeaderMap {
    into_http_headers(map, http::HeaderMap::with_capacity(map.len()))
}

/// [`to_http_headers`] into `out`, emptied first: a head the codec parsed (the client's request
/// head for the upstream request, the upstream's response head for the client's response)
/// lends its allocation to the head that replaces it. A hyper map allocates a table sized for
/// its capacity; building a fresh one for each head was about 2 % of a worker's cycles with
/// three filters. The values share one copy of the map's buffer rather than each allocating
/// its own.
pub fn into_http_headers(map: &HeaderMap, out: http::HeaderMap) -> http::HeaderMap {
    convert_into(map, out, false)
}

/// [`into_http_headers`]; with `host_from_authority`, `host` is `:authority`'s value (a slice
/// of the same copy), in place of any `host` pair, as an upstream request carries it.
fn convert_into(
    map: &HeaderMap,
    mut out: http::HeaderMap,
    host_from_authority: bool,
) -> http::HeaderMap {
    out.clear();
    let (buffer, pairs) = map.buffer_and_ranges();
    let shared = bytes::Bytes::copy_from_slice(buffer);
    let mut authority = None;
    for (name, value) in pairs {
        let k = &buffer[name];
        if k.first() == Some(&b':') {
            if host_from_authority && k == b":authority" && authority.is_none() {
                authority = Some(value);
            }
            continue;
        }
        let value = HeaderValue::from_maybe_shared(shared.slice(value));
        match (header_name(k), value) {
            (Ok(name), Ok(value)) => {
                out.append(name, value);
            }
            _ => log::warn!(
                "dropping invalid header {:?} set by a filter",
                String::from_utf8_lossy(k)
            ),
        }
    }
    if let Some(value) = authority {
        if let Ok(host) = HeaderValue::from_maybe_shared(shared.slice(value)) {
            out.insert(http::header::HOST, host);
        }
    }
    out
}

/// Trailers (a plain header map) from hyper's.
pub fn trailers_to_map(trailers: &http::HeaderMap) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in trailers {
        map.add(k.as_str().as_bytes(), v.as_bytes());
    }
    map
}

/// The request to send upstream (or for an HTTP call): method and path from the pseudo
/// headers, an absolute URI to `endpoint` (the endpoint's `ip:port`), `host` from
/// `:authority`.
/// `reuse` lends its allocation to the request's header map ([`into_http_headers`]).
pub fn upstream_request(
    headers: &HeaderMap,
    endpoint: Authority,
    body: ProxyBody,
    reuse: http::HeaderMap,
) -> Result<http::Request<ProxyBody>, http::Error> {
    let path = headers.get_str(":path").unwrap_or("/");
    let method = headers.get_str(":method").unwrap_or("GET");
    let uri = if path.starts_with('/') {
        http::Uri::builder()
            .scheme(http::uri::Scheme::HTTP)
            .authority(endpoint)
            .path_and_query(path)
            .build()?
    } else {
        // Not an origin-form path (a filter's odd `:path`): parsed whole, as it always was.
        http::Uri::try_from(format!("http://{endpoint}{path}"))?
    };
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body)?;
    *request.headers_mut() = convert_into(headers, reuse, true);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_request_carries_authority_as_its_one_host() {
        let mut map = HeaderMap::new();
        map.add(b":authority", b"example.com:8080");
        map.add(b":path", b"/x?y=1");
        map.add(b":method", b"POST");
        map.add(b"host", b"set-by-a-filter");
        map.add(b"x-a", b"1");
        let endpoint: Authority = "10.0.0.1:80".parse().unwrap();
        let reuse = http::HeaderMap::new();
        let request = upstream_request(&map, endpoint, crate::body::empty(), reuse).unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri().to_string(), "http://10.0.0.1:80/x?y=1");
        let hosts: Vec<_> = request
            .headers()
            .get_all(http::header::HOST)
            .iter()
            .collect();
        assert_eq!(hosts, ["example.com:8080"]);
        assert_eq!(request.headers()["x-a"], "1");
        assert_eq!(request.headers().len(), 2);
    }

    #[test]
    fn a_response_gets_no_host() {
        let mut map = HeaderMap::new();
        map.add(b":status", b"200");
        map.add(b"x-b", b"2");
        let out = into_http_headers(&map, http::HeaderMap::new());
        assert_eq!(out.len(), 1);
        assert_eq!(out["x-b"], "2");
    }
}
