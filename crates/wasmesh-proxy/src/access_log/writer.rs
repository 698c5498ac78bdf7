//! The thread that writes one access-log file: lines arrive on a bounded queue, collect in a
//! buffer, and are appended in one write each flush interval or once 64 KiB are waiting
//! (whole lines only, so two writers appending to one file never split each other's lines).
//! It ends, writing what is left, when every sender is gone (its configuration generation was
//! replaced and its last stream ended).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

/// Lines that may wait for the writer; beyond this, lines are dropped (memory stays bounded
/// when the disk is slower than the traffic).
const QUEUE_LINES: usize = 16_384;
/// Buffered bytes that are written without waiting for the interval.
const BUFFER_BYTES: usize = 64 * 1024;
/// How often the queue is emptied into the buffer: often enough that the queue holds a
/// burst of 16 384 lines per period (800 000 lines a second).
const DRAIN: Duration = Duration::from_millis(20);

/// A handle on a file's writer thread; clones share it.
#[derive(Clone)]
pub struct LogFile {
    sender: SyncSender<String>,
}

impl LogFile {
    /// Opens `path` for appending (creating it) and starts its writer, which writes every
    /// `flush_interval`.
    pub fn open(path: &Path, flush_interval: Duration) -> std::io::Result<LogFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let (sender, receiver) = mpsc::sync_channel(QUEUE_LINES);
        let shown = path.display().to_string();
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_loop(file, &shown, receiver, flush_interval))?;
        Ok(LogFile { sender })
    }

    /// Queues `line`; `false` when the queue is full (the line is dropped).
    pub fn send(&self, line: String) -> bool {
        self.sender.try_send(line).is_ok()
    }
}

/// Collects what arrived every [`DRAIN`] without being woken per line (a sender only pushes
/// onto the queue: no system call per request), and writes at the interval or past 64 KiB.
fn write_loop(mut file: File, path: &str, lines: Receiver<String>, interval: Duration) {
    let mut buffer = Vec::with_capacity(BUFFER_BYTES);
    let mut last_write = Instant::now();
    let mut failing = false;
    loop {
        std::thread::sleep(DRAIN.min(interval));
        let mut ended = false;
        loop {
            match lines.try_recv() {
                Ok(line) => buffer.extend_from_slice(line.as_bytes()),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    ended = true;
                    break;
                }
            }
        }
        let due = ended || buffer.len() >= BUFFER_BYTES || last_write.elapsed() >= interval;
        if !due {
            continue;
        }
        last_write = Instant::now();
        if !buffer.is_empty() {
            match file.write_all(&buffer) {
                Ok(()) => failing = false,
                // Once per failing spell, not once per write.
                Err(e) if !failing => {
                    log::warn!("access log {path}: {e}; lines are lost until it works again");
                    failing = true;
                }
                Err(_) => {}
            }
            buffer.clear();
        }
        if ended {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_reach_the_file_by_the_interval_and_all_of_them_at_the_end() {
        let dir = std::env::temp_dir().join(format!("wasmesh-access-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        let _ = std::fs::remove_file(&path);
        let log = LogFile::open(&path, Duration::from_millis(50)).unwrap();
        assert!(log.send("{\"n\":1}\n".into()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string(&path)
            .unwrap_or_default()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "the interval wrote nothing");
            std::thread::sleep(Duration::from_millis(10));
        }
        for n in 2..=100 {
            assert!(log.send(format!("{{\"n\":{n}}}\n")));
        }
        drop(log);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.lines().count() == 100 {
                assert!(text.lines().all(|l| l.starts_with("{\"n\":")));
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {} lines",
                text.lines().count()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
