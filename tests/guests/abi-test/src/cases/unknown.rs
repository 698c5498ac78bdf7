//! An `x-abi-case` value no case answers to: a 400 listing the known ones, so a typo in a test
//! fails loudly instead of silently passing through.

use proxy_wasm::types::Action;
use serde_json::json;

use crate::case::{Case, Env, CASES};
use crate::report;

/// Replies 400 on request headers.
pub struct Unknown {
    name: String,
}

impl Unknown {
    /// For the unrecognised `x-abi-case` value `name`.
    pub fn new(name: String) -> Self {
        Self { name }
    }
}

impl Case for Unknown {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let known: Vec<&str> = CASES.iter().map(|(name, _)| *name).collect();
        report::reply_json(
            env,
            400,
            &[],
            &json!({"error": "unknown x-abi-case", "case": self.name, "known": known}),
        );
        Action::Pause
    }
}
