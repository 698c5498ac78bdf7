//! What a CEL expression evaluates over: the current context's attributes under Envoy's names
//! (`request`, `response`, `source`, `destination`, `connection`, `upstream` as maps, and
//! `plugin_name`, `plugin_root_id`, `plugin_vm_id`, `route_name`), typed as Envoy types them
//! (strings, ints, a bool for `connection.mtls`, a timestamp for `request.time`, a duration for
//! `request.duration`, string maps for the headers). Only the names the expression uses are
//! built; an attribute the context does not have is absent, so reading it is an evaluation
//! error, as in Envoy.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Program, Value};

use crate::abi::properties::{attribute, Value as Attribute, FAMILIES, TOP_LEVEL};
use crate::headers::HeaderMap;
use crate::store::HostState;

/// The attribute names an expression uses.
pub struct References {
    names: Vec<&'static str>,
}

impl References {
    /// The known top-level names `program` reads.
    pub fn of(program: &Program) -> References {
        let used = program.references();
        let names = (FAMILIES.iter().map(|(name, _)| *name))
            .chain(TOP_LEVEL.iter().copied())
            .filter(|name| used.has_variable(name))
            .collect();
        References { names }
    }
}

/// The evaluation context with the attributes `references` names.
pub fn context(references: &References, state: &mut HostState) -> Context<'static, 'static> {
    let mut context = Context::default();
    for name in &references.names {
        let value = match FAMILIES.iter().find(|(family, _)| family == name) {
            Some((family, fields)) => Some(family_map(state, family, fields)),
            None => attribute(state, name).map(typed),
        };
        if let Some(value) = value {
            context.add_variable_from_value(*name, value);
        }
    }
    context
}

/// `family`'s attributes as a map of the fields the context has.
fn family_map(state: &mut HostState, family: &str, fields: &[&[&str]]) -> Value {
    let mut map = HashMap::new();
    for field in fields.iter().flat_map(|group| group.iter()) {
        if let Some(value) = attribute(state, &format!("{family}.{field}")) {
            map.insert(Key::String(Arc::new(field.to_string())), typed(value));
        }
    }
    Value::Map(Map { map: Arc::new(map) })
}

/// An attribute as the CEL value Envoy gives it.
fn typed(value: Attribute) -> Value {
    match value {
        Attribute::Text(s) => Value::String(Arc::new(s)),
        Attribute::Int(i) => Value::Int(i),
        Attribute::Bool(b) => Value::Bool(b),
        Attribute::Timestamp(nanos) => {
            Value::Timestamp(chrono::DateTime::from_timestamp_nanos(nanos).fixed_offset())
        }
        Attribute::Duration(nanos) => Value::Duration(chrono::Duration::nanoseconds(nanos)),
        Attribute::Map(headers) => header_map(&headers),
    }
}

/// Headers as a map of lowercase names to values, a repeated header's values joined with `,`
/// (as Envoy's header map reads them).
fn header_map(headers: &HeaderMap) -> Value {
    let mut map: HashMap<Key, Value> = HashMap::new();
    for (name, value) in headers.iter() {
        let name = Key::String(Arc::new(String::from_utf8_lossy(name).into_owned()));
        let value = String::from_utf8_lossy(value);
        let joined = match map.remove(&name) {
            Some(Value::String(first)) => format!("{first},{value}"),
            _ => value.into_owned(),
        };
        map.insert(name, Value::String(Arc::new(joined)));
    }
    Value::Map(Map { map: Arc::new(map) })
}
