//! `proxy_get_property` / `proxy_set_property` with Envoy's attribute names
//! and value encodings: strings as raw bytes, integers as 8-byte
//! little-endian, maps as serialized pairs. Paths arrive as NUL-separated
//! segments (`request\0path`); dotted paths are accepted too.

mod address_text;

use std::time::UNIX_EPOCH;

use wasmtime::Linker;

use super::memory::{return_bytes, with_bytes, with_two};
use super::{finish, Caller, Status};
use crate::headers::HeaderMap;
use crate::store::HostState;
use crate::store::HttpStream;
use crate::stream_info::TlsSession;
use address_text::address_text;

/// An attribute's value, typed as Envoy's CEL expressions see it (`foreign/cel.rs`); a property
/// is its encoding.
pub(crate) enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
    /// Nanoseconds since the Unix epoch.
    Timestamp(i64),
    /// Nanoseconds.
    Duration(i64),
    Map(HeaderMap),
}

impl Value {
    /// The property encoding: text as its bytes, numbers and times as 8 bytes little-endian, a
    /// bool as one byte, a map as serialized pairs.
    fn encode(self) -> Vec<u8> {
        match self {
            Value::Text(s) => s.into_bytes(),
            Value::Int(i) | Value::Timestamp(i) | Value::Duration(i) => i.to_le_bytes().to_vec(),
            Value::Bool(b) => vec![u8::from(b)],
            Value::Map(m) => m.serialize(),
        }
    }
}

fn text(s: impl AsRef<str>) -> Option<Value> {
    Some(Value::Text(s.as_ref().to_string()))
}

/// The attribute families and their fields (in groups), as Envoy's CEL activation has them:
/// what a CEL expression may reach under each top-level name.
pub(crate) const FAMILIES: &[(&str, &[&[&str]])] = &[
    (
        "request",
        &[&[
            "path",
            "url_path",
            "query",
            "host",
            "scheme",
            "method",
            "headers",
            "referer",
            "useragent",
            "id",
            "protocol",
            "time",
            "duration",
            "size",
        ]],
    ),
    (
        "response",
        &[&["code", "code_details", "flags", "headers", "size"]],
    ),
    ("source", &[&PEER_FIELDS]),
    ("destination", &[&PEER_FIELDS]),
    (
        "connection",
        &[
            &TLS_FIELDS,
            &["mtls", "requested_server_name", "dns_san_local_certificate"],
        ],
    ),
    ("upstream", &[&PEER_FIELDS, &TLS_FIELDS]),
];

const PEER_FIELDS: [&str; 2] = ["address", "port"];

/// A TLS session's fields, downstream (`connection.*`) and upstream (`upstream.*`).
const TLS_FIELDS: [&str; 7] = [
    "tls_version",
    "subject_peer_certificate",
    "uri_san_peer_certificate",
    "dns_san_peer_certificate",
    "sha256_peer_certificate_digest",
    "subject_local_certificate",
    "uri_san_local_certificate",
];

/// The attributes with a top-level name of their own.
pub(crate) const TOP_LEVEL: &[&str] = &[
    "plugin_name",
    "plugin_root_id",
    "plugin_vm_id",
    "route_name",
];

/// Attribute `key` (dotted) of the current context, typed: what a CEL expression reads. Unlike a
/// property, what a filter set with `proxy_set_property` is not an attribute.
pub(crate) fn attribute(state: &mut HostState, key: &str) -> Option<Value> {
    let plugin = &state.plugin;
    match key {
        "plugin_name" => return text(&plugin.name),
        "plugin_root_id" => return text(&plugin.root_id),
        "plugin_vm_id" => return text(&plugin.vm_id),
        _ => {}
    }
    stream_property(state.active_stream()?, key)
}

/// A path's segments, NUL-separated as the SDKs send them or dotted, joined by dots into one
/// string (a few lookups per request per filter: one allocation each, not one per segment).
fn dotted(path: &[u8]) -> String {
    let sep = if path.contains(&0) { 0 } else { b'.' };
    let mut key = String::with_capacity(path.len());
    for segment in path.split(|b| *b == sep).filter(|s| !s.is_empty()) {
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(&String::from_utf8_lossy(segment));
    }
    key
}

/// The key a property is kept under: its segments joined by dots, however the path came.
pub fn property_key(path: &[u8]) -> Vec<u8> {
    dotted(path).into_bytes()
}

/// Looks a property up in the current context.
pub fn lookup(state: &mut HostState, path: &[u8]) -> Option<Vec<u8>> {
    let key = dotted(path);
    let plugin = &state.plugin;
    match key.as_str() {
        "plugin_name" => return text(&plugin.name).map(Value::encode),
        "plugin_root_id" => return text(&plugin.root_id).map(Value::encode),
        "plugin_vm_id" => return text(&plugin.vm_id).map(Value::encode),
        _ => {}
    }
    let own = match state.active_stream() {
        None => None,
        Some(stream) => match stream.properties.get(key.as_bytes()) {
            Some(value) => Some(value.clone()),
            None => stream_property(stream, &key).map(Value::encode),
        },
    };
    own.or_else(|| state.embedder.property(&key))
}

fn request_header(stream: &HttpStream, name: &str) -> Option<String> {
    if let Some(map) = &stream.request_headers {
        return map.get_str(name).map(str::to_string);
    }
    let info = stream.info.request_headers();
    info.as_ref()?.get_str(name).map(str::to_string)
}

fn request_headers(stream: &HttpStream) -> Option<HeaderMap> {
    if let Some(map) = &stream.request_headers {
        return Some(map.clone());
    }
    stream.info.request_headers().clone()
}

fn response_headers(stream: &HttpStream) -> Option<HeaderMap> {
    if let Some(map) = &stream.response_headers {
        return Some(map.clone());
    }
    stream.info.response_headers().clone()
}

fn stream_property(stream: &HttpStream, key: &str) -> Option<Value> {
    let info = stream.info.clone();
    if let Some(name) = key.strip_prefix("request.headers.") {
        return request_header(stream, name).and_then(text);
    }
    if let Some(name) = key.strip_prefix("response.headers.") {
        let map = response_headers(stream)?;
        return map.get_str(name).and_then(text);
    }
    match key {
        "request.path" => request_header(stream, ":path").and_then(text),
        "request.url_path" => {
            let path = request_header(stream, ":path")?;
            text(path.split('?').next().unwrap_or_default())
        }
        "request.query" => {
            let path = request_header(stream, ":path")?;
            text(path.split_once('?').map(|(_, q)| q).unwrap_or_default())
        }
        "request.host" => request_header(stream, ":authority").and_then(text),
        "request.scheme" => request_header(stream, ":scheme").and_then(text),
        "request.method" => request_header(stream, ":method").and_then(text),
        "request.referer" => request_header(stream, "referer").and_then(text),
        "request.useragent" => request_header(stream, "user-agent").and_then(text),
        "request.id" => request_header(stream, "x-request-id").and_then(text),
        "request.protocol" => text(info.protocol()),
        "request.headers" => request_headers(stream).map(Value::Map),
        "request.time" => Some(Value::Timestamp(
            info.start_time()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0),
        )),
        // Envoy knows it once the stream is over (its log and done phases).
        "request.duration" => {
            (stream.ended).then(|| Value::Duration(info.elapsed().as_nanos() as i64))
        }
        "request.size" => Some(Value::Int(info.request_body_bytes() as i64)),
        "response.code" => info.response_code().map(|c| Value::Int(c as i64)),
        "response.code_details" => {
            let details = info.code_details();
            (!details.is_empty()).then(|| Value::Text(details.to_string()))
        }
        "response.flags" => Some(Value::Int(info.response_flags() as i64)),
        "response.headers" => response_headers(stream).map(Value::Map),
        "response.size" => Some(Value::Int(info.response_body_bytes() as i64)),
        "source.address" => Some(Value::Text(address_text(info.source()))),
        "source.port" => Some(Value::Int(info.source().port() as i64)),
        "destination.address" => Some(Value::Text(address_text(info.destination()))),
        "destination.port" => Some(Value::Int(info.destination().port() as i64)),
        "upstream.address" => info.upstream().map(|a| Value::Text(address_text(a))),
        "upstream.port" => info.upstream().map(|a| Value::Int(a.port() as i64)),
        "route_name" => text(&*info.route_name()),
        _ => {
            if let Some(name) = key.strip_prefix("connection.") {
                connection_property(info.tls(), name)
            } else if let Some(name) = key.strip_prefix("upstream.") {
                let tls = info.upstream_tls()?;
                // `mtls` and the SNI are downstream-only names in Envoy.
                (name != "mtls" && name != "requested_server_name")
                    .then(|| connection_property(Some(&tls), name))
                    .flatten()
            } else {
                None
            }
        }
    }
}

/// `connection.<name>` (or `upstream.<name>`) for a stream over `tls` (`None`: plain text), with Envoy's
/// rules: `mtls` is whether the client presented a certificate, and what the session lacks (no
/// SNI, no client certificate, no URI SAN) is not found rather than empty. The SNI is what
/// Envoy reports with its TLS inspector listener filter (without it Envoy knows none).
fn connection_property(tls: Option<&TlsSession>, name: &str) -> Option<Value> {
    if name == "mtls" {
        let presented = tls.is_some_and(|tls| tls.peer.is_some());
        return Some(Value::Bool(presented));
    }
    let tls = tls?;
    let (peer, local) = (tls.peer.as_ref(), tls.local.as_ref());
    let first = |names: &[String]| names.first().and_then(text);
    let nonempty = |value: &str| (!value.is_empty()).then(|| text(value)).flatten();
    match name {
        "tls_version" => text(tls.version),
        "requested_server_name" => nonempty(&tls.requested_server_name),
        "subject_peer_certificate" => nonempty(&peer?.subject),
        "uri_san_peer_certificate" => first(&peer?.uri_sans),
        "dns_san_peer_certificate" => first(&peer?.dns_sans),
        "sha256_peer_certificate_digest" => nonempty(&peer?.sha256_digest),
        "subject_local_certificate" => nonempty(&local?.subject),
        "uri_san_local_certificate" => first(&local?.uri_sans),
        "dns_san_local_certificate" => first(&local?.dns_sans),
        _ => None,
    }
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut caller: Caller<'_>, ptr: u32, size: u32, ret_ptr: u32, ret_size: u32| {
            finish((|| {
                let value = with_bytes(&mut caller, ptr, size, |path, state| lookup(state, path))?
                    .ok_or(Status::NotFound)?;
                return_bytes(&mut caller, &value, ret_ptr, ret_size)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut caller: Caller<'_>, ptr: u32, size: u32, vptr: u32, vsize: u32| {
            finish(
                with_two(
                    &mut caller,
                    (ptr, size),
                    (vptr, vsize),
                    |path, value, state| -> Result<(), Status> {
                        let key = property_key(path);
                        // A property the root declared read-only is set once per stream.
                        let readonly = state.declared_properties.get(&key) == Some(&true);
                        match state.active_stream() {
                            Some(stream) => {
                                if readonly && stream.properties.contains_key(&key) {
                                    return Err(Status::BadArgument);
                                }
                                stream.properties.insert(key, value.to_vec())
                            }
                            // Envoy keeps properties on a stream's info: a root context has none.
                            None => return Err(Status::NotFound),
                        };
                        Ok(())
                    },
                )
                .and_then(|r| r.map_err(Into::into)),
            )
        },
    )?;
    Ok(())
}
