//! Registry answers for a list of members, in each registry's documented JSON shape (as the
//! real servers would send them), for the stand-in [`super::registry::Registry`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

/// A registered endpoint and its weight.
pub type Member = (SocketAddr, u32);

/// Consul `/v1/health/service/web?passing`: `CheckServiceNode` entries. The first member has
/// its address only on the node (`Service.Address` empty), as Consul allows.
pub fn consul(members: &[Member]) -> String {
    let entries: Vec<Value> = members
        .iter()
        .enumerate()
        .map(|(i, (addr, weight))| {
            let service_address = if i == 0 { String::new() } else { addr.ip().to_string() };
            json!({
                "Node": {"ID": format!("node-{i}"), "Node": format!("node-{i}"), "Address": addr.ip().to_string(),
                         "Datacenter": "dc1", "Meta": {"zone": "z1"}},
                "Service": {"ID": format!("web-{i}"), "Service": "web", "Tags": ["v1"], "Address": service_address,
                            "Meta": {}, "Port": addr.port(), "Weights": {"Passing": weight, "Warning": 1}},
                "Checks": [{"CheckID": "serfHealth", "Status": "passing"}]
            })
        })
        .collect();
    Value::Array(entries).to_string()
}

/// An `EndpointSliceList` of service `web`: one slice per member (as large services get),
/// every endpoint ready, plus one not-ready endpoint that must never get traffic.
pub fn endpoint_slices(members: &[Member], not_ready: SocketAddr) -> String {
    let slice = |name: String, addr: SocketAddr, ready: bool| {
        json!({
            "metadata": {"name": name, "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [addr.ip().to_string()],
                           "conditions": {"ready": ready, "serving": ready, "terminating": false},
                           "nodeName": "node-1", "zone": "z1"}],
            "ports": [{"name": "http", "protocol": "TCP", "port": addr.port()}]
        })
    };
    let mut items: Vec<Value> = members
        .iter()
        .enumerate()
        .map(|(i, (addr, _))| slice(format!("web-{i}"), *addr, true))
        .collect();
    items.push(slice("web-unready".to_string(), not_ready, false));
    // The API server's resourceVersion moves with every change (the filter takes an unmoved one
    // for "unchanged"): a fresh one for each list built.
    static VERSION: AtomicU64 = AtomicU64::new(100);
    let version = VERSION.fetch_add(1, Ordering::Relaxed).to_string();
    json!({"kind": "EndpointSliceList", "apiVersion": "discovery.k8s.io/v1",
           "metadata": {"resourceVersion": version}, "items": items})
    .to_string()
}

/// The plain document: the shared-data schema.
pub fn document(members: &[Member]) -> String {
    let endpoints: Vec<Value> = members
        .iter()
        .map(|(addr, weight)| json!({"address": addr.to_string(), "weight": weight}))
        .collect();
    json!({ "endpoints": endpoints }).to_string()
}
