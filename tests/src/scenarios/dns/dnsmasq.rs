//! A real DNS server for the tests: Debian's `dnsmasq` (package `dnsmasq-base`, installed by
//! `cargo xtask test`) on an ephemeral loopback port, authoritative for `mesh.test`, answering
//! only from a hosts file the test rewrites (`--addn-hosts`) and the `SRV` records it was
//! started with, every answer with a 1 s TTL (`--local-ttl`).
//!
//! `SIGHUP` makes dnsmasq clear its cache and re-read the `--addn-hosts` file (its manual:
//! "SIGHUP ... re-loads /etc/hosts and /etc/ethers and any file given by --dhcp-hostsfile,
//! --dhcp-hostsdir, --dhcp-optsfile, --dhcp-optsdir, --addn-hosts or --hostsdir"); the command
//! line, and so the `SRV` records, are not re-read: changing those takes a restart.

use std::cell::Cell;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{run_dir, Supervised};

/// The zone dnsmasq answers for; a name in it that the hosts file lacks is NXDOMAIN.
pub const ZONE: &str = "mesh.test";

/// `--srv-host=<name>,<target>,<port>,<priority>,<weight>`.
#[derive(Debug, Clone)]
pub struct Srv {
    /// `_service._proto.name`.
    pub name: String,
    /// The host serving it (its address comes from the hosts file).
    pub target: String,
    /// Port.
    pub port: u16,
    /// Lower is preferred.
    pub priority: u16,
    /// Share within the priority.
    pub weight: u16,
}

/// A running dnsmasq (killed on drop).
pub struct Dnsmasq {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    dir: PathBuf,
    srv: Vec<Srv>,
    process: Option<Supervised>,
    /// Bumped by each `set_hosts`; the file names `hosts-<n>.mesh.test`, so the test can see
    /// when dnsmasq has re-read it (a `SIGHUP` is handled asynchronously).
    generation: Cell<u32>,
}

impl Dnsmasq {
    /// Starts dnsmasq answering `hosts` (`(address, name)` lines) and `srv`, and waits (up to
    /// 10 s) until it answers a query. A port another process takes between the probe and
    /// dnsmasq's bind is retried with another.
    pub fn start(hosts: &[(IpAddr, &str)], srv: &[Srv]) -> Self {
        let mut dnsmasq = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir: run_dir("dnsmasq-files"),
            srv: srv.to_vec(),
            process: None,
            generation: Cell::new(0),
        };
        dnsmasq.set_hosts(hosts);
        let mut last = String::new();
        for _ in 0..10 {
            dnsmasq.addr.set_port(free_port());
            match dnsmasq.spawn() {
                Ok(()) => return dnsmasq,
                Err(logs) if logs.contains("Address already in use") => last = logs,
                Err(logs) => panic!("{logs}"),
            }
        }
        panic!("dnsmasq found no free port in 10 tries:\n{last}")
    }

    /// Rewrites the hosts file and sends `SIGHUP`, then waits (up to 10 s) until dnsmasq
    /// answers from the new file, so the next query gets the new records.
    pub fn set_hosts(&self, hosts: &[(IpAddr, &str)]) {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        let marker = format!("hosts-{generation}.{ZONE}");
        let mut text = format!("127.0.0.254 {marker}\n");
        for (ip, name) in hosts {
            let _ = writeln!(text, "{ip} {name}");
        }
        crate::scenarios::reload::replace_file(&self.hosts_file(), text.as_bytes());
        if let Some(process) = &self.process {
            let status = Command::new("kill")
                .args(["-HUP", &process.pid().to_string()])
                .status()
                .expect("running kill");
            assert!(status.success(), "kill -HUP dnsmasq: {status}");
            let deadline = Instant::now() + Duration::from_secs(10);
            while query(self.addr, &marker) != Ok(0) {
                assert!(
                    Instant::now() < deadline,
                    "dnsmasq did not re-read its hosts file within 10 s of SIGHUP:\n{}",
                    process.logs()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Kills dnsmasq: the resolver is down (queries go unanswered).
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts dnsmasq again on the same port with the current hosts file and SRV records.
    pub fn restart(&mut self) {
        if let Err(logs) = self.spawn() {
            panic!("{logs}");
        }
    }

    /// Runs dnsmasq on `self.addr` until it answers; `Err` with its logs if it exits first.
    fn spawn(&mut self) -> Result<(), String> {
        self.process = None;
        let mut command = Command::new(binary());
        command
            .arg("--keep-in-foreground")
            .arg("--conf-file=/dev/null")
            .arg("--no-resolv")
            .arg("--no-hosts")
            .arg(format!("--addn-hosts={}", self.hosts_file().display()))
            .arg("--listen-address=127.0.0.1")
            .arg("--bind-interfaces")
            .arg(format!("--port={}", self.addr.port()))
            .arg(format!("--local=/{ZONE}/"))
            .arg("--local-ttl=1")
            .arg("--pid-file=")
            .arg("--log-facility=-")
            .arg("--log-queries");
        if running_as_root() {
            // Else it drops to `nobody`, who may not read the hosts file in the run directory.
            command.arg("--user=root");
        }
        for s in &self.srv {
            command.arg(format!(
                "--srv-host={},{},{},{},{}",
                s.name, s.target, s.port, s.priority, s.weight
            ));
        }
        let mut process = Supervised::spawn("dnsmasq", run_dir("dnsmasq"), command);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = process.exited() {
                return Err(format!("dnsmasq exited ({status}):\n{}", process.logs()));
            }
            match query(self.addr, &format!("probe.{ZONE}")) {
                Ok(_) => break,
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "dnsmasq not answering after 10 s ({e}):\n{}",
                        process.logs()
                    ));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        self.process = Some(process);
        Ok(())
    }

    fn hosts_file(&self) -> PathBuf {
        self.dir.join("hosts")
    }
}

impl Drop for Dnsmasq {
    /// The hosts file's directory goes with it, unless the test is failing (then it is kept
    /// for reading, as every process's run directory is).
    fn drop(&mut self) {
        self.process = None;
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A loopback port free for both UDP and TCP (dnsmasq serves both), bound then released:
/// dnsmasq cannot report a port it picked itself.
fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("binding a probe port");
        let port = tcp.local_addr().expect("its address").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `dnsmasq` from `PATH`, else from `/usr/sbin` (where Debian installs it, and which a non-root
/// `PATH` may lack).
fn binary() -> PathBuf {
    let sbin = Path::new("/usr/sbin/dnsmasq");
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("dnsmasq").is_file()));
    if on_path || !sbin.is_file() {
        PathBuf::from("dnsmasq")
    } else {
        sbin.to_path_buf()
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// Sends one `A` query for `name` to `server`; the answer's response code, or why there was
/// none within a second.
pub fn query(server: SocketAddr, name: &str) -> Result<u8, String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    // Header: id 0x5157, flags RD, one question; then QNAME, QTYPE A, QCLASS IN.
    let mut packet = vec![0x51, 0x57, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.extend_from_slice(&[0, 0, 1, 0, 1]);
    socket.send_to(&packet, server).map_err(|e| e.to_string())?;
    let mut answer = [0u8; 512];
    let (n, _) = socket.recv_from(&mut answer).map_err(|e| e.to_string())?;
    if n < 12 || answer[..2] != packet[..2] || answer[2] & 0x80 == 0 {
        return Err(format!("not an answer to the query: {:?}", &answer[..n]));
    }
    Ok(answer[3] & 0x0f)
}
