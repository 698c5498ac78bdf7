//! Text tables in `linkerd viz stat`'s shape: upper-case headers, left-aligned columns three
//! spaces apart, `-` where there is nothing to say.

use std::collections::BTreeSet;

use super::aggregate::{EndpointRow, RouteRow};
use super::By;
use crate::endpoints_view::{EndpointView, View};

#[cfg(test)]
mod tests;

/// What the tables show besides the rows.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Totals since start (a REQUESTS column) instead of a window (an RPS column).
    pub cumulative: bool,
    /// Which route labels are columns.
    pub by: By,
}

/// The route table.
pub fn routes(rows: &[RouteRow], layout: Layout) -> String {
    let directions: BTreeSet<&str> = rows.iter().map(|r| r.key.direction.as_str()).collect();
    let show_direction = directions.len() > 1;
    let mut header = Vec::new();
    if show_direction {
        header.push("DIRECTION");
    }
    if layout.by != By::Route {
        header.push("AUTHORITY");
    }
    if layout.by != By::Authority {
        header.push("ROUTE");
    }
    header.push("SUCCESS");
    header.push(if layout.cumulative { "REQUESTS" } else { "RPS" });
    header.extend(["LATENCY_P50", "LATENCY_P95", "LATENCY_P99", "IN_FLIGHT"]);
    let body = rows.iter().map(|row| {
        let mut cells = Vec::new();
        if show_direction {
            cells.push(text(&row.key.direction));
        }
        if layout.by != By::Route {
            cells.push(text(&row.key.authority));
        }
        if layout.by != By::Authority {
            cells.push(text(&row.key.route));
        }
        cells.push(percent(row.success));
        cells.push(volume(layout.cumulative, row.responses, row.rps));
        cells.extend(row.latency.map(millis));
        cells.push(format!("{:.0}", row.in_flight));
        cells
    });
    render(&header, body)
}

/// The endpoint table (from the lb filter's metrics).
pub fn endpoints(rows: &[EndpointRow], layout: Layout) -> String {
    let header = [
        "SERVICE",
        "ENDPOINT",
        if layout.cumulative { "REQUESTS" } else { "RPS" },
        "SHARE",
        "FAILURES",
        "IN_FLIGHT",
        "EWMA",
    ];
    let body = rows.iter().map(|row| {
        vec![
            text(&row.key.service),
            text(&row.key.endpoint),
            volume(layout.cumulative, row.requests, row.rps),
            percent(row.share),
            format!("{:.0}", row.failures),
            format!("{:.0}", row.in_flight),
            millis(row.ewma_ms),
        ]
    });
    render(&header, body)
}

/// The discovery table: one row per endpoint (a service without endpoints gets one row with
/// `-`), the service's columns repeated so every row can be grepped on its own.
pub fn discovery(view: &View) -> String {
    let header = [
        "SERVICE", "SOURCE", "VERSION", "AGE", "STALE", "ENDPOINT", "WEIGHT", "PRIORITY", "ZONE",
        "HEALTH",
    ];
    let mut rows = Vec::new();
    for service in &view.services {
        let head = [
            text(&service.service),
            text(service.source.as_deref().unwrap_or("")),
            service.version.to_string(),
            service.age_ms.map_or("-".to_string(), age),
            if service.stale { "yes" } else { "no" }.to_string(),
        ];
        if service.endpoints.is_empty() {
            let mut cells = head.to_vec();
            cells.extend(["-", "-", "-", "-", "-"].map(String::from));
            rows.push(cells);
        }
        for endpoint in &service.endpoints {
            let mut cells = head.to_vec();
            cells.extend([
                endpoint.address.clone(),
                endpoint.weight.to_string(),
                endpoint.priority.to_string(),
                text(&endpoint.zone),
                health(endpoint, view.now_ms),
            ]);
            rows.push(cells);
        }
    }
    render(&header, rows.into_iter())
}

/// `ok`, `ok (ejected 2x before)` or `ejected 12.0s more (1x)`.
fn health(endpoint: &EndpointView, now_ms: u64) -> String {
    match endpoint.ejected_until_ms {
        Some(until) if endpoint.ejected => format!(
            "ejected {} more ({}x)",
            age(until.saturating_sub(now_ms)),
            endpoint.ejections
        ),
        _ if endpoint.ejections > 0 => format!("ok (ejected {}x before)", endpoint.ejections),
        _ => "ok".to_string(),
    }
}

/// `850ms`, `12.3s`, `4m05s`, `2h07m`.
fn age(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms}ms"),
        1000..=59_999 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60),
    }
}

/// Aligned columns; every line ends without trailing spaces.
fn render(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    lines.extend(rows);
    let mut widths = vec![0; header.len()];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &lines {
        let mut text = String::new();
        for (cell, width) in line.iter().zip(&widths) {
            text.push_str(&format!("{cell:<width$}   "));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

fn text(value: &str) -> String {
    if value.is_empty() {
        "-".to_string()
    } else {
        value.to_string()
    }
}

/// `90.91%`.
fn percent(ratio: Option<f64>) -> String {
    ratio.map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0))
}

/// A count (cumulative) or a rate (`12.5rps`); `-` for a window without traffic.
fn volume(cumulative: bool, count: f64, rps: Option<f64>) -> String {
    if cumulative {
        format!("{count:.0}")
    } else {
        rps.map_or("-".to_string(), |r| format!("{r:.1}rps"))
    }
}

/// `3.5ms` below 10 ms, `187ms` above.
fn millis(ms: Option<f64>) -> String {
    match ms {
        None => "-".to_string(),
        Some(ms) if ms < 10.0 => format!("{ms:.1}ms"),
        Some(ms) => format!("{ms:.0}ms"),
    }
}
