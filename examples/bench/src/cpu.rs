//! CPU time a process or a thread spent, from `/proc`: what one request costs the machine, as
//! opposed to how long it waited. At a paced load a hop's latency says little about its work,
//! and its CPU time per request can be several times the back-to-back figure (every process on
//! the path wakes up cold for each request): this is the figure that shows it.
//!
//! utime + stime (fields 14 and 15 of `stat`), in clock ticks (`sysconf(_SC_CLK_TCK)`, read from
//! the auxiliary vector as glibc does, so no FFI): 10 ms on Linux, coarse, so a figure is only
//! meaningful over a run of hundreds of ticks ([`Spent::ticks`] lets the report say how many).

use std::fs;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Whose CPU time: a whole process (every thread, dead ones included), or one thread of the
/// bench's own process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `/proc/<pid>/stat`: a proxy.
    Process(u32),
    /// `/proc/self/task/<tid>/stat`: the relay's or the backend's thread.
    Thread(u32),
}

impl Source {
    /// utime + stime so far, in clock ticks; `None` if `/proc` cannot tell (e.g. it exited).
    pub fn ticks(self) -> Option<u64> {
        let path = match self {
            Source::Process(pid) => format!("/proc/{pid}/stat"),
            Source::Thread(tid) => format!("/proc/self/task/{tid}/stat"),
        };
        busy_ticks(&fs::read_to_string(path).ok()?)
    }
}

/// CPU time spent between two readings of a [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    /// Clock ticks (user + system).
    pub ticks: u64,
}

impl Spent {
    /// From readings before and after; `None` if either is missing.
    pub fn between(before: Option<u64>, after: Option<u64>) -> Option<Spent> {
        Some(Spent {
            ticks: after?.checked_sub(before?)?,
        })
    }

    /// Microseconds of CPU per request, for `requests` served in the interval.
    pub fn micros_per_request(self, requests: u64) -> Option<f64> {
        per_request(self.ticks, requests, ticks_per_sec())
    }
}

/// The calling thread's id (`gettid`), from `/proc/thread-self` (a link to `<pid>/task/<tid>`).
pub fn this_thread_id() -> Option<u32> {
    let link = fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// The id of the bench's thread named `name` (`comm`, at most 15 bytes): how the in-process
/// backend's thread (`backend-<name>`, named by `wasmesh-backend`) is found from outside it.
pub fn thread_named(name: &str) -> Option<u32> {
    threads_named(name).into_iter().next()
}

/// The ids of every thread of the bench's named `name`, in `/proc`'s order: a multi-threaded
/// backend's (its runtime names every worker alike).
pub fn threads_named(name: &str) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            fs::read_to_string(task.path().join("comm")).is_ok_and(|comm| comm.trim_end() == name)
        })
        .filter_map(|task| task.file_name().to_str()?.parse().ok())
        .collect()
}

/// utime + stime of all of `threads` of the bench, in clock ticks; `None` if one cannot be read.
pub fn ticks_of_threads(threads: &[u32]) -> Option<u64> {
    threads.iter().map(|&tid| Source::Thread(tid).ticks()).sum()
}

/// [`thread_named`], waiting up to a second: a thread names itself once it runs, which may be
/// after the call that spawned it returned.
pub fn await_thread_named(name: &str) -> Option<u32> {
    let start = Instant::now();
    loop {
        let found = thread_named(name);
        if found.is_some() || start.elapsed() > Duration::from_secs(1) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Clock ticks per second (`_SC_CLK_TCK`), the unit of `stat`'s times.
pub fn ticks_per_sec() -> u64 {
    static HZ: OnceLock<u64> = OnceLock::new();
    // USER_HZ is 100 on every architecture the bench runs on; the auxiliary vector says so.
    *HZ.get_or_init(|| {
        fs::read("/proc/self/auxv")
            .ok()
            .and_then(|a| clock_ticks(&a))
            .unwrap_or(100)
    })
}

/// `ticks` at `hz` spread over `requests`, in µs.
fn per_request(ticks: u64, requests: u64, hz: u64) -> Option<f64> {
    (requests > 0 && hz > 0).then(|| ticks as f64 * 1e6 / hz as f64 / requests as f64)
}

/// `AT_CLKTCK` (17) from an auxiliary vector of native-endian 64-bit (type, value) pairs.
fn clock_ticks(auxv: &[u8]) -> Option<u64> {
    const AT_CLKTCK: u64 = 17;
    let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().expect("8 bytes"));
    auxv.chunks_exact(16)
        .find(|pair| word(&pair[..8]) == AT_CLKTCK)
        .map(|pair| word(&pair[8..]))
}

/// utime + stime from the text of a `stat` file. `comm` (field 2) is in parentheses and may hold
/// spaces or parentheses itself, so fields are counted after the last `)`: field 3 comes first.
fn busy_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_plus_stime_after_the_command_name() {
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 1 0 0 0 700 35 0 0 20 0 3 0";
        assert_eq!(busy_ticks(stat), Some(735));
        assert_eq!(busy_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn finds_clock_ticks_in_the_auxiliary_vector() {
        let auxv: Vec<u8> = [6u64, 4096, 17, 100, 0, 0]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        assert_eq!(clock_ticks(&auxv), Some(100));
        assert_eq!(clock_ticks(&auxv[..16]), None);
    }

    #[test]
    fn per_request_from_ticks() {
        // 30 ticks of 10 ms = 300 ms over 3 000 requests: 100 µs each.
        assert_eq!(per_request(30, 3_000, 100), Some(100.0));
        assert_eq!(per_request(30, 0, 100), None);
        let spent = Spent::between(Some(1_000), Some(1_030));
        assert_eq!(spent, Some(Spent { ticks: 30 }));
        assert_eq!(Spent::between(Some(5), Some(4)), None);
        assert_eq!(Spent::between(None, Some(4)), None);
    }

    #[test]
    fn this_thread_reads_its_own_busy_time() {
        let me = Source::Thread(this_thread_id().unwrap());
        let before = me.ticks().unwrap();
        // Busy until the thread's own counter moves (a tick is 10 ms; bounded for a loaded box).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while me.ticks().unwrap() == before && start.elapsed().as_secs() < 10 {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        assert!(
            me.ticks().unwrap() > before,
            "10 s busy and no tick counted"
        );
        let named = std::thread::Builder::new()
            .name("cpu-test-named".into())
            .spawn(|| std::thread::sleep(Duration::from_millis(200)))
            .unwrap();
        assert!(await_thread_named("cpu-test-named").is_some());
        named.join().unwrap();
        assert_eq!(thread_named("no-such-thread"), None);
        let process = Source::Process(std::process::id()).ticks().unwrap();
        assert!(
            process >= me.ticks().unwrap(),
            "the process counts its threads"
        );
    }
}
