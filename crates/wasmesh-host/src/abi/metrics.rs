//! Metrics: define (counter, gauge, histogram), increment, record, get.
//! They land in the host-wide registry that `/metrics` exposes; a VM's updates go through its
//! own cells (`state/metrics/cells.rs`).

use wasmtime::Linker;

use super::memory::{read_string, write_u32, write_u64};
use super::{finish, Caller, Status};
use crate::state::metrics::{MetricError, MetricKind};
use crate::store::HostState;

fn status(error: MetricError) -> Status {
    match error {
        MetricError::NotFound => Status::NotFound,
        MetricError::BadArgument => Status::BadArgument,
        // No status says "full"; BadArgument, as for an over-size shared-data value.
        MetricError::Refused => Status::BadArgument,
    }
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
            let state = caller.data_mut();
            let result = state
                .metric_cells
                .increment(&state.shared.metrics, id, delta);
            finish(result.map_err(|e| status(e).into()))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut caller: Caller<'_>, id: u32, value: u64| {
            let state = caller.data_mut();
            let result = state.metric_cells.record(&state.shared.metrics, id, value);
            finish(result.map_err(|e| status(e).into()))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_metric",
        |mut caller: Caller<'_>, id: u32, ret: u32| {
            finish((|| {
                let state = caller.data_mut();
                let value = state
                    .metric_cells
                    .get(&state.shared.metrics, id)
                    .map_err(status)?;
                write_u64(&mut caller, ret, value)
            })())
        },
    )?;
    Ok(())
}
