//! A certificate authority and the workload certificates it signs, minted with rcgen in
//! memory: what `cargo xtask certs` writes for the README's TLS example and what the TLS tests
//! use. Each workload's identity is a SPIFFE ID in its URI SAN
//! (`spiffe://<trust domain>/ns/<namespace>/sa/<service account>`), the form Linkerd and Istio
//! issue, and its key usage says whether it serves, calls, or both.

use std::net::IpAddr;
use std::time::SystemTime;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

mod token_signer;

pub use token_signer::TokenSigner;

/// Every subject's organisation.
const ORGANIZATION: &str = "wasmesh test";

/// The SPIFFE ID of service account `sa` in namespace `ns` of `trust_domain`.
pub fn spiffe_id(trust_domain: &str, ns: &str, sa: &str) -> String {
    format!("spiffe://{trust_domain}/ns/{ns}/sa/{sa}")
}

/// A certificate and its key, PEM, plus the certificate's DER (for digests).
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
    /// The certificate's DER encoding.
    pub der: Vec<u8>,
}

/// What a workload certificate may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// TLS server authentication.
    Server,
    /// TLS client authentication.
    Client,
}

/// What a workload certificate says.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The subject's common name.
    pub common_name: String,
    /// DNS subject alternative names.
    pub dns_names: Vec<String>,
    /// IP address subject alternative names (a server reached by address, as on loopback).
    pub ip_addresses: Vec<IpAddr>,
    /// The SPIFFE ID (URI SAN), if any.
    pub spiffe_id: Option<String>,
    /// Server or client.
    pub usage: Usage,
    /// Validity; rcgen's default (1975 to 4096) when `None`.
    pub validity: Option<(SystemTime, SystemTime)>,
}

impl Workload {
    /// A server for `dns` with identity `spiffe_id` (subject `CN=<dns>`).
    pub fn server(dns: &str, spiffe_id: String) -> Workload {
        Workload {
            common_name: dns.to_string(),
            dns_names: vec![dns.to_string()],
            ip_addresses: Vec::new(),
            spiffe_id: Some(spiffe_id),
            usage: Usage::Server,
            validity: None,
        }
    }

    /// A client named `name` with identity `spiffe_id` (subject `CN=<name>`).
    pub fn client(name: &str, spiffe_id: String) -> Workload {
        Workload {
            common_name: name.to_string(),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            spiffe_id: Some(spiffe_id),
            usage: Usage::Client,
            validity: None,
        }
    }

    /// Also valid for `dns`.
    pub fn dns(mut self, dns: &str) -> Workload {
        self.dns_names.push(dns.to_string());
        self
    }

    /// Also valid for address `ip`.
    pub fn ip(mut self, ip: IpAddr) -> Workload {
        self.ip_addresses.push(ip);
        self
    }

    /// Valid only from `from` to `until`.
    pub fn valid(mut self, from: SystemTime, until: SystemTime) -> Workload {
        self.validity = Some((from, until));
        self
    }
}

/// A self-signed CA that signs workload certificates.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Authority {
    /// A new CA with subject `CN=<common_name>,O=wasmesh test` and a fresh key.
    pub fn new(common_name: &str) -> Result<Authority, rcgen::Error> {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.distinguished_name = subject(common_name);
        let key = KeyPair::generate()?;
        let pem = params.self_signed(&key)?.pem();
        Ok(Authority {
            issuer: Issuer::new(params, key),
            pem,
        })
    }

    /// The CA certificate (the bundle a peer trusts).
    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    /// Signs a certificate for `workload` with a fresh key.
    pub fn issue(&self, workload: &Workload) -> Result<Issued, rcgen::Error> {
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(&workload.common_name);
        for dns in &workload.dns_names {
            params
                .subject_alt_names
                .push(SanType::DnsName(dns.as_str().try_into()?));
        }
        for ip in &workload.ip_addresses {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        if let Some(id) = &workload.spiffe_id {
            params
                .subject_alt_names
                .push(SanType::URI(id.as_str().try_into()?));
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![match workload.usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        if let Some((from, until)) = workload.validity {
            params.not_before = from.into();
            params.not_after = until.into();
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        })
    }
}

/// A private key that belongs to no certificate (PEM), for tests of mismatched pairs.
pub fn stray_key_pem() -> Result<String, rcgen::Error> {
    Ok(KeyPair::generate()?.serialize_pem())
}

/// `CN=<common_name>,O=wasmesh test` (RFC 2253 order: the organisation is encoded first).
fn subject(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, ORGANIZATION);
    name.push(DnType::CommonName, common_name);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_workloads_with_their_spiffe_ids() {
        let ca = Authority::new("test CA").unwrap();
        let id = spiffe_id("example.org", "default", "web");
        assert_eq!(id, "spiffe://example.org/ns/default/sa/web");
        let issued = ca.issue(&Workload::server("web.test", id.clone())).unwrap();
        assert!(issued.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(issued.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        // The URI SAN is in the DER as the IA5String it is.
        let der = String::from_utf8_lossy(&issued.der).to_string();
        assert!(der.contains(&id) && der.contains("web.test"));
    }
}
