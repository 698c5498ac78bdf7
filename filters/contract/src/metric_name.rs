//! The one naming convention for labelled metrics, shared by every filter and both hosts.
//!
//! The proxy-wasm metrics API has names, not labels, so labels travel inside the name:
//! `<base>;<label>=<value>;<label>=<value>…`, e.g.
//! `response_total;direction=inbound;authority=web;status_code=200`.
//!
//! - **wasmesh** splits every defined name with [`parse`] and renders real Prometheus labels at
//!   `/metrics`, one family per base name.
//! - **Envoy** keeps the name (under `wasmcustom.`) and turns each label into a tag through one
//!   `stats_tags` entry per label of [`LABELS`], regex [`envoy_tag_regex`]: the regex's first
//!   group (`;label=value`) is cut from the name and its second (`value`) becomes the tag, so
//!   `/stats/prometheus` shows `response_total{status_code="200",…}`.
//!
//! `;` and `=` never occur in a value ([`value`] replaces them), so a name parses one way only.
//! Envoy only knows the labels listed in its config: a label outside [`LABELS`] would stay in
//! Envoy's metric name, which is why filters only use these.

use std::borrow::Cow;

/// Every label a wasmesh filter puts in a metric name: what `envoy-configs/` declares as
/// `stats_tags`, in this order.
pub const LABELS: &[&str] = &[
    "direction",
    "authority",
    "route",
    "status_code",
    "classification",
    "service",
    "endpoint",
    "reason",
    "priority",
    "rule",
    "identity",
];

/// Longest label value kept; longer values are cut (label values are for humans and queries,
/// and a cap keeps one header from making a name unboundedly long).
pub const MAX_VALUE_LEN: usize = 128;

/// `base;k=v;…` for `labels`, each value passed through [`value`].
pub fn labelled(base: &str, labels: &[(&str, &str)]) -> String {
    let mut name = String::with_capacity(base.len() + labels.len() * 24);
    name.push_str(base);
    for (key, raw) in labels {
        name.push(';');
        name.push_str(key);
        name.push('=');
        name.push_str(&value(raw));
    }
    name
}

/// A label value safe inside a name: `;`, `=`, control characters and non-ASCII become `_`,
/// an empty value becomes `unknown`, and it is cut at [`MAX_VALUE_LEN`] bytes.
pub fn value(raw: &str) -> String {
    value_cow(raw).into_owned()
}

/// [`value`] without a copy when `raw` is already safe (the common case: a host name, an
/// `ip:port`), for the per-request path of filters that only look the value up.
pub fn value_cow(raw: &str) -> Cow<'_, str> {
    if raw.is_empty() {
        return Cow::Borrowed("unknown");
    }
    let safe = |c: char| !(c == ';' || c == '=' || !c.is_ascii() || c.is_ascii_control());
    // By bytes: every byte of a non-ASCII character is non-ASCII, so this is `chars().all(safe)`
    // without decoding (it runs on every request's authority in `metrics`).
    if raw.len() <= MAX_VALUE_LEN && raw.bytes().all(|b| safe(char::from(b))) {
        return Cow::Borrowed(raw);
    }
    raw.chars()
        .take(MAX_VALUE_LEN)
        .map(|c| if safe(c) { c } else { '_' })
        .collect()
}

/// Splits a name into its base and labels. A name without `;` has no labels; a part without
/// `=` is not a label and stays in the base, so a name not following the convention is shown
/// as it was defined.
pub fn parse(name: &str) -> (&str, Vec<(&str, &str)>) {
    let mut parts = name.split(';');
    let base = parts.next().unwrap_or_default();
    let mut labels = Vec::new();
    for part in parts {
        match part.split_once('=') {
            Some((key, value)) if !key.is_empty() => labels.push((key, value)),
            _ => return (name, Vec::new()),
        }
    }
    (base, labels)
}

/// The Envoy `stats_tags` regex extracting `label` from a name built by [`labelled`].
pub fn envoy_tag_regex(label: &str) -> String {
    format!("(;{label}=([^;]*))")
}

#[cfg(test)]
mod tests;
