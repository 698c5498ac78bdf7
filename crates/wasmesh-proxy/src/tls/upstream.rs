//! TLS to a cluster's endpoints: the cluster's CAs, identities, SNI and client certificate
//! turned into a rustls client configuration once per configuration generation, and the
//! handshake on each new upstream connection, whose session the response carries to the
//! stream (`upstream.*` TLS properties).

use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use wasmesh_host::stream_info::{CertificateFacts, TlsSession};

use super::certificate;
use super::verify::UpstreamVerifier;
use super::{field_error, TlsConfigError};
use crate::spec::UpstreamTls;

/// A cluster's TLS, ready to connect.
pub struct ClientTls {
    connector: TlsConnector,
    /// The configured SNI; `None`: the endpoint's IP.
    sni: Option<ServerName<'static>>,
    /// SNI from each request's host (see [`UpstreamTls::auto_sni`]).
    pub auto_sni: bool,
    /// Whether ALPN offers h2 (the cluster speaks h2).
    http2: bool,
    /// The client certificate's facts (`upstream.*_local_certificate`).
    local: Option<CertificateFacts>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("sni", &self.sni)
            .field("http2", &self.http2)
            .finish()
    }
}

impl ClientTls {
    /// Reads every file `spec` names; `http2` picks the ALPN offer.
    pub fn load(spec: &UpstreamTls, http2: bool) -> Result<ClientTls, TlsConfigError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        match &spec.trusted_ca {
            Some(path) => {
                let field = "trusted_ca";
                for ca in certificate::read_certificates(path).map_err(|e| field_error(field, e))? {
                    roots
                        .add(ca)
                        .map_err(|e| field_error(field, format!("{}: {e}", path.display())))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let sni = spec
            .sni
            .as_ref()
            .map(|name| {
                ServerName::try_from(name.clone())
                    .map_err(|e| field_error("sni", format!("{name:?}: {e}")))
            })
            .transpose()?;
        let verifier = UpstreamVerifier::new(
            Arc::new(roots),
            spec.subject_alt_names.clone(),
            provider.clone(),
        );
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| field_error("trusted_ca", e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let (mut config, local) = match &spec.client_certificate {
            None => (builder.with_no_client_auth(), None),
            Some(files) => {
                let at = |name: &str| format!("client_certificate.{name}");
                let chain = certificate::read_certificates(&files.certificate_chain)
                    .map_err(|e| field_error(at("certificate_chain"), e))?;
                let key = certificate::read_private_key(&files.private_key)
                    .map_err(|e| field_error(at("private_key"), e))?;
                let facts = certificate::facts(&chain[0]);
                let config = builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| field_error(at("private_key"), e.to_string()))?;
                (config, Some(facts))
            }
        };
        config.alpn_protocols = vec![if http2 {
            b"h2".to_vec()
        } else {
            b"http/1.1".to_vec()
        }];
        Ok(ClientTls {
            connector: TlsConnector::from(Arc::new(config)),
            sni,
            auto_sni: spec.auto_sni,
            http2,
            local,
        })
    }

    /// Runs the handshake on `tcp`, to the endpoint at `ip`, sending `sni` (a request's host,
    /// for `auto_sni`) or else the configured one.
    pub async fn connect(
        &self,
        tcp: TcpStream,
        ip: IpAddr,
        sni: Option<&ServerName<'static>>,
    ) -> std::io::Result<(TlsStream<TcpStream>, Arc<TlsSession>)> {
        let sni = sni.or(self.sni.as_ref());
        let name = sni
            .cloned()
            .unwrap_or_else(|| ServerName::IpAddress(ip.into()));
        let stream = self.connector.connect(name, tcp).await?;
        let sni = sni.map(|name| name.to_str().into_owned());
        let session = super::session_of(
            stream.get_ref().1,
            sni.unwrap_or_default(),
            self.local.clone(),
        );
        Ok((stream, Arc::new(session)))
    }

    /// Whether the endpoint agreed to h2.
    pub fn negotiated_h2(stream: &TlsStream<TcpStream>) -> bool {
        stream.get_ref().1.alpn_protocol() == Some(b"h2")
    }
}

/// The SNI for a request to `host` (a `Host` value: a name or address, maybe with a port): the
/// name, lowercase; `None` for an address or anything that is not a DNS name.
pub fn sni_of_host(host: &str) -> Option<ServerName<'static>> {
    if host.starts_with('[') {
        return None;
    }
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    match ServerName::try_from(name.to_ascii_lowercase()) {
        Ok(name @ ServerName::DnsName(_)) => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_host_gives_its_name_as_sni() {
        let sni = |host: &str| sni_of_host(host).map(|name| name.to_str().into_owned());
        assert_eq!(
            sni("API.example.com:8443").as_deref(),
            Some("api.example.com")
        );
        assert_eq!(sni("backend").as_deref(), Some("backend"));
        assert_eq!(sni("127.0.0.1:80"), None);
        assert_eq!(sni("10.0.0.1"), None);
        assert_eq!(sni("[::1]:443"), None);
        assert_eq!(sni(""), None);
        assert_eq!(sni("bad name!"), None);
    }
}
