//! TLS with rustls. Downstream (here): a listener's certificates, versions, ALPN and
//! client-certificate policy turned into a rustls server configuration once per configuration
//! generation, and the handshake of each connection, bounded in time, whose outcome the
//! connection's streams read as Envoy's `connection.*` TLS properties. Upstream:
//! [`upstream`], with its certificate check in `verify.rs`.

pub mod certificate;
mod sni;
pub mod upstream;
mod verify;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use wasmesh_host::stream_info::{CertificateFacts, TlsSession};

use crate::spec::{ClientCertificateMode, ListenerTls, TlsVersion};
use sni::{ServedCertificate, SniResolver};

/// The ALPN protocols the codec speaks.
const KNOWN_ALPN: [&str; 2] = ["h2", "http/1.1"];

/// A TLS setting that cannot be used, naming its field under the listener's `tls`.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TlsConfigError {
    /// The field, e.g. `certificates[1].private_key`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> TlsConfigError {
    TlsConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// A listener's TLS, ready to take handshakes.
pub struct ServerTls {
    acceptor: TlsAcceptor,
    resolver: Arc<SniResolver>,
    /// The facts of each certificate, in the resolver's order (`*_local_certificate`).
    local_facts: Vec<CertificateFacts>,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("certificates", &self.local_facts.len())
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

impl ServerTls {
    /// Reads every file `spec` names and checks each key matches its certificate.
    pub fn load(spec: &ListenerTls) -> Result<ServerTls, TlsConfigError> {
        let provider = Arc::new(server_provider());
        if spec.certificates.is_empty() {
            return Err(field_error("certificates", "at least one is needed"));
        }
        let mut served = Vec::new();
        let mut local_facts = Vec::new();
        for (i, files) in spec.certificates.iter().enumerate() {
            let at = |name: &str| format!("certificates[{i}].{name}");
            let chain = certificate::read_certificates(&files.certificate_chain)
                .map_err(|e| field_error(at("certificate_chain"), e))?;
            let key = certificate::read_private_key(&files.private_key)
                .map_err(|e| field_error(at("private_key"), e))?;
            let key = CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
                field_error(
                    at("private_key"),
                    format!(
                        "{} does not fit {}: {e}",
                        files.private_key.display(),
                        files.certificate_chain.display()
                    ),
                )
            })?;
            let facts = certificate::facts(&key.cert[0]);
            served.push(ServedCertificate {
                key: Arc::new(key),
                dns_names: facts
                    .dns_sans
                    .iter()
                    .map(|n| n.to_ascii_lowercase())
                    .collect(),
            });
            local_facts.push(facts);
        }
        for (i, protocol) in spec.alpn_protocols.iter().enumerate() {
            if !KNOWN_ALPN.contains(&protocol.as_str()) {
                return Err(field_error(
                    format!("alpn_protocols[{i}]"),
                    format!("{protocol:?} is not a protocol wasmesh speaks (h2, http/1.1)"),
                ));
            }
        }
        if spec.min_version > spec.max_version {
            return Err(field_error(
                "min_version",
                "is newer than max_version: no version is left",
            ));
        }
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
            (TlsVersion::Tls12, &rustls::version::TLS12),
            (TlsVersion::Tls13, &rustls::version::TLS13),
        ]
        .into_iter()
        .filter(|(version, _)| (spec.min_version..=spec.max_version).contains(version))
        .map(|(_, supported)| supported)
        .collect();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| field_error("min_version", e.to_string()))?;
        let builder = match &spec.client_certificate {
            None => builder.with_no_client_auth(),
            Some(client) => {
                let verifier = client_verifier(client, &provider)?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let resolver = Arc::new(SniResolver::new(served));
        let mut config = builder.with_cert_resolver(resolver.clone());
        // Our order of cipher suites decides, not the client's ([`server_provider`]).
        config.ignore_client_order = true;
        // Resumption by stateless session tickets under a key made for this configuration, as
        // Envoy does without `session_ticket_keys`: nothing per session is kept on our side
        // (rustls' default keeps sessions in a locked cache of 256).
        config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new()
            .map_err(|e| field_error("certificates", format!("session tickets: {e}")))?;
        config.alpn_protocols = spec
            .alpn_protocols
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect();
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            resolver,
            local_facts,
            handshake_timeout: Duration::from_millis(spec.handshake_timeout_ms),
        })
    }

    /// Runs the handshake on `socket` within the handshake timeout. A handshake that fails is
    /// handed to `failed` while the socket is still open, and closed after: whoever counts it
    /// there has counted it by the time the client sees the connection close.
    pub async fn handshake(
        &self,
        socket: TcpStream,
        failed: impl FnOnce(&HandshakeFailure),
    ) -> Result<(TlsStream<TcpStream>, Arc<TlsSession>), HandshakeFailure> {
        let accept = self.acceptor.accept(socket).into_fallible();
        tokio::pin!(accept);
        let (failure, socket) =
            match tokio::time::timeout(self.handshake_timeout, &mut accept).await {
                Ok(Ok(stream)) => return Ok(self.established(stream)),
                Ok(Err((error, socket))) => (HandshakeFailure::Failed(error), Some(socket)),
                Err(_) => (HandshakeFailure::TimedOut(self.handshake_timeout), None),
            };
        failed(&failure);
        // The socket (handed back, or still inside the timed-out handshake) closes now.
        drop(socket);
        Err(failure)
    }

    /// A finished handshake's stream with what its session says.
    fn established(&self, stream: TlsStream<TcpStream>) -> (TlsStream<TcpStream>, Arc<TlsSession>) {
        let connection = stream.get_ref().1;
        let sni = connection.server_name().map(str::to_string);
        let local = self.local_facts[self.resolver.pick(sni.as_deref())].clone();
        let session = session_of(connection, sni.unwrap_or_default(), Some(local));
        (stream, Arc::new(session))
    }
}

/// What a finished handshake tells the properties, on either side: the version, the SNI asked
/// for, the peer's certificate (if it sent one) and ours.
fn session_of(
    connection: &rustls::CommonState,
    requested_server_name: String,
    local: Option<CertificateFacts>,
) -> TlsSession {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "TLSv1.3",
    };
    let peer = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(certificate::facts);
    TlsSession {
        version,
        requested_server_name,
        peer,
        local,
    }
}

/// aws-lc-rs with its cipher suites in the order BoringSSL (so Envoy) prefers them as a
/// server: TLS 1.3 first, AES-128-GCM before AES-256-GCM before ChaCha20. OpenSSL clients list
/// AES-256-GCM-SHA384 first; following them made every handshake hash with SHA-384, which cost
/// 15 % of a handshake-per-request load, for no security a mesh needs over AES-128.
fn server_provider() -> CryptoProvider {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        let name = format!("{:?}", suite.suite());
        let cipher = if name.contains("AES_128") {
            0
        } else if name.contains("AES_256") {
            1
        } else {
            2
        };
        (
            !matches!(suite, rustls::SupportedCipherSuite::Tls13(_)),
            cipher,
        )
    });
    provider
}

/// The client-certificate verifier: chains to `trusted_ca`; `optional` also lets clients
/// without a certificate through.
fn client_verifier(
    client: &crate::spec::ClientCertificate,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsConfigError> {
    let field = "client_certificate.trusted_ca";
    let mut roots = RootCertStore::empty();
    for ca in
        certificate::read_certificates(&client.trusted_ca).map_err(|e| field_error(field, e))?
    {
        roots
            .add(ca)
            .map_err(|e| field_error(field, format!("{}: {e}", client.trusted_ca.display())))?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let builder = match client.mode {
        ClientCertificateMode::Require => builder,
        ClientCertificateMode::Optional => builder.allow_unauthenticated(),
    };
    builder
        .build()
        .map_err(|e| field_error(field, e.to_string()))
}

/// Why a handshake did not finish.
#[derive(Debug)]
pub enum HandshakeFailure {
    /// Not finished within the listener's handshake timeout.
    TimedOut(Duration),
    /// rustls refused it, or the client went away.
    Failed(io::Error),
}

impl HandshakeFailure {
    /// The `reason` label of `wasmesh_downstream_tls_handshake_errors_total`.
    pub fn reason(&self) -> &'static str {
        let HandshakeFailure::Failed(error) = self else {
            return "timeout";
        };
        let Some(tls) = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        else {
            return "closed";
        };
        match tls {
            rustls::Error::NoCertificatesPresented => "no_client_certificate",
            rustls::Error::InvalidCertificate(_) => "bad_client_certificate",
            rustls::Error::InvalidMessage(_) => "not_tls",
            rustls::Error::AlertReceived(_) => "alert_received",
            rustls::Error::PeerIncompatible(_) => "incompatible",
            _ => "protocol_error",
        }
    }
}

impl std::fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeFailure::TimedOut(after) => write!(f, "not finished within {after:?}"),
            HandshakeFailure::Failed(e) => write!(f, "{e}"),
        }
    }
}
