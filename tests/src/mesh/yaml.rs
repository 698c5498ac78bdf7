//! A small YAML printer for JSON values, so generated Envoy configs are readable in a failed
//! test's run directory. Strings are always double-quoted with JSON escapes, which YAML reads the
//! same way, so no value can be mistaken for a number, bool or YAML syntax.

use serde_json::Value;

/// `value` as block-style YAML.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_list(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// Entries of a map, one per line at `indent`; with `first_inline` the first entry continues the
/// current line (after a list's `- `).
fn write_map(
    out: &mut String,
    map: &serde_json::Map<String, Value>,
    indent: usize,
    first_inline: bool,
) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        out.push_str(&key_text(key));
        out.push(':');
        if is_block(value) {
            out.push('\n');
            match value {
                Value::Object(child) => write_map(out, child, indent + 2, false),
                Value::Array(items) => write_list(out, items, indent + 2),
                _ => unreachable!("is_block is true only for non-empty maps and lists"),
            }
        } else {
            out.push(' ');
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
}

fn write_list(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(out, map, indent + 2, true),
            // Lists of lists do not occur in Envoy configs; flow style keeps them correct anyway.
            other => {
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

/// A scalar, or a collection in flow style (JSON is valid flow-style YAML).
fn inline(value: &Value) -> String {
    value.to_string()
}

/// Plain keys stay plain; anything else (e.g. `@type`) is quoted.
fn key_text(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}
