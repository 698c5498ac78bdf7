//! Applies what plugin callbacks asked for once they return: sends
//! `proxy_http_call`s and answers them with `on_http_call_response`, hands gRPC calls and
//! streams to the slot's [`GrpcDriver`], and runs tick timers. One pump task per plugin slot on
//! its worker.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::body;
use super::grpc::GrpcDriver;
use super::headers_conv::{response_to_map, trailers_to_map, upstream_request};
use super::upstream::{PickError, SendError, Upstreams};
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::runtime::{PluginSlot, PluginVm};
use wasmesh_host::store::{CallResponse, PendingHttpCall};

/// Largest HTTP-call response body handed to a filter.
const MAX_CALL_BODY: usize = 16 << 20;

/// The clusters a slot's effects pump sends its calls to. A reload that keeps the slot (its
/// plugin did not change) points it at the new generation's clusters.
#[derive(Clone)]
pub struct PumpUpstreams(Rc<RefCell<Rc<Upstreams>>>);

impl PumpUpstreams {
    /// Calls from now on go to `upstreams`.
    pub fn retarget(&self, upstreams: Rc<Upstreams>) {
        *self.0.borrow_mut() = upstreams;
    }

    fn current(&self) -> Rc<Upstreams> {
        self.0.borrow().clone()
    }
}

/// Starts the effects pump of a slot (ends when the slot is dropped), sending its calls to
/// `upstreams` until retargeted.
pub fn start_pump(slot: &Rc<PluginSlot>, upstreams: Rc<Upstreams>) -> PumpUpstreams {
    let ready: Rc<Notify> = slot.effects_ready();
    let weak = Rc::downgrade(slot);
    let target = PumpUpstreams(Rc::new(RefCell::new(upstreams)));
    let pump_target = target.clone();
    tokio::task::spawn_local(async move {
        let mut ticker: Option<JoinHandle<()>> = None;
        let mut grpc = GrpcDriver::default();
        loop {
            ready.notified().await;
            let Some(slot) = weak.upgrade() else { break };
            let effects = slot.take_effects();
            let upstreams = pump_target.current();
            if let Some(period) = effects.tick_period {
                if let Some(old) = ticker.take() {
                    old.abort();
                }
                if !period.is_zero() {
                    ticker = Some(tokio::task::spawn_local(tick_loop(
                        weak.clone(),
                        period,
                        slot.generation(),
                    )));
                }
            }
            for call in effects.http_calls {
                tokio::task::spawn_local(http_call(
                    weak.clone(),
                    slot.generation(),
                    upstreams.clone(),
                    call,
                ));
            }
            for command in effects.grpc {
                grpc.apply(command, &weak, slot.generation(), &upstreams);
            }
        }
        if let Some(old) = ticker {
            old.abort();
        }
    });
    target
}

async fn tick_loop(slot: Weak<PluginSlot>, period: Duration, generation: u64) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        let Some(slot) = slot.upgrade() else { return };
        let ran = slot.with_vm_of(generation, PluginVm::deliver_tick);
        if ran.is_none() {
            return;
        }
    }
}

/// Sends one call and delivers its answer. A call that got no response is answered as Envoy's
/// router answers it: 504 `upstream request timeout` after its timeout, 503 with Envoy's reset
/// words otherwise. (Envoy's zero-header callback, from its async client's `onFailure`, has no
/// counterpart here.)
async fn http_call(
    slot: Weak<PluginSlot>,
    generation: u64,
    upstreams: Rc<Upstreams>,
    call: PendingHttpCall,
) {
    let response = match tokio::time::timeout(call.timeout, send(&upstreams, &call)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            log::debug!("http_call to {} failed: {e}", call.cluster);
            synthesized(503, &call_failure_body(&e))
        }
        Err(_) => {
            log::debug!(
                "http_call to {} timed out after {:?}",
                call.cluster,
                call.timeout
            );
            synthesized(504, "upstream request timeout")
        }
    };
    let Some(slot) = slot.upgrade() else { return };
    let _ = slot.with_vm_of(generation, |vm| {
        vm.deliver_call_response(call.token, call.context_id, response)
    });
}

/// The body Envoy's async client gives a call that got no response, by what went wrong.
fn call_failure_body(error: &CallError) -> String {
    use super::upstream_failure::{reset_body, send_failure};
    match error {
        CallError::Send(e) => send_failure(e).0,
        _ => reset_body("connection failure"),
    }
}

/// Why an http call got no response.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("unknown cluster")]
    UnknownCluster,
    #[error(transparent)]
    Pick(#[from] PickError),
    #[error("building the request: {0}")]
    Request(#[from] http::Error),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error("reading the response body: {0}")]
    Body(Box<dyn std::error::Error + Send + Sync>),
}

fn synthesized(status: u16, body: &str) -> CallResponse {
    let mut headers = HeaderMap::new();
    headers.add(b":status", status.to_string().as_bytes());
    headers.add(b"content-length", body.len().to_string().as_bytes());
    headers.add(b"content-type", b"text/plain");
    CallResponse {
        headers,
        body: body.as_bytes().to_vec(),
        trailers: HeaderMap::new(),
    }
}

async fn send(upstreams: &Upstreams, call: &PendingHttpCall) -> Result<CallResponse, CallError> {
    let cluster = upstreams
        .get(&call.cluster)
        .ok_or(CallError::UnknownCluster)?;
    let mut headers: HeaderMap = call.headers.clone();
    let endpoint = cluster.pick(&mut headers)?;
    let head = http::HeaderMap::with_capacity(headers.len());
    let request = upstream_request(
        &headers,
        cluster.authority(endpoint),
        body::full(call.body.clone()),
        head,
    )?;
    // Counted among the cluster's outstanding requests until the body is read, as Envoy's
    // async client (which goes through the router) is.
    let mut admission = cluster.admission.admit().map_err(SendError::from)?;
    let response = cluster.send(&mut admission, endpoint, request).await?;
    let (parts, body) = response.into_parts();
    let collected = http_body_util::Limited::new(body, MAX_CALL_BODY)
        .collect()
        .await
        .map_err(CallError::Body)?;
    let trailers = collected
        .trailers()
        .map(trailers_to_map)
        .unwrap_or_default();
    Ok(CallResponse {
        headers: response_to_map(&parts),
        body: collected.to_bytes().to_vec(),
        trailers,
    })
}
