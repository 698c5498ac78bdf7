//! Metrics: define (counter, gauge, histogram), increment, record, get.
//! They land in the host-wide registry that `/metrics` exposes.

use std::sync::Arc;

use wasmtime::Linker;

use super::memory::{read_string, write_u32, write_u64};
use super::{finish, Caller, Status};
use crate::state::metrics::{Metric, MetricError, MetricKind};
use crate::store::HostState;

fn status(error: MetricError) -> Status {
    match error {
        MetricError::NotFound => Status::NotFound,
        MetricError::BadArgument => Status::BadArgument,
        // No status says "full"; BadArgument, as for an over-size shared-data value.
        MetricError::Refused => Status::BadArgument,
    }
}

/// `f` on the metric behind `id`: from the VM's own table once it has used it, so the request
/// path takes no lock and touches no shared reference count (an `Arc` clone per call would
/// bounce one cache line between every worker recording the metric); the first use looks it up
/// in the host-wide registry.
fn with_metric<T>(
    caller: &mut Caller<'_>,
    id: u32,
    f: impl FnOnce(&Metric) -> Result<T, Status>,
) -> Result<T, Status> {
    let state = caller.data_mut();
    if let Some(metric) = state.metrics_used.get(&id) {
        return f(metric);
    }
    let metric: Arc<Metric> = state.shared.metrics.get(id).map_err(status)?;
    let result = f(&metric);
    state.metrics_used.insert(id, metric);
    result
}

/// Registers this family's hostcalls with the linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut caller: Caller<'_>, kind: i32, ptr: u32, size: u32, ret_id: u32| {
            finish((|| {
                let kind = MetricKind::from_abi(kind).ok_or(Status::BadArgument)?;
                let name = read_string(&mut caller, ptr, size)?;
                if name.is_empty() {
                    return Err(Status::BadArgument.into());
                }
                let state = caller.data();
                let metrics = &state.shared.metrics;
                let name = state.plugin.metric_name(&name);
                let id = metrics
                    .define_for_guest(&state.plugin.vm_id, &name, kind)
                    .map_err(status)?;
                write_u32(&mut caller, ret_id, id)
            })())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut caller: Caller<'_>, id: u32, delta: i64| {
            finish(
                with_metric(&mut caller, id, |m| m.increment(delta).map_err(status))
                    .map_err(Into::into),
            )
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut caller: Caller<'_>, id: u32, value: u64| {
            finish(
                with_metric(&mut caller, id, |m| {
                    m.record(value);
                    Ok(())
                })
                .map_err(Into::into),
            )
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_metric",
        |mut caller: Caller<'_>, id: u32, ret: u32| {
            finish((|| {
                let value = with_metric(&mut caller, id, |m| m.get().map_err(status))?;
                write_u64(&mut caller, ret, value)
            })())
        },
    )?;
    Ok(())
}
