//! `foreign`: `proxy_call_foreign_function` with a name no host registers, and with Envoy's
//! `clear_route_cache`, `compress` and `uncompress` (a round trip, and bytes that are not zlib
//! data).

use proxy_wasm::hostcalls;
use proxy_wasm::types::Action;
use serde_json::json;

use crate::case::{Case, Env};
use crate::{report, status};

/// Replies with the status of each call.
pub struct Foreign;

impl Case for Foreign {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let missing = hostcalls::call_foreign_function("abi_no_such_function", Some(b"args"));
        let clear = hostcalls::call_foreign_function("clear_route_cache", None);
        let text = b"abi abi abi abi abi abi abi abi abi abi abi abi".as_slice();
        let packed = hostcalls::call_foreign_function("compress", Some(text));
        let packed_bytes = packed.clone().ok().flatten().unwrap_or_default();
        let unpacked = hostcalls::call_foreign_function("uncompress", Some(&packed_bytes));
        let garbage = hostcalls::call_foreign_function("uncompress", Some(b"not zlib data"));
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "no_such_function": status::of_result(&missing),
                "clear_route_cache": status::of_result(&clear),
                "compress": status::of_result(&packed),
                "compressed_smaller": packed_bytes.len() < text.len(),
                "zlib_header": packed_bytes.first().map(|b| format!("{b:02x}")),
                "uncompress": status::of_result(&unpacked),
                "round_trip": unpacked.ok().flatten().as_deref() == Some(text),
                "uncompress_garbage": status::of_result(&garbage),
            }),
        );
        Action::Pause
    }
}
