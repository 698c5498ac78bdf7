//! `declare-property`: Envoy's `declare_property` foreign function. The root declares
//! `abi_readonly` (read-only) and `abi_writable` in `on_configure` (and `abi_readonly` once
//! more); the stream sets each twice, declares `abi_stream_declared` read-only twice from its own
//! context and sets that twice too, and declares with arguments that are no message.

use prost::Message;
use proxy_wasm::hostcalls;
use proxy_wasm::types::Action;
use serde_json::{json, Value};

use crate::case::{Case, Env};
use crate::report::text;
use crate::{raw, report, status};

/// `envoy.source.extensions.common.wasm.DeclarePropertyArguments` (type and span left 0: bytes,
/// filter chain).
#[derive(Clone, PartialEq, prost::Message)]
struct DeclarePropertyArguments {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(bool, tag = "2")]
    readonly: bool,
}

/// `declare_property(name, readonly)`: its status name.
pub fn declare(name: &str, readonly: bool) -> String {
    let args = DeclarePropertyArguments {
        name: name.into(),
        readonly,
    };
    let result = hostcalls::call_foreign_function("declare_property", Some(&args.encode_to_vec()));
    status::of_result(&result)
}

/// Sets `name` to `first` then `second` and reads it back.
fn set_twice(name: &str) -> Value {
    let first = status::name(raw::set_property(name, b"first"));
    let second = status::name(raw::set_property(name, b"second"));
    let value = hostcalls::get_property(vec![name])
        .ok()
        .flatten()
        .map(|v| text(&v));
    json!({"first": first, "second": second, "value": value})
}

/// Replies with every status.
pub struct Declare;

impl Case for Declare {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let in_stream = declare("abi_stream_declared", true);
        let in_stream_again = declare("abi_stream_declared", true);
        let garbage = hostcalls::call_foreign_function("declare_property", Some(&[0xff, 0xff]));
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "root": env.root.declared,
                "readonly": set_twice("abi_readonly"),
                "writable": set_twice("abi_writable"),
                "stream_declare": in_stream,
                "stream_declare_again": in_stream_again,
                "stream_declared": set_twice("abi_stream_declared"),
                "garbage": status::of_result(&garbage),
            }),
        );
        Action::Pause
    }
}
