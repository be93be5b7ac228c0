//! A three-namespace lab for the kernel fast path: peer A, the relay and peer B, joined by
//! veth pairs, so nothing is ever attached to the host's own interfaces.
//!
//! ```text
//!  ns A                 ns relay                         ns B
//!  a0 198.18.1.2 <-veth-> ra 198.18.1.1   rb 198.18.2.1 <-veth-> b0 198.18.2.2
//! ```
//!
//! Addresses are from 198.18.0.0/15 (RFC 2544 benchmarking), inside namespaces this process
//! made. Namespaces are deleted on drop (also when a test panics) and leftovers of a killed
//! run are swept when the next lab starts.

#![allow(dead_code)] // each test binary uses part of it

use std::ffi::CString;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const A: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
pub const RELAY_A: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
pub const RELAY_B: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 1);
pub const B: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 2);

const PREFIX: &str = "tkfwd";

/// Why the kernel tests cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (network namespaces and BPF need it)".into());
    }
    if let Err(why) = tandem_kfwd::KernelForwarder::is_available() {
        return Some(why.to_string());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("the `ip` command (iproute2) is missing".into());
    }
    None
}

/// Prints why a test is skipped and returns true if it must be.
pub fn skip(test: &str) -> bool {
    match skip_reason() {
        Some(why) => {
            eprintln!("SKIPPED {test}: {why}");
            true
        }
        None => false,
    }
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// One network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    fn new(name: String) -> Result<Netns, String> {
        run(&["ip", "netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Runs `ip -n NAME ARGS`.
    pub fn ip(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["ip", "-n", &self.name];
        all.extend_from_slice(args);
        run(&all)
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        run(&all)
    }

    /// Runs `f` on a thread that has entered the namespace. Sockets made there stay in the
    /// namespace wherever they are used later; BPF objects are not tied to one.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = std::fs::File::open(&path).expect("namespace file");
                // SAFETY: `file` is an open network-namespace file; setns only changes this
                // thread's namespace, and the thread ends when the scope does.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .expect("thread in namespace")
        })
    }

    /// A UDP socket bound in the namespace, with a receive timeout.
    pub fn udp(&self, addr: SocketAddrV4) -> UdpSocket {
        let s = self.enter(|| UdpSocket::bind(addr).expect("bind"));
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        s
    }

    /// Turns transmit checksum offload of `iface` on or off (SIOCETHTOOL, ETHTOOL_STXCSUM).
    /// Off, the sender computes complete UDP checksums, so a receiver checks them in full.
    pub fn set_tx_checksum(&self, iface: &str, on: bool) {
        #[repr(C)]
        struct EthtoolValue {
            cmd: u32,
            data: u32,
        }
        #[repr(C)]
        struct IfReq {
            name: [u8; 16],
            data: *mut libc::c_void,
            _pad: [u8; 16],
        }
        const SIOCETHTOOL: libc::c_ulong = 0x8946;
        const ETHTOOL_STXCSUM: u32 = 0x17;
        let name = CString::new(iface).unwrap();
        self.enter(|| {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut value = EthtoolValue {
                cmd: ETHTOOL_STXCSUM,
                data: on as u32,
            };
            let mut req = IfReq {
                name: [0; 16],
                data: (&mut value as *mut EthtoolValue).cast(),
                _pad: [0; 16],
            };
            req.name[..iface.len()].copy_from_slice(name.as_bytes());
            // SAFETY: `req` is a properly laid out ifreq whose data points at a live
            // ethtool_value for the duration of the call.
            let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCETHTOOL as _, &mut req) };
            assert_eq!(
                rc,
                0,
                "ethtool {iface}: {}",
                std::io::Error::last_os_error()
            );
        });
    }

    /// A counter of the namespace's `/proc/net/snmp` (e.g. `Udp`, `InCsumErrors`).
    pub fn snmp(&self, group: &str, field: &str) -> u64 {
        let text = self.enter(|| std::fs::read_to_string("/proc/net/snmp").unwrap());
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("{group}:")))
            .collect();
        let names: Vec<&str> = lines[0].split_whitespace().collect();
        let values: Vec<&str> = lines[1].split_whitespace().collect();
        let i = names.iter().position(|n| *n == field).expect("snmp field");
        values[i].parse().unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run(&["ip", "netns", "del", &self.name]);
    }
}

/// Deletes namespaces left by test processes that no longer run.
fn sweep() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid: Option<i32> = rest.split('x').next().and_then(|p| p.parse().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = run(&["ip", "netns", "del", name]);
            }
        }
    }
}

/// Peer A, the relay and peer B.
pub struct Lab {
    pub a: Netns,
    pub relay: Netns,
    pub b: Netns,
}

impl Lab {
    pub fn new() -> Result<Lab, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        sweep();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = |role: &str| format!("{PREFIX}{}x{n}{role}", std::process::id());
        let lab = Lab {
            a: Netns::new(name("a"))?,
            relay: Netns::new(name("r"))?,
            b: Netns::new(name("b"))?,
        };
        let (a, r, b) = (&lab.a.name, &lab.relay.name, &lab.b.name);
        run(&[
            "ip", "link", "add", "a0", "netns", a, "type", "veth", "peer", "name", "ra", "netns", r,
        ])?;
        run(&[
            "ip", "link", "add", "b0", "netns", b, "type", "veth", "peer", "name", "rb", "netns", r,
        ])?;
        lab.a.ip(&["addr", "add", "198.18.1.2/24", "dev", "a0"])?;
        lab.a.ip(&["link", "set", "a0", "up"])?;
        lab.a
            .ip(&["route", "add", "default", "via", "198.18.1.1"])?;
        lab.b.ip(&["addr", "add", "198.18.2.2/24", "dev", "b0"])?;
        lab.b.ip(&["link", "set", "b0", "up"])?;
        lab.b
            .ip(&["route", "add", "default", "via", "198.18.2.1"])?;
        lab.relay
            .ip(&["addr", "add", "198.18.1.1/24", "dev", "ra"])?;
        lab.relay
            .ip(&["addr", "add", "198.18.2.1/24", "dev", "rb"])?;
        lab.relay.ip(&["link", "set", "ra", "up"])?;
        lab.relay.ip(&["link", "set", "rb", "up"])?;
        Ok(lab)
    }
}
