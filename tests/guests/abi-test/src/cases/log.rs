//! `log`: one message at every level, one line to stdout and stderr (WASI `fd_write`), and the
//! host's log level reported back.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, LogLevel};
use serde_json::{json, Map, Value};

use crate::case::{Case, Env};
use crate::{raw, report, status};

const LEVELS: [(&str, LogLevel); 6] = [
    ("trace", LogLevel::Trace),
    ("debug", LogLevel::Debug),
    ("info", LogLevel::Info),
    ("warn", LogLevel::Warn),
    ("error", LogLevel::Error),
    ("critical", LogLevel::Critical),
];

/// Logs and replies with `{"log_level", "get_log_level", "logged"}`.
pub struct Log;

impl Case for Log {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let mut logged = Map::new();
        for (name, level) in LEVELS {
            let result = hostcalls::log(level, &format!("abi-test log {name}"));
            logged.insert(name.to_string(), Value::from(status::of_result(&result)));
        }
        println!("abi-test stdout");
        eprintln!("abi-test stderr");
        let (st, level) = raw::get_log_level();
        report::reply_json(
            env,
            200,
            &[("x-abi-log-level", level.to_string())],
            &json!({"log_level": level, "get_log_level": status::name(st), "logged": logged}),
        );
        Action::Pause
    }
}
