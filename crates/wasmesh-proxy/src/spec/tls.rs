//! A listener's TLS settings: the certificates it presents, what it negotiates and what it asks
//! of clients. The names follow Envoy's `DownstreamTlsContext` where one exists
//! (`certificate_chain`, `private_key`, `alpn_protocols`, `trusted_ca`, TLS version names).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// TLS on a listener; a listener without it speaks plain HTTP/1.1 and h2c.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerTls {
    /// The certificates, each with its key. The one whose DNS names match the client's SNI is
    /// presented; the first when none matches or the client sent no SNI (as Envoy does).
    pub certificates: Vec<CertificateFiles>,
    /// Protocols offered by ALPN, in order of preference. Default `h2`, `http/1.1`.
    #[serde(default = "ListenerTls::default_alpn")]
    pub alpn_protocols: Vec<String>,
    /// Oldest version accepted. Default TLS 1.2.
    #[serde(default = "TlsVersion::oldest")]
    pub min_version: TlsVersion,
    /// Newest version accepted. Default TLS 1.3.
    #[serde(default = "TlsVersion::newest")]
    pub max_version: TlsVersion,
    /// A handshake not finished in this time closes the connection. Default 10 s.
    #[serde(default = "ListenerTls::default_handshake_timeout_ms")]
    pub handshake_timeout_ms: u64,
    /// Client certificates: asked for only when this is present.
    #[serde(default)]
    pub client_certificate: Option<ClientCertificate>,
}

impl ListenerTls {
    fn default_alpn() -> Vec<String> {
        vec!["h2".to_string(), "http/1.1".to_string()]
    }
    fn default_handshake_timeout_ms() -> u64 {
        10_000
    }
}

/// One certificate chain and its private key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    /// The leaf certificate first, then any intermediates.
    pub certificate_chain: PathBuf,
    /// The leaf's key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub private_key: PathBuf,
}

/// A TLS protocol version, by Envoy's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    /// TLS 1.2.
    #[serde(rename = "TLSv1_2")]
    Tls12,
    /// TLS 1.3.
    #[serde(rename = "TLSv1_3")]
    Tls13,
}

impl TlsVersion {
    fn oldest() -> TlsVersion {
        TlsVersion::Tls12
    }
    fn newest() -> TlsVersion {
        TlsVersion::Tls13
    }
}

/// What the listener asks of a client's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificate {
    /// `require`: no certificate, no handshake. `optional`: a client without one is served (its
    /// streams see `connection.mtls` false); one that presents a certificate must still present
    /// a valid one.
    pub mode: ClientCertificateMode,
    /// PEM bundle of the CAs a client certificate must chain to.
    pub trusted_ca: PathBuf,
}

/// Whether a client certificate is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientCertificateMode {
    /// A client without a certificate fails the handshake.
    Require,
    /// A client without a certificate is served.
    Optional,
}

/// TLS to a cluster's endpoints. ALPN offers `h2` when the cluster speaks h2, else
/// `http/1.1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTls {
    /// PEM bundle of the CAs the endpoints' certificates must chain to; Mozilla's roots
    /// (webpki-roots) when absent.
    #[serde(default)]
    pub trusted_ca: Option<PathBuf>,
    /// The SNI sent, and the name the certificate must be valid for (unless
    /// `subject_alt_names` says otherwise). Absent: the endpoint's IP address, sent as no SNI.
    #[serde(default)]
    pub sni: Option<String>,
    /// SNI from each request's host (`Host`/`:authority` without its port), and the
    /// certificate checked against that name unless `subject_alt_names` is given: Envoy's
    /// `auto_sni` with `auto_san_validation`. Connections are pooled per name, so one opened
    /// for `a.example` never carries a request for `b.example`. A host that is an IP address,
    /// or none, falls back to `sni`.
    #[serde(default)]
    pub auto_sni: bool,
    /// The identities an endpoint may have: its certificate must carry one of these exactly as
    /// a URI SAN (a SPIFFE ID) or DNS SAN. When given, this replaces the check of `sni` (or the
    /// IP) against the certificate, as Envoy's `match_typed_subject_alt_names` does.
    #[serde(default)]
    pub subject_alt_names: Vec<String>,
    /// The certificate presented to endpoints that ask for one (mutual TLS).
    #[serde(default)]
    pub client_certificate: Option<CertificateFiles>,
}
