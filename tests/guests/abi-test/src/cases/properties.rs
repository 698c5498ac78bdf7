//! `properties`, `properties-response`: `proxy_get_property` on well-known paths, decoded the
//! way Envoy encodes them (strings raw, integers 8-byte little-endian, booleans one byte), and
//! `proxy_set_property` of a custom path read back.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, MapType};
use serde_json::{json, Map, Value};

use crate::case::{Case, Env};
use crate::report::{self, hex, text};
use crate::status;

/// How a property's bytes are decoded for the report.
#[derive(Clone, Copy)]
enum Kind {
    /// UTF-8 text.
    Str,
    /// Signed 64-bit little-endian integer.
    Int,
    /// One byte, 0 or 1.
    Bool,
}

/// (dotted name as reported, path segments, kind). Only values that are deterministic for a
/// given listener, plugin and request; host-specific ones (ids, sizes, times) are left out.
const REQUEST_PROPERTIES: &[(&str, &[&str], Kind)] = &[
    ("request.path", &["request", "path"], Kind::Str),
    ("request.url_path", &["request", "url_path"], Kind::Str),
    ("request.host", &["request", "host"], Kind::Str),
    ("request.scheme", &["request", "scheme"], Kind::Str),
    ("request.method", &["request", "method"], Kind::Str),
    ("request.protocol", &["request", "protocol"], Kind::Str),
    (
        "request.headers.x-abi-case",
        &["request", "headers", "x-abi-case"],
        Kind::Str,
    ),
    ("source.address", &["source", "address"], Kind::Str),
    ("source.port", &["source", "port"], Kind::Int),
    (
        "destination.address",
        &["destination", "address"],
        Kind::Str,
    ),
    ("destination.port", &["destination", "port"], Kind::Int),
    ("connection.mtls", &["connection", "mtls"], Kind::Bool),
    (
        "connection.tls_version",
        &["connection", "tls_version"],
        Kind::Str,
    ),
    (
        "connection.requested_server_name",
        &["connection", "requested_server_name"],
        Kind::Str,
    ),
    (
        "connection.subject_peer_certificate",
        &["connection", "subject_peer_certificate"],
        Kind::Str,
    ),
    (
        "connection.uri_san_peer_certificate",
        &["connection", "uri_san_peer_certificate"],
        Kind::Str,
    ),
    (
        "connection.dns_san_peer_certificate",
        &["connection", "dns_san_peer_certificate"],
        Kind::Str,
    ),
    (
        "connection.sha256_peer_certificate_digest",
        &["connection", "sha256_peer_certificate_digest"],
        Kind::Str,
    ),
    (
        "connection.subject_local_certificate",
        &["connection", "subject_local_certificate"],
        Kind::Str,
    ),
    (
        "connection.uri_san_local_certificate",
        &["connection", "uri_san_local_certificate"],
        Kind::Str,
    ),
    (
        "connection.dns_san_local_certificate",
        &["connection", "dns_san_local_certificate"],
        Kind::Str,
    ),
    ("plugin_name", &["plugin_name"], Kind::Str),
    ("plugin_root_id", &["plugin_root_id"], Kind::Str),
    ("plugin_vm_id", &["plugin_vm_id"], Kind::Str),
    ("abi_no_such_property", &["abi_no_such_property"], Kind::Str),
];

/// Read in `on_response_headers`, each reported as header `x-abi-prop-<header suffix>`.
const RESPONSE_PROPERTIES: &[(&str, &[&str], Kind)] = &[
    ("response-code", &["response", "code"], Kind::Int),
    (
        "response-header",
        &["response", "headers", "x-backend"],
        Kind::Str,
    ),
    ("upstream-address", &["upstream", "address"], Kind::Str),
    // Which side failed, as the host tells filters (failover's retry reasons rest on it).
    ("code-details", &["response", "code_details"], Kind::Str),
    ("flags", &["response", "flags"], Kind::Int),
    // Over a TLS cluster: the upstream connection's session.
    (
        "upstream-tls-version",
        &["upstream", "tls_version"],
        Kind::Str,
    ),
    (
        "upstream-peer-subject",
        &["upstream", "subject_peer_certificate"],
        Kind::Str,
    ),
    (
        "upstream-peer-uri-san",
        &["upstream", "uri_san_peer_certificate"],
        Kind::Str,
    ),
    (
        "upstream-peer-dns-san",
        &["upstream", "dns_san_peer_certificate"],
        Kind::Str,
    ),
    (
        "upstream-peer-digest",
        &["upstream", "sha256_peer_certificate_digest"],
        Kind::Str,
    ),
    (
        "upstream-local-uri-san",
        &["upstream", "uri_san_local_certificate"],
        Kind::Str,
    ),
    (
        "upstream-local-subject",
        &["upstream", "subject_local_certificate"],
        Kind::Str,
    ),
];

/// The custom property set and read back in the request case.
const CUSTOM_PATH: &str = "abi_prop";
const CUSTOM_VALUE: &[u8] = b"hello";

/// A property: `Ok(None)` when the host reports it absent.
fn read(path: &[&str]) -> Result<Option<Vec<u8>>, proxy_wasm::types::Status> {
    hostcalls::get_property(path.to_vec())
}

fn decode(kind: Kind, bytes: &[u8]) -> Value {
    match kind {
        Kind::Str => Value::from(text(bytes)),
        Kind::Int => match <[u8; 8]>::try_from(bytes) {
            Ok(le) => Value::from(i64::from_le_bytes(le)),
            Err(_) => json!({"bad_length": bytes.len()}),
        },
        Kind::Bool => match bytes {
            [0] => Value::from(false),
            [1] => Value::from(true),
            _ => json!({"bad_length": bytes.len()}),
        },
    }
}

/// `properties`: a JSON reply `{"values": {name: decoded|null}, "hex": {name: hex|null},
/// "errors": {name: status}, "set_property": status, "custom": text|null}`.
pub struct RequestProperties;

impl Case for RequestProperties {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let mut values = Map::new();
        let mut hexes = Map::new();
        let mut errors = Map::new();
        for (name, path, kind) in REQUEST_PROPERTIES {
            let (value, raw) = match read(path) {
                Ok(Some(bytes)) => (decode(*kind, &bytes), Value::from(hex(&bytes))),
                Ok(None) => (Value::Null, Value::Null),
                Err(s) => {
                    errors.insert(name.to_string(), Value::from(status::of(s)));
                    (Value::Null, Value::Null)
                }
            };
            values.insert(name.to_string(), value);
            hexes.insert(name.to_string(), raw);
        }
        let set = hostcalls::set_property(vec![CUSTOM_PATH], Some(CUSTOM_VALUE));
        let custom = match read(&[CUSTOM_PATH]) {
            Ok(Some(bytes)) => Value::from(text(&bytes)),
            Ok(None) => Value::Null,
            Err(s) => Value::from(format!("error: {}", status::of(s))),
        };
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "values": values,
                "hex": hexes,
                "errors": errors,
                "set_property": status::of_result(&set),
                "custom": custom,
            }),
        );
        Action::Pause
    }
}

/// `properties-response`: response-phase properties as response headers.
pub struct ResponseProperties;

impl Case for ResponseProperties {
    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        for (suffix, path, kind) in RESPONSE_PROPERTIES {
            let shown = match read(path) {
                Ok(Some(bytes)) => match decode(*kind, &bytes) {
                    Value::String(s) => s,
                    other => other.to_string(),
                },
                Ok(None) => report::ABSENT.to_string(),
                Err(s) => format!("<error:{}>", status::of(s)),
            };
            let name = format!("x-abi-prop-{suffix}");
            report::set_header(MapType::HttpResponseHeaders, &name, &shown);
        }
        Action::Continue
    }
}
