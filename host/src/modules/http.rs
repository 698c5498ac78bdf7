//! One bounded HTTP(S) GET (ureq: blocking, rustls with the webpki roots): a timeout for the
//! whole exchange, the body read up to the cap and refused past it, redirects followed (a
//! registry sends blobs to storage that way).

use anyhow::{bail, Context, Result};

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

/// The body of `GET url` with `headers`; an error for a non-2xx status, a timeout, or a body
/// over `limits.max_bytes`.
pub fn get(url: &str, headers: &[(&str, &str)], limits: FetchLimits) -> Result<Vec<u8>> {
    let reply = get_reply(url, headers, limits)?;
    if !(200..300).contains(&reply.status) {
        bail!("{url} answered {}", reply.status);
    }
    Ok(reply.body)
}

/// `GET url` with `headers`, whatever its status; an error for a timeout, a failed connection
/// or a body over `limits.max_bytes`.
pub fn get_reply(url: &str, headers: &[(&str, &str)], limits: FetchLimits) -> Result<Reply> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(limits.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().map_err(|e| match e {
        ureq::Error::Timeout(_) => anyhow::anyhow!("timed out after {:?}", limits.timeout),
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
        .limit(limits.max_bytes)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                anyhow::anyhow!("more than {} bytes, the cap", limits.max_bytes)
            }
            ureq::Error::Timeout(_) => anyhow::anyhow!("timed out after {:?}", limits.timeout),
            other => anyhow::anyhow!(other),
        })
        .with_context(|| format!("reading {url}"))?;
    Ok(Reply {
        status,
        headers: kept,
        body,
    })
}
