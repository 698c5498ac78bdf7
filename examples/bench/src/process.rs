//! Child processes (proxies, wrk) that never outlive the bench.
//!
//! Every child sits in one process-wide table. A [`Guarded`] handle removes, kills and reaps its
//! child when dropped — on normal return and while a panic unwinds. Ctrl-C, `SIGTERM` and `SIGHUP`
//! bypass destructors, so a signal thread kills whatever the table still holds, then exits.

use std::collections::BTreeMap;
use std::process::{Child, ChildStdout, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard};

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};

/// Running children by pid.
static CHILDREN: Mutex<BTreeMap<u32, Child>> = Mutex::new(BTreeMap::new());

/// The table, even if a thread panicked while holding it: killing children must still work.
fn children() -> MutexGuard<'static, BTreeMap<u32, Child>> {
    CHILDREN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A child process that is killed when this handle is dropped.
pub struct Guarded {
    pid: u32,
}

impl Guarded {
    /// Spawns `command`; `Some(stdout)` if it was set up as a pipe (taken before the child is
    /// shared, so it can be read without holding the table).
    pub fn spawn(mut command: Command) -> anyhow::Result<(Self, Option<ChildStdout>)> {
        let program = command.get_program().to_string_lossy().into_owned();
        let mut table = children();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        let stdout = child.stdout.take();
        let pid = child.id();
        table.insert(pid, child);
        Ok((Self { pid }, stdout))
    }

    /// The process id, e.g. to read `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `Some(status)` once the child has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        let mut table = children();
        let child = table.get_mut(&self.pid)?;
        child.try_wait().ok().flatten()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Some(mut child) = children().remove(&self.pid) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts a thread that, on Ctrl-C, `SIGTERM` or `SIGHUP`, kills every child and exits with 130.
pub fn stop_children_on_signal() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered here, before any child exists, so no signal can slip between.
    let (mut interrupt, mut terminate, mut hangup) = runtime.block_on(async {
        anyhow::Ok((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let name = runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => "interrupt",
                    _ = terminate.recv() => "terminate",
                    _ = hangup.recv() => "hangup",
                }
            });
            let mut table = children();
            for child in table.values_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
            eprintln!(
                "\nwasmesh-bench: {name} signal: stopped {} child process(es)",
                table.len()
            );
            std::process::exit(130);
        })?;
    Ok(())
}
