//! etcd v3 through its JSON gateway (`POST /v3/kv/range`, keys and values base64 as proto3
//! JSON encodes `bytes`). The layout wasmesh defines: one key per endpoint,
//! `<prefix><ip:port>` (default prefix `/wasmesh/services/<service>/`), whose value is JSON
//! `{"weight": 1, "priority": 0, "zone": "a", "labels": {"v": "2"}}`, every field optional (an
//! empty value is an endpoint with the defaults). Registering is `etcdctl put`, removing is
//! `etcdctl del`, re-weighting is a `put` with a new value.
//!
//! Revision polling: the answer's `header.revision` is etcd's store revision. Once one is known,
//! a poll is a probe: the same range with `count_only` ([`probe_request`]), whose answer is a
//! header and a count, no keys or values. The same revision means nothing in the whole store
//! changed ([`Answer::Unchanged`]), so an idle registry costs a few dozen bytes per poll; a new
//! one ([`Answer::Changed`]) makes the filter fetch the range at once. (The store revision also
//! moves for writes outside the prefix; that costs one fetch, which finds the set unchanged.
//! etcd's watch API is a stream, which an `http_call` cannot carry.)

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Deserialize;
use serde_json::json;

use super::base64;
use super::request::HttpRequest;
use super::{normalise, Answer};
use wasmesh_contract::endpoint::{Endpoint, DEFAULT_WEIGHT};

/// The key prefix used when the configuration names none.
pub fn default_prefix(service: &str) -> String {
    format!("/wasmesh/services/{service}/")
}

/// The `range_end` that makes a range cover every key starting with `prefix` (etcd's
/// `GetPrefixRangeEnd`): the prefix with its last byte below 0xff incremented.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0] // every key
}

/// The range request for every key under `prefix`.
pub fn range_request(cluster: &str, authority: &str, prefix: &str) -> HttpRequest {
    range(cluster, authority, prefix, false)
}

/// The same range, counted only: the answer is the header (with the store revision) and a
/// count.
pub fn probe_request(cluster: &str, authority: &str, prefix: &str) -> HttpRequest {
    range(cluster, authority, prefix, true)
}

fn range(cluster: &str, authority: &str, prefix: &str, count_only: bool) -> HttpRequest {
    let mut body = json!({
        "key": base64::encode(prefix.as_bytes()),
        "range_end": base64::encode(&prefix_end(prefix.as_bytes())),
    });
    if count_only {
        body["count_only"] = json!(true);
    }
    let mut request = HttpRequest::get(cluster, authority, "/v3/kv/range".to_string())
        .header("content-type", "application/json");
    request.method = "POST";
    request.body = body.to_string().into_bytes();
    request
}

#[derive(Deserialize)]
struct RangeResponse {
    header: Header,
    #[serde(default)]
    kvs: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct ProbeResponse {
    header: Header,
}

#[derive(Deserialize)]
struct Header {
    // int64 is a JSON string in proto3 JSON; accept a number too.
    revision: serde_json::Value,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: String,
}

/// The value stored under an endpoint's key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Value {
    weight: Option<u32>,
    #[serde(default)]
    priority: u32,
    #[serde(default)]
    zone: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Parses a range answer for keys under `prefix`. Returns the answer and the store revision
/// (to pass back as `last_revision` next time). A gateway error document, a missing `header`
/// or anything but JSON is an `Err`; a bad key or value only skips that endpoint.
pub fn parse(
    body: &[u8],
    prefix: &str,
    last_revision: Option<i64>,
) -> Result<(Answer, i64), String> {
    let response: RangeResponse =
        serde_json::from_slice(body).map_err(|e| format!("not an etcd range response: {e}"))?;
    let revision = response.header.revision()?;
    if last_revision == Some(revision) {
        return Ok((Answer::Unchanged, revision));
    }
    let mut endpoints = Vec::with_capacity(response.kvs.len());
    let mut skipped = Vec::new();
    for kv in response.kvs {
        match endpoint(&kv, prefix) {
            Ok(endpoint) => endpoints.push(endpoint),
            Err(e) => skipped.push(e),
        }
    }
    let endpoints = normalise(endpoints);
    Ok((Answer::Endpoints { endpoints, skipped }, revision))
}

/// Parses a probe's answer against `last_revision`: [`Answer::Unchanged`] or
/// [`Answer::Changed`], and the store revision.
pub fn parse_probe(body: &[u8], last_revision: i64) -> Result<(Answer, i64), String> {
    let response: ProbeResponse =
        serde_json::from_slice(body).map_err(|e| format!("not an etcd range response: {e}"))?;
    let revision = response.header.revision()?;
    let answer = if revision == last_revision {
        Answer::Unchanged
    } else {
        Answer::Changed
    };
    Ok((answer, revision))
}

impl Header {
    /// `revision`: int64 is a JSON string in proto3 JSON; a number is accepted too.
    fn revision(&self) -> Result<i64, String> {
        match &self.revision {
            serde_json::Value::String(s) => s.parse::<i64>().ok(),
            serde_json::Value::Number(n) => n.as_i64(),
            _ => None,
        }
        .ok_or_else(|| format!("bad header.revision {}", self.revision))
    }
}

fn endpoint(kv: &KeyValue, prefix: &str) -> Result<Endpoint, String> {
    let key = base64::decode(&kv.key).map_err(|e| format!("key {:?}: {e}", kv.key))?;
    let key = String::from_utf8_lossy(&key).into_owned();
    let address = key
        .strip_prefix(prefix)
        .ok_or_else(|| format!("{key}: not under {prefix}"))?;
    let address: SocketAddr = address
        .parse()
        .map_err(|e| format!("{key}: {address:?} is not ip:port ({e})"))?;
    let value = base64::decode(&kv.value).map_err(|e| format!("{key}: value: {e}"))?;
    let value: Value = if value.iter().all(u8::is_ascii_whitespace) {
        Value::default()
    } else {
        serde_json::from_slice(&value).map_err(|e| format!("{key}: value: {e}"))?
    };
    Ok(Endpoint {
        address,
        weight: value.weight.unwrap_or(DEFAULT_WEIGHT),
        priority: value.priority,
        zone: value.zone,
        labels: value.labels,
    })
}

#[cfg(test)]
mod tests;
