//! Bounded HTTP(S) GETs (ureq: blocking, rustls with Mozilla's roots or the plugin's
//! `fetch.trusted_ca`): a timeout for the whole exchange, the body read up to the cap and
//! refused past it, redirects followed (a registry sends blobs to storage that way) without
//! carrying an `Authorization` header to the next host (ureq's default).

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use super::FetchLimits;

/// What came back.
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The response headers (names lowercase).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The one client of a fetch: its limits and the roots it trusts.
pub struct Client {
    agent: ureq::Agent,
    limits: FetchLimits,
}

impl Client {
    /// A client trusting the CA bundle `trusted_ca` (PEM) when given, Mozilla's roots
    /// otherwise; `field` names the bundle's config field in errors.
    pub fn new(limits: FetchLimits, trusted_ca: Option<&Path>, field: &str) -> Result<Client> {
        let mut tls = TlsConfig::builder().unversioned_rustls_crypto_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ));
        if let Some(path) = trusted_ca {
            tls = tls.root_certs(RootCerts::Specific(Arc::new(roots(path, field)?)));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(limits.timeout))
            .http_status_as_error(false)
            .tls_config(tls.build())
            .build()
            .into();
        Ok(Client { agent, limits })
    }

    /// The limits it fetches within.
    pub fn limits(&self) -> FetchLimits {
        self.limits
    }

    /// The body of `GET url` with `headers`; an error for a non-2xx status, a timeout, or a
    /// body over the cap.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Vec<u8>> {
        let reply = self.get_reply(url, headers, self.limits.max_bytes)?;
        if !(200..300).contains(&reply.status) {
            bail!("{url} answered {}", reply.status);
        }
        Ok(reply.body)
    }

    /// `GET url` with `headers`, whatever its status; an error for a timeout, a failed
    /// connection or handshake, or a body over `max_bytes`.
    pub fn get_reply(&self, url: &str, headers: &[(&str, &str)], max_bytes: u64) -> Result<Reply> {
        let timeout = self.limits.timeout;
        let mut request = self.agent.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().map_err(|e| match e {
            ureq::Error::Timeout(_) => anyhow::anyhow!("timed out after {timeout:?}"),
            other if matches!(rustls_error(&other), Some(rustls::Error::InvalidCertificate(_))) => {
                anyhow::Error::new(other).context(
                    "the server's certificate is not trusted (is `fetch.trusted_ca` the CA that signed it?)",
                )
            }
            other => anyhow::anyhow!(other),
        })?;
        let status = response.status().as_u16();
        let kept: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(max_bytes)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    anyhow::anyhow!("more than {max_bytes} bytes, the cap")
                }
                ureq::Error::Timeout(_) => anyhow::anyhow!("timed out after {timeout:?}"),
                other => anyhow::anyhow!(other),
            })
            .with_context(|| format!("reading {url}"))?;
        Ok(Reply {
            status,
            headers: kept,
            body,
        })
    }
}

/// The rustls error `error` carries, itself or inside an I/O error (ureq passes both on).
pub fn rustls_error(error: &ureq::Error) -> Option<&rustls::Error> {
    match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// The certificates of the PEM bundle at `path`: at least one.
fn roots(path: &Path, field: &str) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path)
        .with_context(|| format!("config error at `{field}`: reading {}", path.display()))?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(e) => bail!("config error at `{field}`: {}: {e}", path.display()),
        }
    }
    if certificates.is_empty() {
        bail!(
            "config error at `{field}`: {} holds no PEM certificate",
            path.display()
        );
    }
    Ok(certificates)
}
