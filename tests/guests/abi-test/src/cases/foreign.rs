//! `foreign`: `proxy_call_foreign_function` with a name no host registers, and with Envoy's
//! `clear_route_cache`.

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
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "no_such_function": status::of_result(&missing),
                "clear_route_cache": status::of_result(&clear),
            }),
        );
        Action::Pause
    }
}
