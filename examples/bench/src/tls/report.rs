//! The `tls` mode's printed report: setup, one line per case (median and min–max over
//! rounds), then wasmesh against Envoy per load, with the aims.

use crate::args::TlsArgs;
use crate::machine::Machine;
use crate::setup;
use crate::stats::Summary;
use crate::table::{column, ms};
use crate::tls::measure::{Case, Connections, Results};
use crate::wrk::WrkResult;
use wasmesh_tests::ProxyKind;

/// Prints everything to stdout (progress went to stderr), ready to paste into a README.
pub fn print(
    args: &TlsArgs,
    before: &Machine,
    after: &Machine,
    envoy_version: &str,
    results: &Results,
) {
    let upstream = "TLS 1.3 (ECDSA P-256 certificate, ALPN http/1.1) terminated by the proxy → plain HTTP/1.1 to an in-process wasmesh-backend echo";
    setup::print(&args.load, before, after, envoy_version, upstream);
    println!("figures:  median (min–max) over rounds; with a handshake per request, requests/s is handshakes/s");
    println!();
    println!(
        "{:<40} {:>24} {:>20} {:>22} {:>7}",
        "case", "requests/s", "p50 ms", "p99 ms", "errors"
    );
    for (case, samples) in Case::ALL.iter().zip(results) {
        println!(
            "{:<40} {:>24} {:>20} {:>22} {:>7}",
            case.label(),
            column(samples, |s| Some(s.requests_per_sec), 0),
            column(samples, |s| Some(ms(s.p50)), 2),
            column(samples, |s| Some(ms(s.p99)), 2),
            samples.iter().map(|s| s.errors).sum::<u64>(),
        );
    }
    println!();
    for (connections, aim, what) in [
        (Connections::KeepAlive, 1.5, "TLS requests/s"),
        (Connections::New, 1.0, "handshakes/s"),
    ] {
        let of = |host| {
            let i = Case::ALL
                .iter()
                .position(|c| c.host == host && c.connections == connections)?;
            median(results.get(i)?)
        };
        let (Some(wasmesh), Some(envoy)) = (of(ProxyKind::Wasmesh), of(ProxyKind::Envoy)) else {
            continue;
        };
        let ratio = wasmesh / envoy;
        let verdict = if ratio >= aim { "met" } else { "MISSED" };
        println!("wasmesh / envoy {what}: {ratio:.2}× (aim ≥ {aim:.1}×: {verdict})");
    }
}

fn median(samples: &[WrkResult]) -> Option<f64> {
    Summary::of(samples.iter().map(|s| s.requests_per_sec)).map(|s| s.median)
}
