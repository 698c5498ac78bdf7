//! Envoy's access-log command operators, compiled once per configuration and rendered from a
//! stream's facts: a `json_format` value that is one operator alone keeps its type (a number
//! for codes, bytes and durations; `null` when it has no value), one mixed with text is a
//! string in which a missing value reads `-`, as in Envoy.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use wasmesh_host::headers::HeaderMap;
use wasmesh_host::stream_info::{response_flags, StreamInfo};

/// An operator wasmesh knows, with its arguments.
#[derive(Debug, Clone, PartialEq)]
enum Operator {
    StartTime,
    Protocol,
    ResponseCode,
    ResponseCodeDetails,
    ResponseFlags,
    BytesReceived,
    BytesSent,
    Duration,
    UpstreamHost,
    DownstreamRemoteAddress,
    DownstreamRemoteAddressWithoutPort,
    DownstreamLocalAddress,
    RouteName,
    RequestedServerName,
    DownstreamPeerUriSan,
    DownstreamTlsVersion,
    /// `%REQ(name?alternative):max%`.
    Request(HeaderPick),
    /// `%RESP(name?alternative):max%`.
    Response(HeaderPick),
}

/// A header, the one read when it is absent, and the most characters kept.
#[derive(Debug, Clone, PartialEq)]
struct HeaderPick {
    name: String,
    alternative: Option<String>,
    max: Option<usize>,
}

/// A piece of a format string.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Operator(Operator),
}

/// One value of a rendered entry.
enum Rendered {
    Number(u64),
    Text(String),
    Missing,
}

/// A compiled `json_format` value.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    pieces: Vec<Piece>,
}

impl Format {
    /// Compiles `text`; an unknown or malformed operator is an error naming it.
    pub fn parse(text: &str) -> Result<Format, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find('%') {
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 1..];
            let Some(end) = after.find('%') else {
                return Err(format!("{text:?}: a `%` without its closing `%`"));
            };
            let spec = &after[..end];
            if spec.is_empty() {
                pieces.push(Piece::Text("%".into()));
            } else {
                pieces.push(Piece::Operator(operator(spec)?));
            }
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Format { pieces })
    }

    /// Appends the value for `info` to `out`, as JSON.
    pub fn render_into(&self, info: &StreamInfo, out: &mut String) {
        if let [Piece::Operator(op)] = self.pieces.as_slice() {
            match value(op, info) {
                Rendered::Number(n) => {
                    let _ = write!(out, "{n}");
                }
                Rendered::Text(s) => json_string(&s, out),
                Rendered::Missing => out.push_str("null"),
            }
            return;
        }
        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Operator(op) => match value(op, info) {
                    Rendered::Number(n) => {
                        let _ = write!(text, "{n}");
                    }
                    Rendered::Text(s) => text.push_str(&s),
                    Rendered::Missing => text.push('-'),
                },
            }
        }
        json_string(&text, out);
    }
}

/// Appends `text` to `out` as a JSON string (quoted, escaped).
pub fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn operator(spec: &str) -> Result<Operator, String> {
    let simple = match spec {
        "START_TIME" => Some(Operator::StartTime),
        "PROTOCOL" => Some(Operator::Protocol),
        "RESPONSE_CODE" => Some(Operator::ResponseCode),
        "RESPONSE_CODE_DETAILS" => Some(Operator::ResponseCodeDetails),
        "RESPONSE_FLAGS" => Some(Operator::ResponseFlags),
        "BYTES_RECEIVED" => Some(Operator::BytesReceived),
        "BYTES_SENT" => Some(Operator::BytesSent),
        "DURATION" => Some(Operator::Duration),
        "UPSTREAM_HOST" => Some(Operator::UpstreamHost),
        "DOWNSTREAM_REMOTE_ADDRESS" => Some(Operator::DownstreamRemoteAddress),
        "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" => {
            Some(Operator::DownstreamRemoteAddressWithoutPort)
        }
        "DOWNSTREAM_LOCAL_ADDRESS" => Some(Operator::DownstreamLocalAddress),
        "ROUTE_NAME" => Some(Operator::RouteName),
        "REQUESTED_SERVER_NAME" => Some(Operator::RequestedServerName),
        "DOWNSTREAM_PEER_URI_SAN" => Some(Operator::DownstreamPeerUriSan),
        "DOWNSTREAM_TLS_VERSION" => Some(Operator::DownstreamTlsVersion),
        _ => None,
    };
    if let Some(op) = simple {
        return Ok(op);
    }
    let header = |inner: &str, max: Option<&str>| -> Result<HeaderPick, String> {
        let (name, alternative) = match inner.split_once('?') {
            Some((name, alt)) => (name, Some(alt.to_ascii_lowercase())),
            None => (inner, None),
        };
        if name.is_empty() {
            return Err(format!("%{spec}%: no header name"));
        }
        let max = max
            .map(|m| {
                m.parse::<usize>()
                    .map_err(|_| format!("%{spec}%: {m:?} is not a length"))
            })
            .transpose()?;
        Ok(HeaderPick {
            name: name.to_ascii_lowercase(),
            alternative,
            max,
        })
    };
    let (call, max) = match spec.rsplit_once("):") {
        Some((call, max)) => (format!("{call})"), Some(max)),
        None => (spec.to_string(), None),
    };
    let argument = |prefix: &str| {
        call.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('('))
            .and_then(|rest| rest.strip_suffix(')'))
            .map(str::to_string)
    };
    if let Some(inner) = argument("REQ").or_else(|| argument("REQUEST_HEADER")) {
        return Ok(Operator::Request(header(&inner, max)?));
    }
    if let Some(inner) = argument("RESP").or_else(|| argument("RESPONSE_HEADER")) {
        return Ok(Operator::Response(header(&inner, max)?));
    }
    Err(format!("%{spec}% is not a command operator wasmesh knows"))
}

fn value(op: &Operator, info: &StreamInfo) -> Rendered {
    let text = |s: Option<String>| s.map_or(Rendered::Missing, Rendered::Text);
    match op {
        Operator::StartTime => Rendered::Text(rfc3339_millis(info.start_time())),
        // A TCP connection has no protocol: Envoy leaves it out.
        Operator::Protocol => text(
            Some(info.protocol())
                .filter(|p| !p.is_empty())
                .map(str::to_string),
        ),
        Operator::ResponseCode => Rendered::Number(u64::from(info.response_code().unwrap_or(0))),
        Operator::ResponseCodeDetails => {
            let details = info.code_details();
            text((!details.is_empty()).then(|| details.to_string()))
        }
        Operator::ResponseFlags => Rendered::Text(flags(info.response_flags())),
        Operator::BytesReceived => Rendered::Number(info.request_body_bytes()),
        Operator::BytesSent => Rendered::Number(info.response_body_bytes()),
        Operator::Duration => Rendered::Number(info.elapsed().as_millis() as u64),
        Operator::UpstreamHost => text(info.upstream().map(|a| a.to_string())),
        Operator::DownstreamRemoteAddress => Rendered::Text(info.source().to_string()),
        Operator::DownstreamRemoteAddressWithoutPort => {
            Rendered::Text(info.source().ip().to_string())
        }
        Operator::DownstreamLocalAddress => Rendered::Text(info.destination().to_string()),
        Operator::RouteName => {
            let name = info.route_name();
            text((!name.is_empty()).then(|| name.to_string()))
        }
        Operator::RequestedServerName => text(
            info.tls()
                .map(|t| t.requested_server_name.clone())
                .filter(|n| !n.is_empty()),
        ),
        Operator::DownstreamPeerUriSan => text(
            info.tls()
                .and_then(|t| t.peer.as_ref())
                .map(|p| p.uri_sans.join(","))
                .filter(|s| !s.is_empty()),
        ),
        Operator::DownstreamTlsVersion => text(info.tls().map(|t| t.version.to_string())),
        Operator::Request(pick) => text(header(info.request_headers().as_ref(), pick)),
        Operator::Response(pick) => text(header(info.response_headers().as_ref(), pick)),
    }
}

fn header(headers: Option<&HeaderMap>, pick: &HeaderPick) -> Option<String> {
    let headers = headers?;
    let value = headers.get_str(&pick.name).or_else(|| {
        pick.alternative
            .as_deref()
            .and_then(|alt| headers.get_str(alt))
    })?;
    Some(match pick.max {
        Some(max) => value.chars().take(max).collect(),
        None => value.to_string(),
    })
}

/// Envoy's short names of the flags set, comma-separated in Envoy's order; `-` for none.
fn flags(bits: u64) -> String {
    const NAMES: [(u64, &str); 9] = [
        (response_flags::NO_HEALTHY_UPSTREAM, "UH"),
        (response_flags::UPSTREAM_REQUEST_TIMEOUT, "UT"),
        (response_flags::UPSTREAM_CONNECTION_FAILURE, "UF"),
        (response_flags::UPSTREAM_CONNECTION_TERMINATION, "UC"),
        (response_flags::UPSTREAM_OVERFLOW, "UO"),
        (response_flags::NO_ROUTE_FOUND, "NR"),
        (response_flags::UPSTREAM_RETRY_LIMIT_EXCEEDED, "URX"),
        (response_flags::STREAM_IDLE_TIMEOUT, "SI"),
        (response_flags::NO_CLUSTER_FOUND, "NC"),
    ];
    let set: Vec<&str> = NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if set.is_empty() {
        "-".into()
    } else {
        set.join(",")
    }
}

/// `2026-12-05T12:17:00.310Z`: Envoy's default `START_TIME` (UTC, milliseconds).
fn rfc3339_millis(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
