//! One configured source with what it remembers between polls (etcd revision, Consul index):
//! what to ask next and what an answer means. The registry-specific rules are in the sibling
//! modules; this is the one place that dispatches on [`Source`].

use super::config::Source;
use super::request::HttpRequest;
use super::{consul, document, etcd, kubernetes, normalise, Answer};
use crate::endpoint::Endpoint;

/// A registry's reply as the host delivered it.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// `:status`, `None` when the call failed without a response (refused, reset, timed out).
    pub status: Option<u16>,
    /// Response headers (lowercase names, as both hosts give them).
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl Reply<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A source and its memory.
#[derive(Debug, Clone)]
pub struct SourceState {
    service: String,
    source: Source,
    etcd_revision: Option<i64>,
    consul_index: Option<String>,
}

impl SourceState {
    /// `source` of `service`, nothing seen yet.
    pub fn new(service: &str, source: Source) -> Self {
        Self {
            service: service.to_string(),
            source,
            etcd_revision: None,
            consul_index: None,
        }
    }

    /// A static list's endpoints; `None` for a registry.
    pub fn static_endpoints(&self) -> Option<Vec<Endpoint>> {
        match &self.source {
            Source::Static { endpoints } => Some(normalise(endpoints.clone())),
            _ => None,
        }
    }

    /// The next request; `None` for a static list.
    pub fn request(&self) -> Option<HttpRequest> {
        let authority = |cluster: &String, a: &Option<String>| a.clone().unwrap_or(cluster.clone());
        Some(match &self.source {
            Source::Static { .. } => return None,
            Source::Http {
                cluster,
                path,
                authority: a,
            } => HttpRequest::get(cluster, &authority(cluster, a), path.clone()),
            Source::Etcd {
                cluster,
                authority: a,
                ..
            } => etcd::range_request(cluster, &authority(cluster, a), &self.etcd_prefix()),
            Source::Consul {
                cluster,
                name,
                token,
                authority: a,
            } => consul::request(
                cluster,
                &authority(cluster, a),
                name.as_deref().unwrap_or(&self.service),
                token.as_deref(),
            ),
            Source::Kubernetes {
                cluster,
                namespace,
                name,
                token,
                authority: a,
                ..
            } => kubernetes::request(
                cluster,
                &authority(cluster, a),
                namespace,
                name.as_deref().unwrap_or(&self.service),
                token.as_deref(),
            ),
        })
    }

    /// What `reply` says. No response, a status other than 200 and an unparsable body are
    /// errors; so is an answer whose every entry was malformed (an error must never empty the
    /// set). The revision/index is remembered only from a good answer.
    pub fn parse(&mut self, reply: Reply<'_>) -> Result<Answer, String> {
        let status = reply
            .status
            .ok_or("no response (refused, reset or timed out)")?;
        if status != 200 {
            let body = String::from_utf8_lossy(&reply.body[..reply.body.len().min(200)]);
            return Err(format!("status {status}: {body}"));
        }
        let answer = match &self.source {
            Source::Static { .. } => return Err("a static list is not polled".to_string()),
            Source::Http { .. } => document::parse(reply.body)?,
            Source::Etcd { .. } => {
                let (answer, revision) =
                    etcd::parse(reply.body, &self.etcd_prefix(), self.etcd_revision)?;
                self.etcd_revision = Some(revision);
                answer
            }
            Source::Consul { .. } => {
                let index = reply.header("x-consul-index");
                let answer = consul::parse(reply.body, index, self.consul_index.as_deref())?;
                self.consul_index = index.map(str::to_string);
                answer
            }
            Source::Kubernetes { port, .. } => kubernetes::parse(reply.body, port.as_deref())?,
        };
        if let Answer::Endpoints { endpoints, skipped } = &answer {
            if endpoints.is_empty() && !skipped.is_empty() {
                // Forget the revision so the next poll parses again instead of "unchanged".
                self.etcd_revision = None;
                self.consul_index = None;
                return Err(format!("every entry was malformed: {}", skipped.join("; ")));
            }
        }
        Ok(answer)
    }

    fn etcd_prefix(&self) -> String {
        match &self.source {
            Source::Etcd {
                prefix: Some(prefix),
                ..
            } => prefix.clone(),
            _ => etcd::default_prefix(&self.service),
        }
    }
}

#[cfg(test)]
mod tests;
