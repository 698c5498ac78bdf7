//! Registry credentials, and answering a registry that asks for them: `Basic` (the registry
//! checks a password itself, as the distribution registry's htpasswd does) or `Bearer` (a token
//! service hands out a token for the repository's `pull` scope, anonymously or for
//! credentials, as Docker Hub, GHCR, Quay and the distribution registry's token auth do). The
//! credentials come from a Docker `config.json` — the file `docker login` writes and the
//! `.dockerconfigjson` of the Kubernetes secret Istio's WasmPlugin `imagePullSecret` names.

use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::Engine;
use serde_json::Value;

use super::http::Client;

/// What a token may weigh.
const MAX_TOKEN_BYTES: u64 = 1 << 20;

/// A user name and password for one registry.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    /// The user.
    pub username: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <password>)", self.username)
    }
}

impl Credentials {
    /// `Basic <base64(user:password)>`.
    fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// The credentials `path` (a Docker `config.json`) holds for `registry` (`host[:port]`), if
/// any; `field` names the config field in errors.
pub fn load(path: &Path, registry: &str, field: &str) -> Result<Option<Credentials>> {
    let text = std::fs::read(path)
        .with_context(|| format!("config error at `{field}`: reading {}", path.display()))?;
    let config: Value = serde_json::from_slice(&text).with_context(|| {
        format!(
            "config error at `{field}`: {} is not a Docker config.json",
            path.display()
        )
    })?;
    let Some(auths) = config["auths"].as_object() else {
        bail!(
            "config error at `{field}`: {} has no `auths` object",
            path.display()
        );
    };
    let Some((key, entry)) = auths.iter().find(|(key, _)| same_registry(key, registry)) else {
        return Ok(None);
    };
    let at = format!("`{field}` ({}, auths.{key:?})", path.display());
    if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some((username, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            bail!("config error at {at}: `auth` is not base64 of user:password");
        };
        return Ok(Some(Credentials {
            username: username.to_string(),
            password: password.to_string(),
        }));
    }
    match (entry["username"].as_str(), entry["password"].as_str()) {
        (Some(username), Some(password)) => Ok(Some(Credentials {
            username: username.to_string(),
            password: password.to_string(),
        })),
        _ if entry.get("identitytoken").is_some() => bail!(
            "config error at {at}: identity tokens (OAuth2 refresh tokens) are not supported; give `auth` or `username` and `password`"
        ),
        _ => bail!("config error at {at}: no `auth`, nor `username` and `password`"),
    }
}

/// Whether a `config.json` key (`host[:port]`, maybe with a scheme and a path, as
/// `https://index.docker.io/v1/`) names `registry`.
fn same_registry(key: &str, registry: &str) -> bool {
    let host = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    let docker_hub =
        |h: &str| matches!(h, "docker.io" | "index.docker.io" | "registry-1.docker.io");
    host.eq_ignore_ascii_case(registry) || (docker_hub(host) && docker_hub(registry))
}

/// What a registry's `WWW-Authenticate` asks for.
#[derive(Debug, PartialEq)]
pub enum Challenge {
    /// A password with each request.
    Basic,
    /// A token from the service at `realm`.
    Bearer {
        /// The token service's URL.
        realm: String,
        /// The `service` to ask the token for.
        service: Option<String>,
        /// The `scope` the registry named, if any.
        scope: Option<String>,
    },
}

impl Challenge {
    /// Reads a `WWW-Authenticate` value (`Bearer realm="…",service="…",scope="…"`).
    pub fn parse(header: &str) -> Option<Challenge> {
        let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = parameters(rest);
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    }
}

/// `name="value", name=token, …` (RFC 7235 auth-params; quoted values may hold commas).
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text.trim_start();
    while let Some((name, after)) = rest.split_once('=') {
        let name = name.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((name, value));
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

/// The `Authorization` value that answers `challenge` for pulling `repository` of `registry`,
/// with `credentials` when there are some (a bearer token may be had anonymously).
pub fn authorize(
    client: &Client,
    challenge: &Challenge,
    credentials: Option<&Credentials>,
    registry: &str,
    repository: &str,
) -> Result<String> {
    match challenge {
        Challenge::Basic => match credentials {
            Some(credentials) => Ok(credentials.basic()),
            None => bail!("a password (Basic), and `fetch.credentials` has none for {registry}"),
        },
        Challenge::Bearer {
            realm,
            service,
            scope,
        } => {
            let scope = scope
                .clone()
                .unwrap_or_else(|| format!("repository:{repository}:pull"));
            let mut query = form_urlencoded::Serializer::new(String::new());
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &scope);
            let separator = if realm.contains('?') { '&' } else { '?' };
            let url = format!("{realm}{separator}{}", query.finish());
            let basic = credentials.map(Credentials::basic);
            let headers: Vec<(&str, &str)> = basic
                .as_deref()
                .map(|b| ("authorization", b))
                .into_iter()
                .collect();
            let reply = client
                .get_reply(&url, &headers, MAX_TOKEN_BYTES)
                .with_context(|| format!("asking {realm} for a token"))?;
            if !(200..300).contains(&reply.status) {
                let who = match credentials {
                    Some(c) => format!("user {:?}", c.username),
                    None => "an anonymous pull (give `fetch.credentials`)".to_string(),
                };
                bail!(
                    "the token service {realm} answered {} for {who}",
                    reply.status
                );
            }
            let body: Value = serde_json::from_slice(&reply.body)
                .with_context(|| format!("the token service {realm} answered no JSON"))?;
            let token = body["token"]
                .as_str()
                .or(body["access_token"].as_str())
                .filter(|t| !t.is_empty());
            match token {
                Some(token) => Ok(format!("Bearer {token}")),
                None => bail!("the token service {realm} answered no `token`"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read_as_registries_send_them() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"bearer realm="https://ghcr.io/token", service=ghcr.io"#),
            Some(Challenge::Bearer {
                realm: "https://ghcr.io/token".into(),
                service: Some("ghcr.io".into()),
                scope: None,
            })
        );
        assert_eq!(Challenge::parse("Bearer service=x"), None, "no realm");
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    #[test]
    fn docker_config_entries_are_matched_by_registry() {
        let dir = std::env::temp_dir().join(format!("wasmesh-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("ann:s3cr:et");
        let config = serde_json::json!({ "auths": {
            "https://index.docker.io/v1/": { "auth": auth },
            "127.0.0.1:5000": { "username": "bob", "password": "pw" },
            "ghcr.io": { "identitytoken": "x" },
            "quay.io": { "auth": "not base64!" },
        }});
        std::fs::write(&path, config.to_string()).unwrap();
        let load = |registry: &str| load(&path, registry, "plugins[0].fetch.credentials");
        let hub = load("docker.io").unwrap().unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.as_str()),
            ("ann", "s3cr:et")
        );
        assert_eq!(load("127.0.0.1:5000").unwrap().unwrap().username, "bob");
        assert_eq!(load("127.0.0.1:5001").unwrap(), None);
        let error = load("ghcr.io").unwrap_err().to_string();
        assert!(error.contains("identity tokens"), "{error}");
        let error = load("quay.io").unwrap_err().to_string();
        assert!(
            error.contains("plugins[0].fetch.credentials") && error.contains("base64"),
            "{error}"
        );
        std::fs::write(&path, "[]").unwrap();
        assert!(load("docker.io").unwrap_err().to_string().contains("auths"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
