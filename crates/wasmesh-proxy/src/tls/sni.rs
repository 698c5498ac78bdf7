//! Which of a listener's certificates a handshake gets: the first whose DNS names match the
//! client's SNI (exactly, or a `*.` wildcard for one leftmost label, case-insensitively), else
//! the first (Envoy's default certificate), also for a client that sent no SNI.

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A loaded certificate with the DNS names it serves.
#[derive(Debug)]
pub struct ServedCertificate {
    /// The chain and signing key.
    pub key: Arc<CertifiedKey>,
    /// Its DNS subject alternative names, lowercase.
    pub dns_names: Vec<String>,
}

/// The listener's certificates, first the default.
#[derive(Debug)]
pub struct SniResolver {
    certificates: Vec<ServedCertificate>,
}

impl SniResolver {
    /// Resolves among `certificates` (at least one).
    pub fn new(certificates: Vec<ServedCertificate>) -> SniResolver {
        SniResolver { certificates }
    }

    /// The index of the certificate a client asking for `sni` gets.
    pub fn pick(&self, sni: Option<&str>) -> usize {
        let Some(sni) = sni.map(str::to_ascii_lowercase) else {
            return 0;
        };
        self.certificates
            .iter()
            .position(|c| c.dns_names.iter().any(|name| matches(name, &sni)))
            .unwrap_or(0)
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let index = self.pick(client_hello.server_name());
        Some(self.certificates[index].key.clone())
    }
}

/// Whether certificate name `pattern` covers `host` (both lowercase).
fn matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn a_wildcard_covers_one_label() {
        assert!(matches("api.test", "api.test"));
        assert!(matches("*.test", "api.test"));
        assert!(!matches("*.test", "a.api.test"));
        assert!(!matches("*.test", "test"));
        assert!(!matches("api.test", "web.test"));
    }
}
