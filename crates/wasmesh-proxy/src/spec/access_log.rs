//! A listener's access log: where its lines go and what they say (Envoy's file access logger
//! with a `json_format`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One JSON object per stream, written when the stream ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogConfig {
    /// The file lines are appended to (`/dev/stdout` for standard output), created if missing.
    pub path: PathBuf,
    /// Each key's value, a string of Envoy command operators (`%RESPONSE_CODE%`,
    /// `%REQ(:PATH)%`, ...) and text. Absent: [`AccessLogConfig::default_format`].
    #[serde(default)]
    pub json_format: Option<BTreeMap<String, String>>,
    /// How often buffered lines are written (Envoy's `file_flush_interval`); a full 64 KiB
    /// buffer is written at once.
    #[serde(default = "AccessLogConfig::default_flush_interval_ms")]
    pub flush_interval_ms: u64,
}

impl AccessLogConfig {
    fn default_flush_interval_ms() -> u64 {
        1000
    }

    /// The fields of Envoy's default access-log format, as JSON keys.
    pub fn default_format() -> BTreeMap<String, String> {
        [
            ("start_time", "%START_TIME%"),
            ("method", "%REQ(:METHOD)%"),
            ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
            ("protocol", "%PROTOCOL%"),
            ("response_code", "%RESPONSE_CODE%"),
            ("response_flags", "%RESPONSE_FLAGS%"),
            ("bytes_received", "%BYTES_RECEIVED%"),
            ("bytes_sent", "%BYTES_SENT%"),
            ("duration", "%DURATION%"),
            ("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"),
            ("user_agent", "%REQ(USER-AGENT)%"),
            ("request_id", "%REQ(X-REQUEST-ID)%"),
            ("authority", "%REQ(:AUTHORITY)%"),
            ("upstream_host", "%UPSTREAM_HOST%"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}
