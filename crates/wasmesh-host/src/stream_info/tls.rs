//! What a stream's downstream TLS session says about itself and its two certificates: the facts
//! behind Envoy's `connection.*` TLS properties. Plain data, filled in by whoever terminated the
//! TLS (the proxy, with rustls), so this crate knows no TLS library.

/// One downstream TLS session, as every stream it carries sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSession {
    /// `TLSv1.2` or `TLSv1.3` (`connection.tls_version`).
    pub version: &'static str,
    /// The SNI the client sent, empty when it sent none (`connection.requested_server_name`).
    pub requested_server_name: String,
    /// The client's certificate, when it presented one (`connection.mtls` is whether it did).
    pub peer: Option<CertificateFacts>,
    /// The certificate we presented.
    pub local: Option<CertificateFacts>,
}

/// What the properties expose of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificateFacts {
    /// The subject in RFC 2253 form (`CN=client,O=wasmesh`), as Envoy writes it.
    pub subject: String,
    /// The URI entries of the subject alternative names, in order (SPIFFE IDs live here).
    pub uri_sans: Vec<String>,
    /// The DNS entries of the subject alternative names, in order.
    pub dns_sans: Vec<String>,
    /// Lowercase hex sha256 of the certificate's DER encoding.
    pub sha256_digest: String,
}
