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

/// One TLS connection kept open for several HTTP/1.1 requests (rustls), to see what a
/// certificate rotation does to a connection that began before it.
pub struct KeepAlive {
    stream: rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>,
}

impl KeepAlive {
    /// Connects to `addr` as `host`, trusting `ca`; the handshake is done before it returns.
    pub fn connect(addr: std::net::SocketAddr, host: &str, ca: &Path) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, ServerName};
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
            roots
                .add(cert.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        let connection = rustls::ClientConnection::new(std::sync::Arc::new(config), name)
            .map_err(|e| e.to_string())?;
        let tcp = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|e| format!("handshake: {e}"))?;
        }
        Ok(KeepAlive { stream })
    }

    /// The DER of the certificate the server presented.
    pub fn served_certificate(&self) -> Vec<u8> {
        self.stream
            .conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|cert| cert.to_vec())
            .unwrap_or_default()
    }

    /// `GET path` on this connection; the response's status once its body is read.
    pub fn get(&mut self, host: &str, path: &str) -> Result<u16, String> {
        use std::io::{Read, Write};
        let request = format!("GET {path} HTTP/1.1\r\nhost: {host}\r\n\r\n");
        self.stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("writing: {e}"))?;
        let mut received = Vec::new();
        let mut buf = [0u8; 8192];
        let head_end = loop {
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = self
                .stream
                .read(&mut buf)
                .map_err(|e| format!("reading: {e}"))?;
            if n == 0 {
                return Err("closed before a response".into());
            }
            received.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status in {head:?}"))?;
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("no content-length in {head:?}"))?;
        while received.len() < head_end + length {
            let n = self
                .stream
                .read(&mut buf)
                .map_err(|e| format!("reading: {e}"))?;
            if n == 0 {
                return Err("closed within the body".into());
            }
            received.extend_from_slice(&buf[..n]);
        }
        Ok(status)
    }
}
