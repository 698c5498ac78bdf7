//! A proxy process under test: its own directory for config and logs, killed on drop, its logs
//! printed if the test fails.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::paths::target_dir;

/// How much of each log a failing test prints: the end is where the reason usually is.
const LOG_TAIL_LINES: usize = 200;

/// A number unique within this process, for directory names and Envoy's `--base-id`.
pub fn next_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fresh directory `<target>/e2e/<label>-<pid>-<n>` for one process's files. It is kept when a
/// test fails (so the config and full logs can be read) and removed otherwise.
pub fn run_dir(label: &str) -> PathBuf {
    let dir =
        target_dir()
            .join("e2e")
            .join(format!("{label}-{}-{}", std::process::id(), next_id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// A child process with stdout/stderr in files of its run directory.
pub struct Supervised {
    label: String,
    dir: PathBuf,
    child: Child,
}

impl Supervised {
    /// Spawns `command` with its output going to `<dir>/stdout.log` and `<dir>/stderr.log`.
    pub fn spawn(label: &str, dir: PathBuf, mut command: Command) -> Self {
        let log = |name: &str| {
            let path = dir.join(name);
            File::create(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()))
        };
        command
            .stdin(Stdio::null())
            .stdout(log("stdout.log"))
            .stderr(log("stderr.log"));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: cannot spawn {command:?}: {e}"));
        Self {
            label: label.to_string(),
            dir,
            child,
        }
    }

    /// The operating-system process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `Some(status)` if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Everything the process wrote so far, stdout then stderr.
    pub fn logs(&self) -> String {
        self.collect_logs(usize::MAX)
    }

    /// The last lines of each log, for panic messages.
    pub fn logs_tail(&self) -> String {
        self.collect_logs(LOG_TAIL_LINES)
    }

    fn collect_logs(&self, max_lines: usize) -> String {
        let mut out = String::new();
        for name in ["stdout.log", "stderr.log"] {
            let text = fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(max_lines);
            out.push_str(&format!("---- {} {name} ----\n", self.label));
            for line in &lines[start..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "{}\n(config and full logs kept in {})",
                self.logs_tail(),
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
