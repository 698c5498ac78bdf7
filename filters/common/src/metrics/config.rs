//! The `metrics` filter's configuration:
//!
//! ```json
//! {"direction": "inbound",
//!  "routes": [{"name": "users", "path": "/users/{id}"}, {"name": "api", "prefix": "/api/"}],
//!  "max_label_values": 100, "access_log": true, "trace": true}
//! ```
//! Every field is optional (an empty configuration is valid). Unknown fields are errors that
//! name the field, so a typo makes `on_configure` fail instead of silently counting differently.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::config::{self, ConfigError};
use crate::metrics::route::{Matcher, Route, RouteTable};

/// Distinct values of `authority` (and of `endpoint`) kept per VM by default.
pub const DEFAULT_MAX_LABEL_VALUES: usize = 100;

/// Which side of the service the proxy sits on: Linkerd's `direction` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Traffic into the service next to the proxy (the default).
    Inbound,
    /// Traffic from that service out to others.
    Outbound,
}

impl Direction {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// The `direction` label of every metric.
    pub direction: Direction,
    /// Path → route name; unmatched paths are route `default`.
    pub routes: RouteTable,
    /// Per VM, how many distinct `authority` (and `endpoint`) values get their own series.
    pub max_label_values: usize,
    /// Log one JSON line per request at info level. Off by default: a guest's log line per
    /// request goes through the host's logger and costs a quarter of the chain's throughput,
    /// where the listener's own access log (wasmesh's `access_log`, Envoy's file access log) is
    /// buffered off the request path; as in Envoy and Linkerd, logging every request is opted into.
    pub access_log: bool,
    /// Propagate or generate `traceparent` and generate a missing `x-request-id`.
    pub trace: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            direction: Direction::Inbound,
            routes: RouteTable::default(),
            max_label_values: DEFAULT_MAX_LABEL_VALUES,
            access_log: false,
            trace: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    direction: Option<Direction>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    max_label_values: Option<usize>,
    access_log: Option<bool>,
    trace: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: String,
    path: Option<String>,
    prefix: Option<String>,
}

impl MetricsConfig {
    /// Parses and validates the plugin configuration; the error names the field. An empty
    /// configuration means every default.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let raw: RawConfig = config::from_json(bytes)?;
        let max_label_values = raw.max_label_values.unwrap_or(DEFAULT_MAX_LABEL_VALUES);
        if max_label_values == 0 {
            return Err(ConfigError::new("max_label_values", "must be above 0"));
        }
        Ok(Self {
            direction: raw.direction.unwrap_or(Direction::Inbound),
            routes: routes(raw.routes)?,
            max_label_values,
            access_log: raw.access_log.unwrap_or(false),
            trace: raw.trace.unwrap_or(true),
        })
    }
}

fn routes(raw: Vec<RawRoute>) -> Result<RouteTable, ConfigError> {
    let mut names = BTreeSet::new();
    let mut table = Vec::with_capacity(raw.len());
    for (i, route) in raw.into_iter().enumerate() {
        let at = |field: &str| format!("routes[{i}].{field}");
        check_name(&route.name).map_err(|m| ConfigError::new(at("name"), m))?;
        if !names.insert(route.name.clone()) {
            return Err(ConfigError::new(
                at("name"),
                format!("duplicate route name {:?}", route.name),
            ));
        }
        let matcher = match (route.path, route.prefix) {
            (Some(path), None) => {
                Matcher::template(&path).map_err(|m| ConfigError::new(at("path"), m))?
            }
            (None, Some(prefix)) => {
                Matcher::prefix(&prefix).map_err(|m| ConfigError::new(at("prefix"), m))?
            }
            _ => return Err(ConfigError::new(
                format!("routes[{i}]"),
                "exactly one of \"path\" (a template like /users/{id}) or \"prefix\" is required",
            )),
        };
        table.push(Route {
            name: route.name,
            matcher,
        });
    }
    Ok(RouteTable::new(table))
}

/// A route name becomes a label value: keep it to `[A-Za-z0-9_.-]` so it needs no escaping in
/// either host, and reserve `default` for unmatched paths.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    if name == crate::metrics::route::DEFAULT_ROUTE {
        return Err("\"default\" is the route of unmatched paths; pick another name".to_string());
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
    {
        Some(c) => Err(format!(
            "invalid character {c:?} (allowed: A-Z a-z 0-9 _ . -)"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
