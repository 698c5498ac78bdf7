//! The `tls` mode's printed report: setup, one line per case (median and min–max over
//! rounds), then wasmesh against Envoy per load, with the aims.

use crate::args::TlsArgs;
use crate::machine::Machine;
use crate::pinned::median;
use crate::setup;
use crate::tls::measure::{Case, Connections, Results, Sample};
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
    println!("figures:  median (min–max) over rounds; with a handshake per request, requests/s is handshakes/s; cpu = the proxy process's user+system time per request during the measurement; busy = the share of one core the proxy used");
    // `before`: read before the bench pinned itself to the load generator's cores.
    match crate::affinity::split(before.cpus) {
        Some((own, rest)) => println!("cores:    the proxy alone on CPU {own}; the load generator and the backend on CPU {rest}"),
        None => println!("cores:    one: the proxy shares it with the load generator and the backend"),
    }
    println!("load:     keep-alive: wrk -t1; handshake per request: the bench's own client (one thread, rustls, X25519, no session resumption, server certificate not checked), since wrk's OpenSSL handshake costs more CPU than either proxy's");
    println!();
    crate::pinned::print_table(
        Case::ALL
            .iter()
            .zip(results)
            .map(|(c, s)| (c.label(), s.as_slice())),
    );
    println!();
    for (connections, aim, what) in [
        (Connections::KeepAlive, 1.5, "TLS requests/s"),
        (Connections::New, 1.0, "handshakes/s"),
    ] {
        let of = |host, figure: fn(&Sample) -> Option<f64>| {
            let i = Case::ALL
                .iter()
                .position(|c| c.host == host && c.connections == connections)?;
            median(results.get(i)?, figure)
        };
        let rps = |s: &Sample| Some(s.wrk.requests_per_sec);
        let (Some(wasmesh), Some(envoy)) = (of(ProxyKind::Wasmesh, rps), of(ProxyKind::Envoy, rps))
        else {
            continue;
        };
        let ratio = wasmesh / envoy;
        let verdict = if ratio >= aim { "met" } else { "MISSED" };
        let cpu = |host| of(host, Sample::cpu_us_per_request);
        let cpu_ratio = match (cpu(ProxyKind::Envoy), cpu(ProxyKind::Wasmesh)) {
            (Some(envoy), Some(wasmesh)) if wasmesh > 0.0 => format!("{:.2}×", envoy / wasmesh),
            _ => "n/a".into(),
        };
        println!(
            "wasmesh / envoy {what}: {ratio:.2}× (aim ≥ {aim:.1}×: {verdict}); envoy's CPU per request / wasmesh's: {cpu_ratio}"
        );
    }
}
