//! One `GET` from an admin endpoint: `/stats/prometheus`, which wasmesh's and Envoy's serve
//! alike, so `wasmesh stat` works against either; and `/endpoints` (wasmesh only).

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;

/// The path both hosts serve their Prometheus exposition at.
pub const PATH: &str = "/stats/prometheus";

/// How long one scrape may take before the admin counts as unreachable.
const TIMEOUT: Duration = Duration::from_secs(5);

/// An admin endpoint, as the user named it.
#[derive(Debug, Clone)]
pub struct Admin {
    /// `host:port` as given (without `http://`), for messages and the `Host` header.
    pub name: String,
    addr: SocketAddr,
}

impl Admin {
    /// Resolves `text` (`host:port`, optionally with `http://` and a trailing `/`).
    pub fn parse(text: &str) -> Result<Admin> {
        let name = text
            .trim()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let addr = name
            .to_socket_addrs()
            .with_context(|| format!("--admin {text:?}: expected host:port"))?
            .next()
            .ok_or_else(|| anyhow!("--admin {text:?}: resolves to no address"))?;
        Ok(Admin { name, addr })
    }

    /// The exposition text; errors name the admin and what went wrong.
    pub fn scrape(&self) -> Result<String> {
        let (status, body) = self.get(PATH, "text/plain").with_context(|| {
            format!(
                "cannot read metrics from the admin at {} (GET {PATH}); is wasmesh (or Envoy) \
                 running there? (--admin ADDR)",
                self.name
            )
        })?;
        if !(200..300).contains(&status) {
            bail!(
                "cannot read metrics from the admin at {} (GET {PATH}): answered {status}: {}",
                self.name,
                body.trim()
            );
        }
        Ok(body)
    }

    /// `GET path`: the status and body, whatever the status; an error only when there is no
    /// answer (refused, timed out, not HTTP).
    pub fn get(&self, path: &str, accept: &str) -> Result<(u16, String)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            match tokio::time::timeout(TIMEOUT, self.request(path, accept)).await {
                Ok(result) => result,
                Err(_) => bail!("no answer within {TIMEOUT:?}"),
            }
        })
    }

    async fn request(&self, path: &str, accept: &str) -> Result<(u16, String)> {
        let stream = tokio::net::TcpStream::connect(self.addr).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let request = Request::get(path)
            .header("host", &self.name)
            .header("accept", accept)
            .body(Empty::<Bytes>::new())?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}
