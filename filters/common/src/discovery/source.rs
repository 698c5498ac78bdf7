//! One configured source with what it remembers between polls (etcd revision, Consul index,
//! Kubernetes resourceVersion): what to ask next, what an answer means, and whether to ask
//! again at once (a blocking query answered, an etcd probe that saw a change). The registry-specific rules are in the sibling
//! modules; this is the one place that dispatches on [`Source`].

use super::config::Source;
use super::request::HttpRequest;
use super::{consul, document, etcd, kubernetes, normalise, Answer};
use wasmesh_contract::endpoint::Endpoint;

/// A registry's reply as the host delivered it.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// `:status`, `None` when the host delivered no headers (Envoy's `onFailure`: a reset); a
    /// refused connection is a 503 and a timeout a 504 in both hosts.
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
    /// The next etcd poll fetches the range (not a probe): nothing known yet, or a probe saw
    /// the revision move.
    etcd_fetch: bool,
    consul_index: Option<String>,
    kubernetes_version: Option<String>,
}

impl SourceState {
    /// `source` of `service`, nothing seen yet.
    pub fn new(service: &str, source: Source) -> Self {
        Self {
            service: service.to_string(),
            source,
            etcd_revision: None,
            etcd_fetch: true,
            consul_index: None,
            kubernetes_version: None,
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
            } => {
                let ask = if self.etcd_fetch || self.etcd_revision.is_none() {
                    etcd::range_request
                } else {
                    etcd::probe_request
                };
                ask(cluster, &authority(cluster, a), &self.etcd_prefix())
            }
            Source::Consul {
                cluster,
                name,
                token,
                authority: a,
                wait_ms,
            } => consul::request(
                cluster,
                &authority(cluster, a),
                name.as_deref().unwrap_or(&self.service),
                token.as_deref(),
                self.consul_index
                    .as_deref()
                    .zip(*wait_ms)
                    .map(|(index, wait_ms)| consul::Block { index, wait_ms }),
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
                self.kubernetes_version.as_deref(),
            ),
        })
    }

    /// Whether the next poll should go at once after `answer`, which took `held_ms` from
    /// request to answer, instead of after the poll interval: an etcd probe saw a change; a
    /// blocking Consul query answered (unless it came back unchanged in under half its wait:
    /// a server that does not block is then polled at the interval, not in a loop).
    pub fn ask_again_at_once(&self, answer: &Answer, held_ms: u64) -> bool {
        match (&self.source, answer) {
            (Source::Etcd { .. }, Answer::Changed) => true,
            (
                Source::Consul {
                    wait_ms: Some(wait),
                    ..
                },
                answer,
            ) => {
                self.consul_index.is_some() && (*answer != Answer::Unchanged || held_ms >= wait / 2)
            }
            _ => false,
        }
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
                let (answer, revision) = match self.etcd_revision {
                    Some(last) if !self.etcd_fetch => etcd::parse_probe(reply.body, last)?,
                    last => etcd::parse(reply.body, &self.etcd_prefix(), last)?,
                };
                // A probe that saw a change leaves the revision as it was, so the fetch that
                // follows parses the range even if nothing moved since.
                self.etcd_fetch = answer == Answer::Changed;
                if !self.etcd_fetch {
                    self.etcd_revision = Some(revision);
                }
                answer
            }
            Source::Consul { .. } => {
                let index = reply.header("x-consul-index");
                let answer = consul::parse(reply.body, index, self.consul_index.as_deref())?;
                self.consul_index = consul::next_index(index, self.consul_index.as_deref());
                answer
            }
            Source::Kubernetes { port, zone, .. } => {
                let version = kubernetes::resource_version(reply.body);
                if version.is_some() && version == self.kubernetes_version {
                    Answer::Unchanged
                } else {
                    let answer = kubernetes::parse(reply.body, port.as_deref(), zone.as_deref())?;
                    self.kubernetes_version = version;
                    answer
                }
            }
        };
        if let Answer::Endpoints { endpoints, skipped } = &answer {
            if endpoints.is_empty() && !skipped.is_empty() {
                // Forget the revision so the next poll parses again instead of "unchanged".
                self.etcd_revision = None;
                self.etcd_fetch = true;
                self.consul_index = None;
                self.kubernetes_version = None;
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
