//! The authorization filter's policy: which requests a workload accepts, by who is calling
//! (the client certificate's identity, a SPIFFE ID, or its network) and what it asks for
//! (method, path, headers). The shape follows Linkerd's `AuthorizationPolicy` with its
//! `MeshTLSAuthentication` (identities, trust domains) and `NetworkAuthentication` (CIDRs),
//! and Envoy's RBAC (permissions and principals) where the two agree.
//!
//! ```json
//! {"default": "deny",
//!  "audit": false,
//!  "deny_status": 403,
//!  "rules": [
//!    {"name": "web-reads",
//!     "action": "allow",
//!     "from": {"identities": ["spiffe://example.org/ns/default/sa/web"],
//!              "identity_prefixes": ["spiffe://example.org/ns/batch/"],
//!              "trust_domains": ["example.org"],
//!              "unauthenticated": false,
//!              "networks": ["10.0.0.0/8"]},
//!     "to": {"methods": ["GET"], "paths": ["/api/users"], "path_prefixes": ["/api/"],
//!            "headers": [{"name": "x-team", "exact": "blue"}]}}]}
//! ```
//! Rules are tried in order and the first whose `from` and `to` both match decides; a request
//! no rule matches gets `default` (deny unless said otherwise). Within `from`, a client matches
//! if any of its lists matches (an identity, a prefix, a trust domain, being unauthenticated,
//! or its address in a network); an absent or empty `from` matches everyone. Within `to`, each
//! list that is given must match (any method of `methods`, any path of `paths` or
//! `path_prefixes`, every header of `headers`). In `audit` mode a request that would be denied
//! passes, and is logged and counted as such.

mod cidr;

use serde::Deserialize;

use crate::config::{self, ConfigError};
pub use cidr::Cidr;

/// What a rule (or the default) does to the requests it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The request goes on.
    Allow,
    /// The request is answered `deny_status`.
    Deny,
}

/// The validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzConfig {
    /// Rules, first match wins.
    pub rules: Vec<Rule>,
    /// What no rule matching means.
    pub default: Action,
    /// Log and count denials instead of enforcing them.
    pub audit: bool,
    /// The status of a denial (default 403).
    pub deny_status: u16,
    /// Distinct identities that get their own metric label per worker; later ones are
    /// `overflow` (default 100).
    pub max_identities: usize,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its name, in the denial's body, the log and the metrics.
    pub name: String,
    /// What it does.
    pub action: Action,
    /// Who it applies to.
    pub from: Callers,
    /// What requests it applies to.
    pub to: Targets,
}

/// Who a rule applies to; empty: everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callers {
    /// Client identities, exactly.
    pub identities: Vec<String>,
    /// Client identities starting with one of these.
    pub identity_prefixes: Vec<String>,
    /// SPIFFE trust domains: identities `spiffe://<domain>/…`.
    pub trust_domains: Vec<String>,
    /// Clients without an identity (no client certificate, or none with a URI SAN).
    pub unauthenticated: bool,
    /// Client addresses.
    pub networks: Vec<Cidr>,
}

/// What requests a rule applies to; empty: all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    /// Methods, exactly (case-sensitive, as HTTP methods are).
    pub methods: Vec<String>,
    /// Paths (without the query), exactly.
    pub paths: Vec<String>,
    /// Paths (without the query) starting with one of these.
    pub path_prefixes: Vec<String>,
    /// Headers that must all be there with these values.
    pub headers: Vec<HeaderMatch>,
}

/// A header a rule requires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    /// Its name (lowercased).
    pub name: String,
    /// Its value, exactly; absent: present with any value.
    #[serde(default)]
    pub exact: Option<String>,
}

/// What the policy knows of one request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The client's identity (`connection.uri_san_peer_certificate`), if it has one.
    pub identity: Option<&'a str>,
    /// The client's address, if the host told it.
    pub source: Option<std::net::IpAddr>,
    /// `:method`.
    pub method: &'a str,
    /// `:path`, query included (it is cut before matching).
    pub path: &'a str,
}

/// The outcome for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    /// What the matching rule (or the default) says.
    pub action: Action,
    /// The matching rule's name; `None`: no rule matched, the default decided.
    pub rule: Option<&'a str>,
}

impl AuthzConfig {
    /// Parses and validates the plugin configuration; an error names the field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        let raw: RawConfig = config::from_json(bytes)?;
        let mut rules = Vec::with_capacity(raw.rules.len());
        for (i, rule) in raw.rules.into_iter().enumerate() {
            let at = format!("rules[{i}]");
            if rule.name.is_empty() {
                return Err(ConfigError::new(format!("{at}.name"), "empty"));
            }
            if rules.iter().any(|r: &Rule| r.name == rule.name) {
                return Err(ConfigError::new(
                    format!("{at}.name"),
                    "used by an earlier rule",
                ));
            }
            let mut from = Callers {
                identities: rule.from.identities,
                identity_prefixes: rule.from.identity_prefixes,
                trust_domains: rule.from.trust_domains,
                unauthenticated: rule.from.unauthenticated,
                networks: Vec::new(),
            };
            for (j, network) in rule.from.networks.iter().enumerate() {
                let cidr = network
                    .parse()
                    .map_err(|e| ConfigError::new(format!("{at}.from.networks[{j}]"), e))?;
                from.networks.push(cidr);
            }
            for (j, domain) in from.trust_domains.iter().enumerate() {
                if domain.is_empty() || domain.contains('/') {
                    return Err(ConfigError::new(
                        format!("{at}.from.trust_domains[{j}]"),
                        "a trust domain is a name like example.org, without a scheme or path",
                    ));
                }
            }
            let mut to = rule.to;
            for (j, header) in to.headers.iter_mut().enumerate() {
                header.name = crate::headers::header_name(&header.name)
                    .map_err(|m| ConfigError::new(format!("{at}.to.headers[{j}].name"), m))?;
            }
            rules.push(Rule {
                name: rule.name,
                action: rule.action,
                from,
                to,
            });
        }
        if !(100..=599).contains(&raw.deny_status) {
            return Err(ConfigError::new(
                "deny_status",
                "not an HTTP status (100-599)",
            ));
        }
        Ok(AuthzConfig {
            rules,
            default: raw.default,
            audit: raw.audit,
            deny_status: raw.deny_status,
            max_identities: raw.max_identities,
        })
    }

    /// The decision for `request`; `header` answers the request's headers by (lowercase) name.
    pub fn decide<'a>(
        &'a self,
        request: &Request<'_>,
        header: impl Fn(&str) -> Option<String>,
    ) -> Decision<'a> {
        for rule in &self.rules {
            if rule.from.matches(request) && rule.to.matches(request, &header) {
                return Decision {
                    action: rule.action,
                    rule: Some(&rule.name),
                };
            }
        }
        Decision {
            action: self.default,
            rule: None,
        }
    }

    /// Whether any rule looks at headers (so the filter reads them only then).
    pub fn reads_headers(&self) -> bool {
        self.rules.iter().any(|r| !r.to.headers.is_empty())
    }
}

impl Callers {
    fn is_empty(&self) -> bool {
        self.identities.is_empty()
            && self.identity_prefixes.is_empty()
            && self.trust_domains.is_empty()
            && !self.unauthenticated
            && self.networks.is_empty()
    }

    fn matches(&self, request: &Request<'_>) -> bool {
        if self.is_empty() {
            return true;
        }
        let by_identity = match request.identity {
            Some(id) => {
                self.identities.iter().any(|i| i == id)
                    || self
                        .identity_prefixes
                        .iter()
                        .any(|p| id.starts_with(p.as_str()))
                    || self.trust_domains.iter().any(|d| in_trust_domain(id, d))
            }
            None => self.unauthenticated,
        };
        let by_network = request
            .source
            .is_some_and(|ip| self.networks.iter().any(|n| n.contains(ip)));
        by_identity || by_network
    }
}

/// Whether `identity` is `spiffe://<domain>/…`.
fn in_trust_domain(identity: &str, domain: &str) -> bool {
    identity
        .strip_prefix("spiffe://")
        .and_then(|rest| rest.strip_prefix(domain))
        .is_some_and(|rest| rest.starts_with('/'))
}

impl Targets {
    fn matches(&self, request: &Request<'_>, header: &impl Fn(&str) -> Option<String>) -> bool {
        let path = request.path.split('?').next().unwrap_or_default();
        let method_ok = self.methods.is_empty() || self.methods.iter().any(|m| m == request.method);
        let path_ok = (self.paths.is_empty() && self.path_prefixes.is_empty())
            || self.paths.iter().any(|p| p == path)
            || self
                .path_prefixes
                .iter()
                .any(|p| path.starts_with(p.as_str()));
        let headers_ok = self
            .headers
            .iter()
            .all(|h| match (header(&h.name), &h.exact) {
                (Some(value), Some(exact)) => value == *exact,
                (Some(_), None) => true,
                (None, _) => false,
            });
        method_ok && path_ok && headers_ok
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default = "deny")]
    default: Action,
    #[serde(default)]
    audit: bool,
    #[serde(default = "forbidden")]
    deny_status: u16,
    #[serde(default = "hundred")]
    max_identities: usize,
}

fn deny() -> Action {
    Action::Deny
}
fn forbidden() -> u16 {
    403
}
fn hundred() -> usize {
    100
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    action: Action,
    #[serde(default)]
    from: RawFrom,
    #[serde(default)]
    to: Targets,
}

/// `from` as written: `networks` as strings, checked into [`Cidr`]s.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawFrom {
    identities: Vec<String>,
    identity_prefixes: Vec<String>,
    trust_domains: Vec<String>,
    unauthenticated: bool,
    networks: Vec<String>,
}

#[cfg(test)]
mod tests;
