//! One request before any load: a sample must never measure a broken chain (a 503, a filter
//! that did not load), so every proxy start is checked with a real answer first; and the admin
//! reads around it (listener address, stats), the same for both hosts.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use wasmesh_tests::client::{Client, Response};

/// GETs `url` and wants a 200 carrying the backend's JSON echo; returns both. `label` names the
/// case in errors.
pub fn echo(label: &str, url: &str) -> anyhow::Result<(Response, Value)> {
    let response = get(label, url)?;
    if response.status != 200 {
        bail!(
            "{label}: GET {url} answered {}: {}",
            response.status,
            response.text()
        );
    }
    let echo: Value = serde_json::from_slice(&response.body)
        .map_err(|e| anyhow!("{label}: not the backend's echo ({e})"))?;
    Ok((response, echo))
}

/// GETs `url`, whatever the status. `label` names the case in errors.
pub fn get(label: &str, url: &str) -> anyhow::Result<Response> {
    let client = Client::http1_unpooled().with_timeout(Duration::from_secs(5));
    client
        .get_checked(url)
        .map_err(|e| anyhow!("{label}: GET {url}: {e}"))
}

/// `http://<addr>/`: the small GET every case gets.
pub fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// The text of the admin's `path` (e.g. `/stats/prometheus`), which must answer 200.
pub fn admin_text(label: &str, admin: SocketAddr, path: &str) -> anyhow::Result<String> {
    let client = Client::http1_unpooled().with_timeout(Duration::from_secs(5));
    let url = format!("http://{admin}{path}");
    let response = client
        .get_checked(&url)
        .map_err(|e| anyhow!("{label}: GET {url}: {e}"))?;
    if response.status != 200 {
        bail!("{label}: GET {url} answered {}", response.status);
    }
    Ok(response.text())
}

/// Listener `main`'s address, from the admin's `/listeners?format=json`.
pub fn main_listener_of(admin: SocketAddr) -> anyhow::Result<SocketAddr> {
    let probe = Client::http1_unpooled().with_timeout(Duration::from_secs(2));
    let response = probe
        .get_checked(&format!("http://{admin}/listeners?format=json"))
        .map_err(|e| anyhow!("GET /listeners: {e}"))?;
    let doc: Value = serde_json::from_slice(&response.body)
        .with_context(|| format!("/listeners?format=json is not JSON: {}", response.text()))?;
    main_listener(&doc).context("reading /listeners?format=json")
}

/// Listener `main` in Envoy's `/listeners?format=json` (which wasmesh serves too).
fn main_listener(doc: &Value) -> anyhow::Result<SocketAddr> {
    let statuses = doc["listener_statuses"]
        .as_array()
        .ok_or_else(|| anyhow!("no listener_statuses"))?;
    let main = statuses
        .iter()
        .find(|status| status["name"] == "main")
        .ok_or_else(|| anyhow!("no listener named main"))?;
    let socket = &main["local_address"]["socket_address"];
    let ip = socket["address"]
        .as_str()
        .ok_or_else(|| anyhow!("no address"))?
        .parse()?;
    let port = socket["port_value"]
        .as_u64()
        .and_then(|port| u16::try_from(port).ok())
        .ok_or_else(|| anyhow!("no port_value"))?;
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_main_listener() {
        let doc = serde_json::json!({"listener_statuses": [
            {"name": "admin", "local_address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}}},
            {"name": "main", "local_address": {"socket_address": {"address": "127.0.0.1", "port_value": 4242}}},
        ]});
        assert_eq!(
            main_listener(&doc).unwrap(),
            "127.0.0.1:4242".parse().unwrap()
        );
    }
}
