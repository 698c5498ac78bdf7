//! `wasmesh stat`: a `linkerd viz stat`-like table (success rate, requests per second, latency
//! percentiles, in-flight) computed from an admin's `/stats/prometheus`, so it reads wasmesh and
//! Envoy alike.
//!
//! [`fetch`] scrapes, [`snapshot`] keeps what the table needs, [`aggregate`] turns two scrapes
//! (or one, `--cumulative`) into rows, [`quantile`] is PromQL's `histogram_quantile`, and
//! [`table`] prints. `--discovery` instead reads wasmesh's `/endpoints` ([`discovery`]).

pub mod aggregate;
pub mod discovery;
pub mod fetch;
pub mod histogram;
pub mod quantile;
pub mod snapshot;
pub mod table;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use fetch::Admin;
use snapshot::Snapshot;
use table::Layout;

/// Which route labels make a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum By {
    /// One row per authority and route.
    #[default]
    #[value(skip)]
    AuthorityRoute,
    /// One row per route, all authorities together.
    Route,
    /// One row per authority, all routes together.
    Authority,
}

/// `wasmesh stat`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct StatArgs {
    /// Admin endpoint to read (wasmesh's or Envoy's): host:port.
    #[arg(long, default_value = "127.0.0.1:9901")]
    pub admin: String,
    /// Redraw every interval until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// Window between the two scrapes rates are computed from (e.g. 1s, 500ms, 1m).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Totals since the proxy started (one scrape; a REQUESTS column instead of RPS).
    #[arg(long)]
    pub cumulative: bool,
    /// Group rows by route or by authority only (default: both).
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Per-endpoint rows from the lb filter's metrics instead of per-route rows.
    #[arg(long, conflicts_with = "discovery")]
    pub endpoints: bool,
    /// Every service's endpoint set as discovery published it, with health (wasmesh's
    /// `GET /endpoints`; Envoy's admin has no such view).
    #[arg(long, conflicts_with_all = ["cumulative", "by"])]
    pub discovery: bool,
}

/// Runs `wasmesh stat`: prints one table, or redraws it until interrupted with `--watch`.
pub fn run(args: StatArgs) -> Result<()> {
    let admin = Admin::parse(&args.admin)?;
    if args.interval.is_zero() {
        bail!("--interval must be more than 0");
    }
    if args.discovery {
        return run_discovery(&args, &admin);
    }
    let by = args.by.unwrap_or_default();
    let scrape = || -> Result<Snapshot> {
        let text = admin.scrape()?;
        Ok(Snapshot::parse(&text, by, Instant::now()))
    };
    let mut before = if args.cumulative {
        None
    } else {
        Some(scrape()?)
    };
    loop {
        if before.is_some() {
            std::thread::sleep(args.interval);
        }
        let after = match scrape() {
            Ok(after) => after,
            // Watching, a proxy that restarts or is briefly unreachable is shown, not fatal:
            // the next interval tries again (and starts a fresh window).
            Err(e) if args.watch => {
                print!("\x1b[2J\x1b[H{e:#}\nretrying every {:?}\n", args.interval);
                if before.is_none() || args.cumulative {
                    std::thread::sleep(args.interval);
                }
                before = if args.cumulative { None } else { scrape().ok() };
                continue;
            }
            Err(e) => return Err(e),
        };
        let screen = render(&args, &admin, before.as_ref(), &after);
        if !args.watch {
            print!("{screen}");
            return Ok(());
        }
        // Clear the terminal and draw from its top-left corner.
        print!("\x1b[2J\x1b[H{screen}");
        if args.cumulative {
            std::thread::sleep(args.interval);
        } else {
            before = Some(after);
        }
    }
}

/// `--discovery`: one table, or one per interval with `--watch` (a failed read is shown and
/// retried, as for the metrics tables).
fn run_discovery(args: &StatArgs, admin: &Admin) -> Result<()> {
    loop {
        let screen = discovery::fetch(admin);
        if !args.watch {
            print!("{}", screen?);
            return Ok(());
        }
        match screen {
            Ok(screen) => print!("\x1b[2J\x1b[H{screen}"),
            Err(e) => print!("\x1b[2J\x1b[H{e:#}\nretrying every {:?}\n", args.interval),
        }
        std::thread::sleep(args.interval);
    }
}

/// The table for one window (or the totals), or a line saying why there is none.
fn render(args: &StatArgs, admin: &Admin, before: Option<&Snapshot>, after: &Snapshot) -> String {
    let layout = Layout {
        cumulative: before.is_none(),
        by: args.by.unwrap_or_default(),
    };
    let (table, metric, filter) = if args.endpoints {
        let rows = aggregate::endpoint_rows(before, after);
        let table = (!rows.is_empty()).then(|| table::endpoints(&rows, layout));
        (table, "lb_requests_total", "lb")
    } else {
        let rows = aggregate::route_rows(before, after);
        let table = (!rows.is_empty()).then(|| table::routes(&rows, layout));
        (table, "response_total", "metrics")
    };
    // The filters define their series on first use, so a loaded filter that has seen no
    // request yet shows nothing either: say both.
    table.unwrap_or_else(|| {
        format!(
            "no {metric} at {}{} yet: no request has passed the {filter} filter (is it \
             loaded, and has traffic reached it?)\n",
            admin.name,
            fetch::PATH
        )
    })
}

/// `1s`, `500ms`, `2m`, or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a duration like 1s or 500ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: unit must be ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}
