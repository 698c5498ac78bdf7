//! The load of the handshake case: a client of its own (tokio on one thread, rustls), because
//! wrk's handshake (OpenSSL) cost about 300 µs of CPU against 140–200 µs for either proxy's,
//! so with one wrk thread the client was the limit and both proxies served what wrk could ask
//! (0.94–1.0× each other whatever their cost). Each connection loops: TCP connect, a full TLS
//! 1.3 handshake (X25519 and ALPN `http/1.1`, as wrk offers; no session resumption), one
//! `GET` with `Connection: close`, the whole response, close. It does not check the server's
//! certificate: that is client work, the same for both proxies, and the point is to leave the
//! CPU to the proxy. Latency is from connect to the last byte of the response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::wrk::WrkResult;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

/// Runs `connections` looping connections to `addr` for `warmup` (thrown away), then
/// `at_start`, then for `duration`; what the second run measured, in wrk's terms.
pub fn warm_up_then_measure<S>(
    addr: SocketAddr,
    connections: u32,
    warmup: Duration,
    duration: Duration,
    at_start: impl FnOnce() -> S,
) -> anyhow::Result<(S, WrkResult)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("a runtime for the handshake client")?;
    let connector = TlsConnector::from(Arc::new(client_config()?));
    runtime.block_on(load(addr, connections, warmup, &connector))?;
    let started = at_start();
    let result = runtime.block_on(load(addr, connections, duration, &connector))?;
    Ok((started, result))
}

/// One run of `duration`.
async fn load(
    addr: SocketAddr,
    connections: u32,
    duration: Duration,
    connector: &TlsConnector,
) -> anyhow::Result<WrkResult> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let connector = connector.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let began = Instant::now();
                    match exchange(addr, &connector).await {
                        Ok(()) => latencies.push(began.elapsed()),
                        Err(_) => {
                            errors += 1;
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (mine, failed) = task.await.context("a client task")?;
        latencies.extend(mine);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| -> Duration {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).copied().unwrap_or_default()
    };
    Ok(WrkResult {
        requests_per_sec: latencies.len() as f64 / elapsed,
        p50: at(0.5),
        p99: at(0.99),
        requests: latencies.len() as u64,
        errors,
    })
}

/// Connect, handshake, one request, the whole `200` response.
async fn exchange(addr: SocketAddr, connector: &TlsConnector) -> anyhow::Result<()> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from("localhost")?;
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(REQUEST).await?;
    let mut response = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = tls.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..n]);
        if complete(&response) {
            break;
        }
    }
    if !response.starts_with(b"HTTP/1.1 200") || !complete(&response) {
        return Err(anyhow!("not a whole 200 response"));
    }
    Ok(())
}

/// Whether `response` holds its head and as much body as its `content-length` says.
fn complete(response: &[u8]) -> bool {
    let Some(head_end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&response[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    response.len() >= head_end + 4 + length
}

/// TLS 1.3 and 1.2 with X25519 then P-256 (what wrk's OpenSSL offers: no post-quantum
/// share, which only wasmesh would accept), ALPN `http/1.1`, no certificate check.
fn client_config() -> anyhow::Result<ClientConfig> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![
        rustls::crypto::aws_lc_rs::kx_group::X25519,
        rustls::crypto::aws_lc_rs::kx_group::SECP256R1,
    ];
    let provider = Arc::new(provider);
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// Accepts every certificate and signature (see the module's doc).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_tls13_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::complete;

    #[test]
    fn a_response_is_complete_with_its_whole_body() {
        assert!(!complete(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab"));
        assert!(complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd"
        ));
        assert!(complete(b"HTTP/1.1 204 No Content\r\n\r\n"));
        assert!(!complete(b"HTTP/1.1 200 OK\r\ncontent-"));
    }
}
