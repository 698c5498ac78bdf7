//! `declare_property`: a filter declares a property before setting it, as Envoy's foreign
//! function of that name takes it (a serialized
//! `envoy.source.extensions.common.wasm.DeclarePropertyArguments`). What wasmesh keeps of a
//! declaration is what a filter can observe: a read-only property can be set once per stream.
//! The type, schema and life span are accepted and not used (every value is read back as the
//! bytes it was set to, as Envoy reads back a `BYTES` or `STRING` property).
//!
//! As in Envoy, a declaration belongs to the context whose callback made it, and
//! `proxy_set_property` consults the root context's: declare in the root (`on_vm_start`,
//! `on_configure`). The same name declared twice in one context is `BadArgument`; arguments
//! that are not the message are `BadArgument`.

use prost::Message;

use crate::abi::properties::property_key;
use crate::abi::Status;
use crate::store::HostState;

/// `DeclarePropertyArguments`, the fields a declaration is read from.
#[derive(Clone, PartialEq, prost::Message)]
struct DeclarePropertyArguments {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(bool, tag = "2")]
    readonly: bool,
    #[prost(int32, tag = "3")]
    r#type: i32,
    #[prost(bytes = "vec", tag = "4")]
    schema: Vec<u8>,
    #[prost(int32, tag = "5")]
    span: i32,
}

/// Records the declaration in the running context.
pub fn declare(arguments: &[u8], state: &mut HostState) -> Result<Vec<u8>, Status> {
    let args = DeclarePropertyArguments::decode(arguments).map_err(|_| Status::BadArgument)?;
    let key = property_key(args.name.as_bytes());
    let fresh = match state.active_stream() {
        Some(stream) => stream.declared.insert(key),
        None => match state.declared_properties.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(args.readonly);
                true
            }
        },
    };
    if fresh {
        Ok(Vec::new())
    } else {
        Err(Status::BadArgument)
    }
}
