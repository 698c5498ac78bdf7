//! The header-mutation filter's configuration, and the header-name/value rules other filters
//! reuse when a configuration names a header.
//!
//! ```json
//! {"request":  {"add": {"name": "value"}, "set": {"name": "value"}, "remove": ["name"]},
//!  "response": {"add": {...}, "set": {...}, "remove": [...]}}
//! ```
//! Every part is optional; unknown fields are errors. Names are lowercased (HTTP names are
//! case-insensitive and both hosts store them lowercase), so two spellings of one name in the
//! same map are an error rather than a silent overwrite.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::{self, ConfigError};

/// The validated configuration: mutations for each direction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HeadersConfig {
    /// Applied to the request headers before they go upstream.
    pub request: Mutations,
    /// Applied to the response headers before they go downstream.
    pub response: Mutations,
}

/// What to do to one header map. A filter applies `remove`, then `set`, then `add`, so a header
/// named in both `remove` and `add` ends up with exactly the configured value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Mutations {
    /// Appended (`proxy_add_header_map_value`): an existing value is kept alongside.
    pub add: Vec<(String, String)>,
    /// Replaced (`proxy_replace_header_map_value`): any existing values are dropped.
    pub set: Vec<(String, String)>,
    /// Removed (`proxy_remove_header_map_value`); absent names are fine.
    pub remove: Vec<String>,
}

impl Mutations {
    /// True when applying these mutations would change nothing, so the filter can skip the
    /// direction without a single hostcall.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.set.is_empty() && self.remove.is_empty()
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    request: RawMutations,
    #[serde(default)]
    response: RawMutations,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawMutations {
    add: BTreeMap<String, String>,
    set: BTreeMap<String, String>,
    remove: Vec<String>,
}

impl HeadersConfig {
    /// Parses and validates the plugin configuration. An empty (or all-whitespace)
    /// configuration means "no mutations", so the filter can be loaded without one.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let raw: RawConfig = config::from_json(bytes)?;
        Ok(Self {
            request: raw.request.validate("request")?,
            response: raw.response.validate("response")?,
        })
    }
}

impl RawMutations {
    fn validate(self, path: &str) -> Result<Mutations, ConfigError> {
        Ok(Mutations {
            add: validate_pairs(&config::join(path, "add"), self.add, false)?,
            set: validate_pairs(&config::join(path, "set"), self.set, true)?,
            remove: validate_removals(&config::join(path, "remove"), self.remove)?,
        })
    }
}

fn validate_pairs(
    path: &str,
    pairs: BTreeMap<String, String>,
    allow_pseudo: bool,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let field = config::join(path, &name);
        let lower = header_name(&name).map_err(|m| ConfigError::new(&field, m))?;
        if lower.starts_with(':') && !allow_pseudo {
            return Err(ConfigError::new(
                field,
                "pseudo-headers cannot be added, only set",
            ));
        }
        if out.iter().any(|(n, _)| *n == lower) {
            return Err(ConfigError::new(
                field,
                "duplicate header name (names are case-insensitive)",
            ));
        }
        check_header_value(&value).map_err(|m| ConfigError::new(&field, m))?;
        out.push((lower, value));
    }
    Ok(out)
}

fn validate_removals(path: &str, names: Vec<String>) -> Result<Vec<String>, ConfigError> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let field = format!("{path}[{i}]");
            let lower = header_name(name).map_err(|m| ConfigError::new(&field, m))?;
            if lower.starts_with(':') {
                return Err(ConfigError::new(field, "pseudo-headers cannot be removed"));
            }
            Ok(lower)
        })
        .collect()
}

/// Checks an HTTP header name (RFC 9110 token, or a `:pseudo` name) and returns it lowercased.
/// The error is a message for a [`ConfigError`].
pub fn header_name(name: &str) -> Result<String, String> {
    let token = name.strip_prefix(':').unwrap_or(name);
    if token.is_empty() {
        return Err("empty header name".to_string());
    }
    if let Some(c) = token.chars().find(|c| !is_token_char(*c)) {
        return Err(format!("invalid character {c:?} in header name"));
    }
    Ok(name.to_ascii_lowercase())
}

/// Checks an HTTP header value: no CR, LF or NUL, which would split or truncate the header on
/// the wire. The error is a message for a [`ConfigError`].
pub fn check_header_value(value: &str) -> Result<(), String> {
    match value.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
        Some(c) => Err(format!("invalid character {c:?} in header value")),
        None => Ok(()),
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

#[cfg(test)]
mod tests;
