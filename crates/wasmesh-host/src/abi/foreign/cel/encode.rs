//! A CEL value in the bytes Envoy 1.40's `expr_evaluate` hands back: a string or bytes as they
//! are, an int or uint as 8 bytes little-endian, a double as its 8 IEEE bytes, a bool as one
//! byte, a duration as its nanoseconds and a timestamp as nanoseconds since the Unix epoch (8
//! bytes each), a list as serialized pairs whose keys are its elements (values empty) and a map
//! as serialized pairs of its keys and values, each encoded the same way. Nothing else has an
//! encoding (`null`, a type, a function).

use cel::objects::Key;
use cel::Value;

use crate::headers::serialize_pairs;

/// `value`'s bytes; `None` for a value with no encoding.
pub fn value(of: &Value) -> Option<Vec<u8>> {
    Some(match of {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Bytes(b) => b.to_vec(),
        Value::Int(i) => i.to_le_bytes().to_vec(),
        Value::UInt(u) => u.to_le_bytes().to_vec(),
        Value::Float(f) => f.to_le_bytes().to_vec(),
        Value::Bool(b) => vec![u8::from(*b)],
        Value::Duration(d) => d.num_nanoseconds()?.to_le_bytes().to_vec(),
        Value::Timestamp(t) => t.timestamp_nanos_opt()?.to_le_bytes().to_vec(),
        Value::List(items) => {
            let pairs: Option<Vec<(Vec<u8>, Vec<u8>)>> = items
                .iter()
                .map(|item| Some((value(item)?, Vec::new())))
                .collect();
            serialize_pairs(&pairs?)
        }
        Value::Map(map) => {
            let pairs: Option<Vec<(Vec<u8>, Vec<u8>)>> = (map.map.iter())
                .map(|(k, v)| Some((key(k), value(v)?)))
                .collect();
            serialize_pairs(&pairs?)
        }
        _ => return None,
    })
}

fn key(key: &Key) -> Vec<u8> {
    match key {
        Key::String(s) => s.as_bytes().to_vec(),
        Key::Int(i) => i.to_le_bytes().to_vec(),
        Key::Uint(u) => u.to_le_bytes().to_vec(),
        Key::Bool(b) => vec![u8::from(*b)],
    }
}
