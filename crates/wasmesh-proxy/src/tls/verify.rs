//! How an upstream's certificate is checked: its chain must reach a trusted CA, and it must be
//! the endpoint we meant: a certificate valid for the SNI (or the endpoint's IP), or, when the
//! cluster lists `subject_alt_names`, one carrying one of them. Meshes name workloads by SPIFFE
//! IDs in the URI SAN and often give them no DNS name at all, which rustls' own verifier
//! cannot accept; signatures are checked by rustls' functions as its verifier does.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use super::certificate;

/// Verifies an upstream's certificate against the cluster's CAs and identities.
#[derive(Debug)]
pub struct UpstreamVerifier {
    roots: Arc<RootCertStore>,
    /// Accepted URI or DNS SANs; empty: the server name decides.
    identities: Vec<String>,
    provider: Arc<CryptoProvider>,
}

impl UpstreamVerifier {
    /// A verifier trusting `roots`, accepting `identities` (see the module's doc).
    pub fn new(
        roots: Arc<RootCertStore>,
        identities: Vec<String>,
        provider: Arc<CryptoProvider>,
    ) -> UpstreamVerifier {
        UpstreamVerifier {
            roots,
            identities,
            provider,
        }
    }
}

impl ServerCertVerifier for UpstreamVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let parsed = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &parsed,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        if self.identities.is_empty() {
            rustls::client::verify_server_name(&parsed, server_name)?;
        } else {
            let facts = certificate::facts(end_entity);
            let presented = facts.uri_sans.iter().chain(&facts.dns_sans);
            let known = presented.clone().any(|san| self.identities.contains(san));
            if !known {
                let presented: Vec<&String> = presented.collect();
                return Err(Error::General(format!(
                    "the upstream's certificate names {presented:?}, none of subject_alt_names {:?}",
                    self.identities
                )));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
