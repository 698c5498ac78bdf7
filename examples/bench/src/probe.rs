//! One request before any load: a sample must never measure a broken chain (a 503, a filter
//! that did not load), so every proxy start is checked with a real answer first.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail};
use serde_json::Value;
use wasmesh_tests::client::{Client, Response};

/// GETs `url` and wants a 200 carrying the backend's JSON echo; returns both. `label` names the
/// case in errors.
pub fn echo(label: &str, url: &str) -> anyhow::Result<(Response, Value)> {
    let client = Client::http1_unpooled().with_timeout(Duration::from_secs(5));
    let response = client
        .get_checked(url)
        .map_err(|e| anyhow!("{label}: GET {url}: {e}"))?;
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

/// `http://<addr>/`: the small GET every case gets.
pub fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}
