//! Certificates from PEM files, and what the TLS properties expose of one: the subject in
//! RFC 2253 form, the URI and DNS subject alternative names, the sha256 of its DER.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use wasmesh_host::stream_info::CertificateFacts;
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid2abbrev, oid_registry};
use x509_parser::x509::X509Name;

/// Every certificate in a PEM file, in order; fails on an unreadable file, bad PEM or none.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{}: no CERTIFICATE in the file", path.display()));
    }
    Ok(certificates)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// What the properties expose of `der`; a certificate that does not parse gives only its digest.
pub fn facts(der: &CertificateDer<'_>) -> CertificateFacts {
    let sha256_digest = Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return CertificateFacts {
            sha256_digest,
            ..CertificateFacts::default()
        };
    };
    let mut facts = CertificateFacts {
        subject: rfc2253(parsed.subject()),
        sha256_digest,
        ..CertificateFacts::default()
    };
    if let Ok(Some(names)) = parsed.subject_alternative_name() {
        for name in &names.value.general_names {
            match name {
                GeneralName::URI(uri) => facts.uri_sans.push(uri.to_string()),
                GeneralName::DNSName(dns) => facts.dns_sans.push(dns.to_string()),
                _ => {}
            }
        }
    }
    facts
}

/// `name` as RFC 2253 writes it, as Envoy does (OpenSSL's `XN_FLAG_RFC2253`): the last RDN
/// first, RDNs joined by `,`, the parts of a multi-valued RDN by `+`, short attribute names
/// (`CN`, `O`; the dotted OID for an unknown one), special characters escaped.
pub fn rfc2253(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let oid = attribute.attr_type();
                    let label = oid2abbrev(oid, oid_registry())
                        .map(str::to_string)
                        .unwrap_or_else(|_| oid.to_id_string());
                    let value = match attribute.as_str() {
                        Ok(text) => escape(text),
                        Err(_) => format!("#{}", hex(attribute.as_slice())),
                    };
                    format!("{label}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// RFC 2253's escaping of an attribute value.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_written_last_rdn_first_with_escapes() {
        let mut params = rcgen::CertificateParams::new(vec!["a.test".to_string()]).unwrap();
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::OrganizationName, "Acme, Inc");
        name.push(rcgen::DnType::CommonName, "client");
        params.distinguished_name = name;
        params.subject_alt_names.push(rcgen::SanType::URI(
            "spiffe://example.org/ns/default/sa/web".try_into().unwrap(),
        ));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let facts = facts(cert.der());
        assert_eq!(facts.subject, "CN=client,O=Acme\\, Inc");
        assert_eq!(facts.dns_sans, ["a.test"]);
        assert_eq!(facts.uri_sans, ["spiffe://example.org/ns/default/sa/web"]);
        assert_eq!(facts.sha256_digest.len(), 64);
    }

    #[test]
    fn leading_and_trailing_spaces_and_hashes_are_escaped() {
        assert_eq!(escape(" a b "), "\\ a b\\ ");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape("a;b<c>"), "a\\;b\\<c\\>");
    }
}
