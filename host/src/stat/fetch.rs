//! One `GET /stats/prometheus` from an admin endpoint: wasmesh's and Envoy's serve the same
//! path, so `wasmesh stat` works against either.

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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let result = runtime.block_on(async {
            match tokio::time::timeout(TIMEOUT, self.get()).await {
                Ok(result) => result,
                Err(_) => bail!("no answer within {TIMEOUT:?}"),
            }
        });
        result.with_context(|| {
            format!(
                "cannot read metrics from the admin at {} (GET {PATH}); is wasmesh (or Envoy) \
                 running there? (--admin ADDR)",
                self.name
            )
        })
    }

    async fn get(&self) -> Result<String> {
        let stream = tokio::net::TcpStream::connect(self.addr).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let request = Request::get(PATH)
            .header("host", &self.name)
            .header("accept", "text/plain")
            .body(Empty::<Bytes>::new())?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            bail!("answered {status}: {}", text.trim());
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}
