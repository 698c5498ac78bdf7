//! Cores for the `tls` mode: the proxy on a core of its own, the load generator and the
//! backend on the others, so that a proxy's handshakes/s is what its one core does, and its
//! CPU use says whether it was the limit (near 100 % busy) or the client was. Done with
//! `taskset` (util-linux), which sets every thread's affinity; threads and processes made
//! later inherit it.

use std::process::{Command, Stdio};

use anyhow::{bail, Context};

/// The CPUs this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The CPU lists of the proxy's core (the last of `n`) and of the rest, when `n` is at least
/// two.
pub fn split(n: usize) -> Option<(String, String)> {
    (n >= 2).then(|| {
        let rest = if n == 2 {
            "0".to_string()
        } else {
            format!("0-{}", n - 2)
        };
        ((n - 1).to_string(), rest)
    })
}

/// Runs every thread of process `pid` on `cpus` (a `taskset` CPU list).
pub fn pin(pid: u32, cpus: &str) -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .context("running taskset (util-linux)")?;
    if !status.success() {
        bail!("taskset -a -p -c {cpus} {pid} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn the_proxy_gets_the_last_core_and_the_rest_the_others() {
        assert_eq!(split(1), None);
        assert_eq!(split(2), Some(("1".into(), "0".into())));
        assert_eq!(split(16), Some(("15".into(), "0-14".into())));
    }
}
