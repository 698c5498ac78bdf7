//! Consul's health endpoint, `GET /v1/health/service/<name>?passing`: only instances whose
//! checks all pass. Per entry (Consul's documented `CheckServiceNode` shape): the address is
//! `Service.Address`, or `Node.Address` when the service registered none (Consul's own rule);
//! the port `Service.Port`; the weight `Service.Weights.Passing` (Consul's default 1); the zone
//! `Service.Meta.zone`, else `Node.Meta.zone`; `Service.Meta` and `Service.Tags` (as `tags`,
//! comma-joined) become labels.
//!
//! Consul answers with `X-Consul-Index`; the same index as last time is [`Answer::Unchanged`].
//!
//! Blocking queries (`wait_ms` configured): once an index is known, the query carries
//! `&index=<X-Consul-Index>&wait=<wait_ms>ms` and Consul holds it until the service's index
//! moves past it or the wait (plus up to 1/16 jitter) ends. proxy-wasm has no streaming call,
//! but an `http_call` held open is one: the filter re-asks as soon as an answer comes, with a
//! call timeout above the wait ([`super::config::Source::call_timeout_ms`]). As Consul's
//! documentation asks of clients, an index that goes backwards (a snapshot restore, a new
//! leader's state) is forgotten, and the next query starts over without one.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

use super::request::HttpRequest;
use super::{normalise, Answer};
use wasmesh_contract::endpoint::{Endpoint, DEFAULT_WEIGHT};

/// The meta key read as the zone.
pub const ZONE_META: &str = "zone";

/// A blocking query's parameters: the last `X-Consul-Index` and the longest hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// The index the answer must move past.
    pub index: &'a str,
    /// The longest hold, in ms.
    pub wait_ms: u64,
}

/// The health query for `name`, with `token` as `x-consul-token` if given, blocking if `block`.
pub fn request(
    cluster: &str,
    authority: &str,
    name: &str,
    token: Option<&str>,
    block: Option<Block<'_>>,
) -> HttpRequest {
    let mut path = format!("/v1/health/service/{name}?passing");
    if let Some(Block { index, wait_ms }) = block {
        path.push_str(&format!("&index={index}&wait={wait_ms}ms"));
    }
    let request = HttpRequest::get(cluster, authority, path).header("accept", "application/json");
    match token {
        Some(token) => request.header("x-consul-token", token),
        None => request,
    }
}

/// The index to block on next after an answer with `index` (its `X-Consul-Index`), given the
/// `last` one: `None` (do not block) when Consul sent none, sent 0 or garbage, or went
/// backwards.
pub fn next_index(index: Option<&str>, last: Option<&str>) -> Option<String> {
    let new: u64 = index?.trim().parse().ok().filter(|&i| i > 0)?;
    match last.and_then(|l| l.parse::<u64>().ok()) {
        Some(old) if new < old => None,
        _ => Some(new.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    node: Node,
    service: Service,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Node {
    #[serde(default)]
    address: String,
    #[serde(default)]
    meta: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Service {
    #[serde(default, rename = "ID")]
    id: String,
    #[serde(default)]
    address: String,
    port: u16,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    meta: Option<BTreeMap<String, String>>,
    #[serde(default)]
    weights: Option<Weights>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Weights {
    passing: u32,
}

/// Parses the answer; `index` is its `X-Consul-Index` header, `last_index` the previous one.
/// Not a JSON array is an `Err`; an entry without a usable address or port is skipped.
pub fn parse(body: &[u8], index: Option<&str>, last_index: Option<&str>) -> Result<Answer, String> {
    let entries: Vec<serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| format!("not a Consul health answer: {e}"))?;
    if index.is_some() && index == last_index {
        return Ok(Answer::Unchanged);
    }
    let mut endpoints = Vec::with_capacity(entries.len());
    let mut skipped = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        match serde_json::from_value::<Entry>(entry)
            .map_err(|e| e.to_string())
            .and_then(endpoint)
        {
            Ok(endpoint) => endpoints.push(endpoint),
            Err(e) => skipped.push(format!("[{i}]: {e}")),
        }
    }
    let endpoints = normalise(endpoints);
    Ok(Answer::Endpoints { endpoints, skipped })
}

fn endpoint(entry: Entry) -> Result<Endpoint, String> {
    let Entry { node, service } = entry;
    let host = if service.address.is_empty() {
        &node.address
    } else {
        &service.address
    };
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("{}: address {host:?} is not an IP", service.id))?;
    let mut labels = service.meta.unwrap_or_default();
    let zone = labels
        .remove(ZONE_META)
        .or_else(|| node.meta.and_then(|mut m| m.remove(ZONE_META)))
        .unwrap_or_default();
    let tags = service.tags.unwrap_or_default();
    if !tags.is_empty() {
        labels.insert("tags".to_string(), tags.join(","));
    }
    Ok(Endpoint {
        address: SocketAddr::new(ip, service.port),
        weight: service.weights.map_or(DEFAULT_WEIGHT, |w| w.passing),
        priority: 0,
        zone,
        labels,
    })
}

#[cfg(test)]
mod tests;
