//! Kubernetes `discovery.k8s.io/v1` EndpointSlices of one service:
//! `GET /apis/discovery.k8s.io/v1/namespaces/<ns>/endpointslices?labelSelector=kubernetes.io/service-name=<name>`
//! with `authorization: Bearer <token>`.
//!
//! Conditions, as the API documents them (a missing one: `ready` and `serving` count as true,
//! `terminating` as false):
//! - `ready` → priority 0;
//! - not ready but `serving` and `terminating` → priority 1: used only when no ready endpoint is
//!   left, as kube-proxy falls back to terminating endpoints, so a rollout's last pods still get
//!   traffic instead of a 503;
//! - otherwise left out.
//!
//! The port is the slice's port named by the configuration, else its first. `FQDN` slices are
//! skipped (the balancer takes `ip:port`). `zone` becomes the zone, `nodeName`/`hostname` labels.
//!
//! Topology-aware routing: given the proxy's own zone (`zone` in the source's configuration),
//! the slices' zone hints (`hints.forZones`) are honoured as kube-proxy does, but as a
//! preference rather than a filter: only when **every** ready endpoint carries hints and at
//! least one is hinted for our zone, the ready endpoints hinted for other zones drop to
//! priority 1 (and terminating ones to 2), so they take traffic only as the priority model
//! spills it over. The hints are published as the label `hints` (`a,b`) either way.
//!
//! The list's `metadata.resourceVersion` is remembered: the next list asks for
//! `resourceVersion=<it>&resourceVersionMatch=NotOlderThan` (so an API server answering from a
//! lagging cache never takes the set back in time), and an answer with the same
//! resourceVersion is [`Answer::Unchanged`], its items not parsed. A watch
//! (`?watch=true`) streams events over one long response, which an `http_call` (one buffered
//! answer) cannot carry, so the filter lists on each poll.

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

use super::request::HttpRequest;
use super::{normalise, Answer};
use wasmesh_contract::endpoint::{Endpoint, DEFAULT_WEIGHT};

/// The list request for `name`'s slices in `namespace`, no older than `resource_version`.
pub fn request(
    cluster: &str,
    authority: &str,
    namespace: &str,
    name: &str,
    token: Option<&str>,
    resource_version: Option<&str>,
) -> HttpRequest {
    let mut path = format!(
        "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D{name}"
    );
    if let Some(version) = resource_version {
        path.push_str(&format!(
            "&resourceVersion={version}&resourceVersionMatch=NotOlderThan"
        ));
    }
    let request = HttpRequest::get(cluster, authority, path).header("accept", "application/json");
    match token {
        Some(token) => request.header("authorization", &format!("Bearer {token}")),
        None => request,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct List {
    kind: Option<String>,
    items: Vec<Slice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Slice {
    address_type: String,
    #[serde(default)]
    endpoints: Option<Vec<SliceEndpoint>>,
    #[serde(default)]
    ports: Option<Vec<Port>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SliceEndpoint {
    addresses: Vec<String>,
    #[serde(default)]
    conditions: Conditions,
    zone: Option<String>,
    node_name: Option<String>,
    hostname: Option<String>,
    #[serde(default)]
    hints: Option<Hints>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hints {
    #[serde(default)]
    for_zones: Vec<ForZone>,
}

#[derive(Deserialize)]
struct ForZone {
    name: String,
}

#[derive(Default, Deserialize)]
struct Conditions {
    ready: Option<bool>,
    serving: Option<bool>,
    terminating: Option<bool>,
}

#[derive(Deserialize)]
struct Port {
    name: Option<String>,
    port: Option<u16>,
}

/// The list's `metadata.resourceVersion`, if it has one.
pub fn resource_version(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Head {
        metadata: Option<Metadata>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Metadata {
        resource_version: Option<String>,
    }
    let head: Head = serde_json::from_slice(body).ok()?;
    head.metadata?.resource_version.filter(|v| !v.is_empty())
}

/// Parses an `EndpointSliceList`; a `Status` document (403, 404…) or anything without `items`
/// is an `Err`. `local_zone` is the proxy's zone, for the slices' zone hints.
pub fn parse(
    body: &[u8],
    port_name: Option<&str>,
    local_zone: Option<&str>,
) -> Result<Answer, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if value["kind"] == "Status" {
        return Err(format!("API server: {}", value["message"]));
    }
    let list: List =
        serde_json::from_value(value).map_err(|e| format!("not an EndpointSliceList: {e}"))?;
    if list
        .kind
        .as_deref()
        .is_some_and(|k| k != "EndpointSliceList")
    {
        return Err(format!("kind {:?}, want EndpointSliceList", list.kind));
    }
    let mut endpoints = Vec::new();
    let mut skipped = Vec::new();
    let hinted_away = hinted_away(&list.items, local_zone);
    for (i, slice) in list.items.into_iter().enumerate() {
        if slice.address_type == "FQDN" {
            skipped.push(format!("items[{i}]: FQDN slice"));
            continue;
        }
        let ports = slice.ports.unwrap_or_default();
        let port = ports
            .iter()
            .find(|p| port_name.is_none_or(|want| p.name.as_deref() == Some(want)))
            .and_then(|p| p.port);
        let Some(port) = port else {
            skipped.push(format!("items[{i}]: no port {port_name:?}"));
            continue;
        };
        for (j, e) in slice.endpoints.unwrap_or_default().into_iter().enumerate() {
            let ready = e.conditions.ready.unwrap_or(true);
            let serving = e.conditions.serving.unwrap_or(ready);
            let terminating = e.conditions.terminating.unwrap_or(false);
            let priority = match (ready, serving && terminating) {
                (true, _) => 0,
                (false, true) => 1,
                (false, false) => continue,
            };
            let hints = e.hints.as_ref().map(|h| {
                h.for_zones
                    .iter()
                    .map(|z| z.name.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            });
            // With hints in force: hinted here 0, hinted elsewhere 1, terminating 2.
            let for_us = e.hints.as_ref().is_some_and(|h| for_zone(h, local_zone));
            let priority = if hinted_away && (priority > 0 || !for_us) {
                priority + 1
            } else {
                priority
            };
            for address in &e.addresses {
                let Ok(ip) = address.parse::<IpAddr>() else {
                    skipped.push(format!(
                        "items[{i}].endpoints[{j}]: {address:?} is not an IP"
                    ));
                    continue;
                };
                let mut endpoint = Endpoint::new(SocketAddr::new(ip, port));
                endpoint.weight = DEFAULT_WEIGHT;
                endpoint.priority = priority;
                endpoint.zone = e.zone.clone().unwrap_or_default();
                for (key, value) in [
                    ("node", &e.node_name),
                    ("hostname", &e.hostname),
                    ("hints", &hints),
                ] {
                    if let Some(value) = value {
                        endpoint.labels.insert(key.to_string(), value.clone());
                    }
                }
                endpoints.push(endpoint);
            }
        }
    }
    Ok(Answer::Endpoints {
        endpoints: normalise(endpoints),
        skipped,
    })
}

/// Whether `hints` name `zone`.
fn for_zone(hints: &Hints, zone: Option<&str>) -> bool {
    hints
        .for_zones
        .iter()
        .any(|z| Some(z.name.as_str()) == zone)
}

/// Whether the zone hints are in force for `local_zone`: every ready endpoint of every IP slice
/// has hints (kube-proxy ignores hints unless all endpoints carry them) and at least one is
/// hinted for `local_zone`, so those hinted elsewhere are demoted.
fn hinted_away(slices: &[Slice], local_zone: Option<&str>) -> bool {
    if local_zone.is_none() {
        return false;
    }
    let ready = slices
        .iter()
        .filter(|s| s.address_type != "FQDN")
        .flat_map(|s| s.endpoints.iter().flatten())
        .filter(|e| e.conditions.ready.unwrap_or(true));
    let mut any_for_us = false;
    for e in ready {
        match &e.hints {
            Some(h) if !h.for_zones.is_empty() => any_for_us |= for_zone(h, local_zone),
            _ => return false,
        }
    }
    any_for_us
}

#[cfg(test)]
mod tests;
