//! HTTPS requests as a user makes them: with curl (Debian's, on OpenSSL), to `127.0.0.1` under
//! a host name (`--resolve`), so SNI and certificate names work as on a real network.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::pki::CertFiles;

/// One HTTPS request.
pub struct Https<'a> {
    /// The name the client asks for (SNI, certificate check, `Host`).
    pub host: &'a str,
    /// The listener's port on 127.0.0.1.
    pub port: u16,
    /// The request path.
    pub path: &'a str,
    /// The CA bundle the server's certificate must chain to.
    pub ca: &'a Path,
    /// The client certificate to present, if any.
    pub client: Option<&'a CertFiles>,
    /// Extra request headers.
    pub headers: Vec<(&'a str, &'a str)>,
    /// Ask for h2 by ALPN (else HTTP/1.1 only).
    pub http2: bool,
}

/// What curl got.
#[derive(Debug)]
pub struct CurlOutcome {
    /// curl's exit code: 0, or why the transfer failed (35 handshake, 56 receive failure...).
    pub exit: i32,
    /// The response status; 0 when there was no response.
    pub status: u16,
    /// `1.1` or `2`.
    pub http_version: String,
    /// The response body.
    pub body: Vec<u8>,
    /// curl's error message, if any.
    pub stderr: String,
}

impl CurlOutcome {
    /// The body as JSON; panics with the outcome if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

impl<'a> Https<'a> {
    /// A GET of `path` on `host:port` trusting `ca`, over HTTP/1.1, without a client certificate.
    pub fn get(host: &'a str, port: u16, path: &'a str, ca: &'a Path) -> Self {
        Https {
            host,
            port,
            path,
            ca,
            client: None,
            headers: Vec::new(),
            http2: false,
        }
    }

    /// Presents `client`'s certificate.
    pub fn client(mut self, client: &'a CertFiles) -> Self {
        self.client = Some(client);
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Negotiates h2 by ALPN.
    pub fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Runs curl (10 s at most).
    pub fn send(&self) -> CurlOutcome {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let body_file: PathBuf = std::env::temp_dir().join(format!(
            "wasmesh-curl-{}-{}.body",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut curl = Command::new("curl");
        curl.args(["-sS", "--max-time", "10", "--cacert"])
            .arg(self.ca)
            .arg("--resolve")
            .arg(format!("{}:{}:127.0.0.1", self.host, self.port))
            .arg(if self.http2 { "--http2" } else { "--http1.1" })
            .arg("-o")
            .arg(&body_file)
            .args(["-w", "%{http_code} %{http_version}"]);
        if let Some(client) = self.client {
            curl.arg("--cert").arg(&client.cert);
            curl.arg("--key").arg(&client.key);
        }
        for (name, value) in &self.headers {
            curl.arg("-H").arg(format!("{name}: {value}"));
        }
        curl.arg(format!("https://{}:{}{}", self.host, self.port, self.path));
        let output = curl.output().expect("running curl (Debian package curl)");
        let written = String::from_utf8_lossy(&output.stdout).to_string();
        let mut fields = written.split_whitespace();
        let status = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let http_version = fields.next().unwrap_or_default().to_string();
        let body = std::fs::read(&body_file).unwrap_or_default();
        let _ = std::fs::remove_file(&body_file);
        CurlOutcome {
            exit: output.status.code().unwrap_or(-1),
            status,
            http_version,
            body,
            stderr: String::from_utf8_lossy(&output.stderr).to_string(),
        }
    }
}
