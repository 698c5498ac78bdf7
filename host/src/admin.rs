//! The admin server: `/ready`, `/listeners?format=json` (Envoy's shape, so
//! one test rig drives both proxies), `/metrics` (Prometheus text),
//! `/config` (what runs and the last reload error), `POST /reload`, `/endpoints` (every
//! service's discovered endpoint set, [`endpoints`]), `POST /rollout` (a canary rolled back,
//! promoted or resumed by hand, [`rollouts`]), `/ui` (the live view in a browser, [`ui`], from
//! the history [`live`] keeps).

pub mod endpoints;
pub mod live;
pub mod rollouts;
pub mod ui;

use std::convert::Infallible;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;

use crate::host::Host;
use live::Live;

type Reply = Response<Full<Bytes>>;

fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn json(status: u16, value: serde_json::Value) -> Reply {
    reply(status, "application/json", value.to_string())
}

/// Serves the admin API on `listener` until the process exits (own thread).
pub fn spawn(host: Arc<Host>, listener: std::net::TcpListener) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("wasmesh-admin".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => return log::error!("admin runtime: {e}"),
            };
            runtime.block_on(async move {
                let live = Arc::new(Live::default());
                tokio::spawn(live::sample(host.clone(), live.clone()));
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => return log::error!("admin listener: {e}"),
                };
                loop {
                    let socket = match listener.accept().await {
                        Ok((socket, _)) => socket,
                        Err(e) => {
                            wasmesh_proxy::after_accept_error("admin", &e).await;
                            continue;
                        }
                    };
                    let (host, live) = (host.clone(), live.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |request| {
                            let (host, live) = (host.clone(), live.clone());
                            async move { Ok::<_, Infallible>(route(&host, &live, request).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(socket), service)
                            .await;
                    });
                }
            });
        })?;
    Ok(())
}

async fn route(host: &Arc<Host>, live: &Live, request: Request<Incoming>) -> Reply {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => Response::builder()
            .status(302)
            .header("location", "/ui")
            .body(Full::new(Bytes::new()))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        (&Method::GET, "/ui/data") => json(200, ui::data(host, live)),
        (&Method::GET, path) if path == "/ui" || path.starts_with("/ui/") => {
            match ui::asset(path) {
                Some(asset) => reply(200, asset.content_type, asset.body),
                None => reply(404, "text/plain", "not found\n"),
            }
        }
        (&Method::GET, "/ready") => {
            if host.is_ready() {
                reply(200, "text/plain", "LIVE\n")
            } else {
                reply(503, "text/plain", "PRE_INITIALIZING\n")
            }
        }
        (&Method::GET, "/listeners") => listeners(host),
        (&Method::GET, "/metrics") | (&Method::GET, "/stats/prometheus") => {
            reply(200, "text/plain; version=0.0.4", metrics(host))
        }
        (&Method::GET, "/config") => config(host),
        (&Method::GET, "/endpoints") => {
            let view = endpoints::collect(host);
            if request.uri().query() == Some("format=text") {
                reply(200, "text/plain", crate::stat::discovery::render(&view))
            } else {
                match serde_json::to_value(&view) {
                    Ok(value) => json(200, value),
                    Err(e) => json(500, serde_json::json!({"error": e.to_string()})),
                }
            }
        }
        (&Method::GET, "/abi") => {
            if request.uri().query() == Some("format=text") {
                reply(200, "text/plain", crate::abi_report::text())
            } else {
                json(200, crate::abi_report::json())
            }
        }
        (&Method::POST, "/reload") => {
            let host = host.clone();
            let result = tokio::task::spawn_blocking(move || host.reload()).await;
            match result {
                Ok(Ok(id)) => json(200, serde_json::json!({"generation": id})),
                Ok(Err(e)) => json(400, serde_json::json!({"error": format!("{e:#}")})),
                Err(e) => json(500, serde_json::json!({"error": e.to_string()})),
            }
        }
        (_, "/reload") => reply(405, "text/plain", "use POST /reload\n"),
        (&Method::POST, "/rollout") => {
            let (status, body) = rollouts::act(host, request.uri().query().unwrap_or_default());
            json(status, body)
        }
        (_, "/rollout") => reply(
            405,
            "text/plain",
            "use POST /rollout?plugin=NAME&action=rollback|promote|resume\n",
        ),
        _ => reply(
            404,
            "text/plain",
            "not found; try /ui /ready /listeners /metrics /config /reload /rollout /endpoints /abi\n",
        ),
    }
}

fn listeners(host: &Host) -> Reply {
    let statuses: Vec<_> = host
        .bound()
        .into_iter()
        .map(|(name, addr)| {
            serde_json::json!({
                "name": name,
                "local_address": {"socket_address": {"address": addr.ip().to_string(), "port_value": addr.port()}}
            })
        })
        .collect();
    json(200, serde_json::json!({ "listener_statuses": statuses }))
}

fn config(host: &Host) -> Reply {
    let generation = host.current();
    json(
        200,
        serde_json::json!({
            "generation": generation.id,
            "source": format!("{:?}", host.source),
            "config": &*generation.config,
            "singletons": generation.config.singletons(),
            "rollouts": rollouts::statuses(&generation),
            "last_reload_error": host.last_error(),
            "worker_error": host.worker_error(),
        }),
    )
}

/// `value` escaped for a Prometheus label value.
fn label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

fn metrics(host: &Host) -> String {
    let c = &host.counters;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    };
    counter(
        "wasmesh_requests_total",
        "Downstream requests handled.",
        c.requests.total(),
    );
    counter(
        "wasmesh_vm_failures_total",
        "Wasm VMs that trapped or hit a limit.",
        c.vms.total.load(Ordering::Relaxed),
    );
    counter(
        "wasmesh_vm_rebuilds_total",
        "Wasm VMs rebuilt after a failure.",
        c.vms.rebuilt.load(Ordering::Relaxed),
    );
    counter(
        "wasmesh_module_cache_rejected_total",
        "Cached compiled modules not loaded (not ours, writable by others, or a MAC that does not match) and compiled again.",
        host.runtime.cache_rejected(),
    );
    counter(
        "wasmesh_reloads_ok_total",
        "Configuration reloads that took effect.",
        c.reloads_ok.load(Ordering::Relaxed),
    );
    counter(
        "wasmesh_reloads_failed_total",
        "Configuration reloads rejected.",
        c.reloads_failed.load(Ordering::Relaxed),
    );
    let by_kind = c.vms.by_kind();
    if !by_kind.is_empty() {
        let name = "wasmesh_vm_failures_by_kind_total";
        let _ = writeln!(
            out,
            "# HELP {name} Wasm VM failures by plugin and kind (trap, timeout, memory_limit, stack_overflow, memory_out_of_bounds, invalid_return).\n# TYPE {name} counter"
        );
        for (plugin, kind, n) in by_kind {
            let plugin = label_value(&plugin);
            let _ = writeln!(out, "{name}{{plugin=\"{plugin}\",kind=\"{kind}\"}} {n}");
        }
    }
    c.vms.request_cpu_exceeded.render(&mut out);
    c.vms.rebuilt_by_plugin.render(&mut out);
    let name = "wasmesh_guest_state_refused_total";
    let _ = writeln!(
        out,
        "# HELP {name} Guest writes refused for a total cap on host state, by kind.\n# TYPE {name} counter"
    );
    for refusals in host.shared.refusals() {
        let _ = writeln!(
            out,
            "{name}{{kind=\"{}\"}} {}",
            refusals.kind(),
            refusals.count()
        );
    }
    let _ = writeln!(
        out,
        "# HELP wasmesh_config_generation Configuration generation serving now.\n# TYPE wasmesh_config_generation gauge\nwasmesh_config_generation {}",
        host.current_id()
    );
    host.overload.render(&mut out);
    rollouts::render(&host.current(), &mut out);
    host.shared.costs.render(&mut out);
    host.shared.metrics.render_prometheus(&mut out);
    out
}
