//! `done`: `proxy_done` from a stream context that is not pending finalization, which the spec
//! answers with `NotFound`.

use proxy_wasm::types::Action;
use serde_json::json;

use crate::case::{Case, Env};
use crate::{raw, report, status};

/// Replies `{"done": <status>}`.
pub struct Done;

impl Case for Done {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let done = raw::done();
        report::reply_json(env, 200, &[], &json!({"done": status::name(done)}));
        Action::Pause
    }
}
