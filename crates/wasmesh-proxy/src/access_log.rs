//! A listener's access log, Envoy's file access logger with a JSON format: when a stream ends
//! (after the filters' `on_log`) the worker renders its entry, one JSON object per line
//! ([`format`]), and hands the line to the log file's writer thread ([`writer`]), which appends
//! what it buffered at the flush interval. No request waits for a disk; a line the writer's
//! full queue cannot take is dropped and counted (`wasmesh_access_log_dropped_total`), never
//! waited for.

pub mod format;
pub mod writer;

use wasmesh_host::stream_info::StreamInfo;

use crate::overload::Overload;
use crate::spec::AccessLogConfig;
use format::Format;
use writer::LogFile;

/// One listener's log: its compiled fields and the file they go to.
pub struct AccessLog {
    listener: String,
    /// Each key, already written as JSON with its colon (`"code":`), and its format.
    fields: Vec<(String, Format)>,
    file: LogFile,
}

impl AccessLog {
    /// Compiles `config`'s format for `listener`, writing to `file`; an operator wasmesh does
    /// not know is an error naming its field (`json_format.<key>`) and what is wrong.
    pub fn new(
        listener: &str,
        config: &AccessLogConfig,
        file: LogFile,
    ) -> Result<AccessLog, (String, String)> {
        let format = config
            .json_format
            .clone()
            .unwrap_or_else(AccessLogConfig::default_format);
        let fields = format
            .into_iter()
            .map(|(key, text)| {
                let compiled =
                    Format::parse(&text).map_err(|e| (format!("json_format.{key}"), e))?;
                let mut prefix = String::new();
                format::json_string(&key, &mut prefix);
                prefix.push(':');
                Ok((prefix, compiled))
            })
            .collect::<Result<_, (String, String)>>()?;
        Ok(AccessLog {
            listener: listener.to_string(),
            fields,
            file,
        })
    }

    /// Writes the entry of the stream `info` describes (its facts are final: it has ended); a
    /// dropped line is counted in `overload`.
    pub fn record(&self, info: &StreamInfo, overload: &Overload) {
        // Written straight into the line: an entry per request must cost little.
        let mut line = String::with_capacity(64 * self.fields.len());
        line.push('{');
        for (i, (key, format)) in self.fields.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(key);
            format.render_into(info, &mut line);
        }
        line.push_str("}\n");
        if !self.file.send(line) {
            overload.access_log_dropped.inc(&self.listener);
        }
    }
}
