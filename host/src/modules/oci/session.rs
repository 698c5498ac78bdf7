//! One pull's conversation with a registry: the scheme it answers on (HTTPS; for a registry on
//! this machine, plain HTTP when it does not speak TLS, as Docker does for `localhost`) and the
//! authorization it asked for with a `401` (asked for once, then sent with each request).

use anyhow::{bail, Context, Result};

use super::super::http::{rustls_error, Client, Reply};
use super::super::registry_auth::{self, Challenge, Credentials};
use super::ImageRef;

/// A pull from `image`'s repository.
pub struct Session<'a> {
    client: &'a Client,
    image: &'a ImageRef,
    credentials: Option<Credentials>,
    scheme: &'static str,
    authorization: Option<String>,
}

impl<'a> Session<'a> {
    /// A session that has sent nothing yet; `credentials` answer a registry that asks.
    pub fn new(
        client: &'a Client,
        image: &'a ImageRef,
        credentials: Option<Credentials>,
    ) -> Session<'a> {
        Session {
            client,
            image,
            credentials,
            scheme: "https",
            authorization: None,
        }
    }

    /// `GET /v2/<repository>/<path>` with `headers`, read up to `max_bytes`, whatever its
    /// status but `401`: that is answered with credentials or a token once, and a second
    /// `401` is an error naming who was refused.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)], max_bytes: u64) -> Result<Reply> {
        let reply = match self.send(path, headers, max_bytes) {
            Err(e) if self.scheme == "https" && self.image.is_loopback() && speaks_no_tls(&e) => {
                self.scheme = "http";
                self.send(path, headers, max_bytes)?
            }
            other => other?,
        };
        if reply.status != 401 {
            return Ok(reply);
        }
        let asked = reply.header("www-authenticate").unwrap_or("").to_string();
        if self.authorization.is_some() {
            bail!("{}", self.refused(&asked));
        }
        let Some(challenge) = Challenge::parse(&asked) else {
            bail!("the registry asks for credentials in a way wasmesh does not speak: {asked:?}");
        };
        let authorization = registry_auth::authorize(
            self.client,
            &challenge,
            self.credentials.as_ref(),
            &self.image.registry,
            &self.image.repository,
        )
        .context("the registry asks for credentials")?;
        self.authorization = Some(authorization);
        let reply = self.send(path, headers, max_bytes)?;
        if reply.status == 401 {
            bail!("{}", self.refused(&asked));
        }
        Ok(reply)
    }

    fn send(&self, path: &str, headers: &[(&str, &str)], max_bytes: u64) -> Result<Reply> {
        let url = format!(
            "{}://{}/v2/{}/{path}",
            self.scheme, self.image.registry, self.image.repository
        );
        let mut all = headers.to_vec();
        if let Some(authorization) = &self.authorization {
            all.push(("authorization", authorization));
        }
        self.client
            .get_reply(&url, &all, max_bytes)
            .with_context(|| format!("GET {url}"))
    }

    fn refused(&self, asked: &str) -> String {
        match &self.credentials {
            Some(c) => format!(
                "the registry refused user {:?} of `fetch.credentials` ({asked})",
                c.username
            ),
            None => format!(
                "the registry refused an anonymous pull ({asked}): give `fetch.credentials`"
            ),
        }
    }
}

/// Whether `error` says the server answered the TLS handshake with something that is not TLS
/// (a plain-HTTP server answers a ClientHello with an HTTP error): rustls' `InvalidMessage`.
fn speaks_no_tls(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ureq::Error>().and_then(rustls_error),
            Some(rustls::Error::InvalidMessage(_))
        )
    })
}
