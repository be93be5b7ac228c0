//! An rtpengine daemon for interop tests (Debian package `rtpengine-daemon`, driven with
//! `rtpengine-ng-client` from `rtpengine-utils`): started on 127.0.0.1 on free ports, stopped
//! by PID, and the helpers to read the SDP it prints. Shared by the SRTP crate's interop test
//! and the relay's.

#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const DAEMON: &str = "rtpengine";
pub const CLIENT: &str = "rtpengine-ng-client";

/// Whether `program` can be run.
pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A UDP port free right now.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `n` consecutive free UDP ports starting at an even port.
pub fn free_range(n: u16) -> u16 {
    for _ in 0..200 {
        let base = free_port() & !1;
        if base < 10_000 || base > 65_535 - n {
            continue;
        }
        let held: Vec<_> = (base..base + n)
            .map_while(|p| UdpSocket::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == usize::from(n) {
            return base;
        }
    }
    panic!("no {n} consecutive free UDP ports");
}

/// An endpoint's RTP socket on an even port and its RTCP socket on the next one.
pub fn endpoint() -> (UdpSocket, UdpSocket) {
    for _ in 0..200 {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port();
        if port % 2 == 1 || port == 65_534 {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind(("127.0.0.1", port + 1)) {
            for s in [&rtp, &rtcp] {
                s.set_read_timeout(Some(Duration::from_millis(300)))
                    .unwrap();
            }
            return (rtp, rtcp);
        }
    }
    panic!("no free even/odd port pair");
}

/// The rtpengine daemon this test started; stopped by PID when dropped.
pub struct Daemon {
    child: Child,
    /// Its ng port on 127.0.0.1.
    pub ng_port: u16,
}

impl Daemon {
    pub fn start(log: &Path) -> Daemon {
        let ng_port = free_port();
        let base = free_range(40);
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new(DAEMON)
            .args([
                "--config-file=none",
                "--table=-1",
                "--interface=127.0.0.1",
                &format!("--listen-ng=127.0.0.1:{ng_port}"),
                &format!("--port-min={base}"),
                &format!("--port-max={}", base + 39),
                "--num-threads=1",
                "--delete-delay=0",
                "--foreground",
                "--log-stderr",
                "--log-level=6",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rtpengine");
        let mut d = Daemon { child, ng_port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ng(d.ng_port, "ping", &[]).0 {
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("rtpengine exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "rtpengine did not answer ping");
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs an ng command with rtpengine's client; returns success and what it printed.
pub fn ng(port: u16, command: &str, args: &[String]) -> (bool, String) {
    let out = Command::new(CLIENT)
        .arg("--proxy-address=127.0.0.1")
        .arg(format!("--proxy-port={port}"))
        .args(args)
        .arg(command)
        .output()
        .expect("run rtpengine-ng-client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && !text.contains("error-reason"), text)
}

/// The SDP the client printed after "New SDP:".
pub fn new_sdp(out: &str) -> String {
    let after = out
        .split("New SDP:")
        .nth(1)
        .unwrap_or_else(|| panic!("no new SDP in {out}"));
    let body = after
        .split("-----8<-----8<-----8<-----8<-----8<-----")
        .nth(1)
        .unwrap_or(after);
    body.split("----->8").next().unwrap().trim().to_string()
}

/// Where the SDP asks RTP and RTCP to be sent, and its `a=crypto` values.
pub fn media(sdp: &str) -> (SocketAddr, SocketAddr, Vec<String>) {
    let line = |prefix: &str| sdp.lines().find_map(|l| l.trim().strip_prefix(prefix));
    let port: u16 = line("m=audio ")
        .and_then(|m| m.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no audio port in {sdp}"));
    let rtcp: u16 = line("a=rtcp:")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(port + 1);
    // The media-level c= line, if any, comes after the session-level one.
    let ip = sdp
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("c=IN IP4 "))
        .expect("a c= line");
    let crypto = sdp
        .lines()
        .filter_map(|l| l.trim().strip_prefix("a=crypto:"))
        .map(str::to_string)
        .collect();
    (
        format!("{ip}:{port}").parse().unwrap(),
        format!("{ip}:{rtcp}").parse().unwrap(),
        crypto,
    )
}
