//! The kernel fast path under the real engine: a bridged call moves to the eBPF forwarder
//! and back (a recording started mid-call) with continuous sequence numbers and timestamps
//! and bit-exact payloads; a stranger is dropped in the kernel; counters read back match
//! what was sent; μ-law in, A-law out matches `g711::ulaw_to_alaw`.
//!
//! Each test runs in a network namespace of its own (the engine on its loopback), so
//! nothing is attached to the host's interfaces. Skipped, with the reason printed, where
//! the process is not root or the kernel refuses the program.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use tandem_codecs::g711;
use tandem_codecs::rtp::RtpPacket;
use tandem_codecs::wav::Encoding;
use tandem_engine::{
    ChannelSpec, Codec, Command, DriverKind, Engine, Event, GroupKey, KernelForwarding, TapMode,
    TapSpec, TapTarget,
};

const SRC_SSRC: u32 = 0x5151_0001;

fn skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let why = if !root {
        Some("not root (network namespaces and BPF need it)".to_string())
    } else if let Err(e) = tandem_kfwd::KernelForwarder::is_available() {
        Some(e.to_string())
    } else if Process::new("ip").arg("-V").output().is_err() {
        Some("the `ip` command (iproute2) is missing".to_string())
    } else {
        None
    };
    match why {
        Some(why) => {
            eprintln!("SKIPPED {test}: {why}");
            true
        }
        None => false,
    }
}

/// A network namespace with loopback up, deleted on drop.
struct Netns(String);

impl Netns {
    fn new(test: &str) -> Netns {
        let name = format!("tandem-kf-{}-{test}", std::process::id());
        let _ = Process::new("ip").args(["netns", "del", &name]).status();
        let ok = Process::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap();
        assert!(ok.success(), "ip netns add {name}");
        let ns = Netns(name);
        let ok = Process::new("ip")
            .args(["-n", &ns.0, "link", "set", "lo", "up"])
            .status()
            .unwrap();
        assert!(ok.success());
        ns
    }

    /// Runs `f` on a thread inside the namespace (threads it starts stay there too).
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            use std::os::fd::AsRawFd;
            // SAFETY: a valid namespace file descriptor; only this thread changes namespace.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Process::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn rtp(seq: u16, ts: u32, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&SRC_SSRC.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// 160 μ-law bytes that differ per packet; any two consecutive packets hold all 256 codes.
fn payload(n: u32) -> Vec<u8> {
    (0..160u32).map(|i| ((n * 160 + i) % 256) as u8).collect()
}

fn engine() -> Engine {
    Engine::builder()
        .shards(1)
        .driver(DriverKind::Mio)
        .port_range(41_000, 41_099)
        .kernel_forwarding(KernelForwarding::On)
        .build()
        .expect("engine with kernel forwarding")
}

fn peer() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Everything `sock` receives until it has `n` packets or stays quiet for 2 s (a loaded
/// machine may hold the shard thread back for a while).
fn drain(sock: &UdpSocket, n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    let mut quiet_since = Instant::now();
    while out.len() < n && quiet_since.elapsed() < Duration::from_secs(2) {
        if let Ok(len) = sock.recv(&mut buf) {
            out.push(buf[..len].to_vec());
            quiet_since = Instant::now();
        }
    }
    out
}

/// A bridged call: A (μ-law) → engine → B (`b_codec`); only A sends.
struct Call {
    engine: Engine,
    a: UdpSocket,
    b: UdpSocket,
    a_port: SocketAddr,
    ch_a: tandem_engine::ChannelId,
    sent: u32,
}

impl Call {
    fn new(b_codec: Codec, strict: bool) -> Call {
        let engine = engine();
        let (a, b) = (peer(), peer());
        let spec = |codec, remote, strict| ChannelSpec {
            remote: Some(remote),
            strict_source: strict,
            ..ChannelSpec::with_codec(codec)
        };
        let ca = engine
            .create_channel(
                GroupKey(1),
                spec(Codec::PCMU, a.local_addr().unwrap(), strict),
            )
            .unwrap();
        let cb = engine
            .create_channel(GroupKey(1), spec(b_codec, b.local_addr().unwrap(), false))
            .unwrap();
        engine.bridge(ca.id, cb.id).unwrap();
        engine.barrier().unwrap();
        Call {
            engine,
            a,
            b,
            a_port: ca.local,
            ch_a: ca.id,
            sent: 0,
        }
    }

    /// Sends `n` more packets of the one stream, 2 ms apart.
    fn send(&mut self, n: u32) {
        for _ in 0..n {
            let i = self.sent;
            let pkt = rtp(
                1000u16.wrapping_add(i as u16),
                50_000 + i * 160,
                0,
                &payload(i),
            );
            self.a.send_to(&pkt, self.a_port).unwrap();
            self.sent += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn kernel_streams(&self) -> u64 {
        self.engine.kernel_forwarding().expect("on").streams
    }

    fn kernel_packets(&self) -> u64 {
        self.engine.kernel_forwarding().expect("on").packets
    }

    /// `Event::Stats` for a fresh query of A.
    fn query_a(&self) -> tandem_engine::ChannelStats {
        self.engine
            .command(Command::QueryStats { channel: self.ch_a })
            .unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Event::Stats { channel, stats }) = self
                .engine
                .events()
                .recv_timeout(Duration::from_millis(100))
            {
                if channel == self.ch_a {
                    return stats;
                }
            }
        }
        panic!("no stats answer");
    }
}

/// Checks that `got` is the stream A sent: one SSRC, sequence numbers and timestamps
/// continuing by 1 and 160 from the first, payloads as `expect` makes them.
fn assert_continuous(got: &[Vec<u8>], sent: u32, out_pt: u8, expect: impl Fn(u8) -> u8) {
    let seqs: Vec<(u16, u32)> = got
        .iter()
        .map(|d| {
            RtpPacket::parse(d)
                .map(|p| (p.sequence(), p.timestamp()))
                .unwrap_or((0, 0))
        })
        .collect();
    assert_eq!(got.len(), sent as usize, "every packet reached B: {seqs:?}");
    let first = RtpPacket::parse(&got[0]).unwrap();
    let (ssrc, seq0, ts0) = (first.ssrc(), first.sequence(), first.timestamp());
    for (i, data) in got.iter().enumerate() {
        let p = RtpPacket::parse(data).unwrap();
        assert_eq!(p.ssrc(), ssrc, "packet {i}: one output SSRC");
        assert_eq!(p.payload_type(), out_pt, "packet {i}");
        assert_eq!(
            p.sequence(),
            seq0.wrapping_add(i as u16),
            "packet {i}: no gap or repeat in sequence"
        );
        assert_eq!(
            p.timestamp(),
            ts0.wrapping_add(i as u32 * 160),
            "packet {i}: timestamp continues"
        );
        let want: Vec<u8> = payload(i as u32).into_iter().map(&expect).collect();
        assert_eq!(p.payload(), &want[..], "packet {i}: payload bit-exact");
    }
}

#[test]
fn a_bridged_call_moves_to_the_kernel_and_back_without_a_gap() {
    if skip("kernel_forwarding") {
        return;
    }
    let ns = Netns::new("move");
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("mid-call.wav");
    ns.run(move || {
        let mut call = Call::new(Codec::PCMU, false);
        // Userspace first: the shard offloads once the feed is established.
        call.send(20);
        wait_until("the A→B direction is in the kernel", || {
            call.kernel_streams() == 1
        });
        let before = call.kernel_packets();
        call.send(100);
        wait_until("the kernel forwarded them", || {
            call.kernel_packets() >= before + 100
        });
        let s = call.query_a();
        assert_eq!(
            s.packets_received,
            u64::from(call.sent),
            "counters read back"
        );
        // A recording needs the packets in userspace: the stream comes back.
        call.engine
            .start_tap(
                TapTarget::Channel(call.ch_a),
                TapSpec {
                    path: wav,
                    mode: TapMode::Mixed,
                    encoding: Encoding::Pcm16,
                },
            )
            .unwrap();
        call.engine.barrier().unwrap();
        assert_eq!(call.kernel_streams(), 0, "back in userspace");
        let in_kernel = call.kernel_packets();
        call.send(60);
        let got = drain(&call.b, call.sent as usize);
        assert_eq!(
            call.kernel_packets(),
            in_kernel,
            "the kernel forwarded nothing more"
        );
        assert_continuous(&got, call.sent, 0, |b| b);
        let s = call.query_a();
        assert_eq!(s.packets_received, u64::from(call.sent));
        assert_eq!(s.packets_lost, 0);
    });
}

#[test]
fn mu_law_in_leaves_the_kernel_as_a_law() {
    if skip("kernel_forwarding") {
        return;
    }
    let ns = Netns::new("law");
    ns.run(|| {
        let mut call = Call::new(Codec::PCMA, false);
        call.send(10);
        wait_until("the direction is in the kernel", || {
            call.kernel_streams() == 1
        });
        let before = call.kernel_packets();
        // Two packets already carry every one of the 256 codes; 100 stay well within the
        // receiver's socket buffer.
        call.send(100);
        let got = drain(&call.b, call.sent as usize);
        assert!(
            call.kernel_packets() >= before + 100,
            "forwarded by the kernel"
        );
        assert_continuous(&got, call.sent, 8, g711::ulaw_to_alaw);
    });
}

#[test]
fn a_strangers_packets_are_dropped_in_the_kernel() {
    if skip("kernel_forwarding") {
        return;
    }
    let ns = Netns::new("stranger");
    ns.run(|| {
        let mut call = Call::new(Codec::PCMU, true);
        call.send(10);
        wait_until("the direction is in the kernel", || {
            call.kernel_streams() == 1
        });
        let stranger = peer();
        for i in 0..50u32 {
            let pkt = rtp(i as u16, i * 160, 0, &[0x55; 160]);
            stranger.send_to(&pkt, call.a_port).unwrap();
        }
        call.send(10);
        assert_eq!(
            call.kernel_streams(),
            1,
            "still in the kernel: userspace saw nothing"
        );
        let s = call.query_a();
        assert_eq!(s.wrong_source, 50, "the kernel's drops are read back");
        assert_eq!(s.packets_received, u64::from(call.sent));
        let got = drain(&call.b, call.sent as usize + 50);
        assert_continuous(&got, call.sent, 0, |b| b);
    });
}

#[test]
fn a_stream_flowing_in_the_kernel_does_not_time_out() {
    if skip("kernel_forwarding") {
        return;
    }
    let ns = Netns::new("timeout");
    ns.run(|| {
        let engine = engine();
        let (a, b) = (peer(), peer());
        let spec = |remote| ChannelSpec {
            remote: Some(remote),
            media_timeout_ms: 1_500,
            ..ChannelSpec::default()
        };
        let ca = engine
            .create_channel(GroupKey(1), spec(a.local_addr().unwrap()))
            .unwrap();
        let cb = engine
            .create_channel(GroupKey(1), spec(b.local_addr().unwrap()))
            .unwrap();
        engine.bridge(ca.id, cb.id).unwrap();
        // 3.2 s of 20 ms packets from A; B stays silent, so B's timeout is the control.
        let start = Instant::now();
        for i in 0..160u32 {
            let pkt = rtp(i as u16, i * 160, 0, &payload(i));
            a.send_to(&pkt, ca.local).unwrap();
            let mut buf = [0u8; 2048];
            while b.recv(&mut buf).is_ok() {}
            let next = start + Duration::from_millis(20 * u64::from(i + 1));
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        let k = engine.kernel_forwarding().expect("on");
        assert_eq!(k.streams, 1, "A→B went to the kernel");
        assert!(
            k.packets > 100,
            "the kernel forwarded most of them: {}",
            k.packets
        );
        let timeouts: Vec<_> = engine
            .events()
            .try_iter()
            .filter_map(|e| match e {
                Event::MediaTimeout { channel, .. } => Some(channel),
                _ => None,
            })
            .collect();
        assert_eq!(timeouts, vec![cb.id], "only the silent leg timed out");
    });
}

#[test]
fn on_refuses_to_start_without_the_fast_path_and_auto_falls_back() {
    // Media bound to every address cannot be matched by the kernel: unavailable anywhere.
    let unspecified = std::net::IpAddr::from([0, 0, 0, 0]);
    let build = |mode| {
        Engine::builder()
            .shards(1)
            .driver(DriverKind::Mio)
            .bind(unspecified)
            .port_range(41_100, 41_199)
            .kernel_forwarding(mode)
            .build()
    };
    let err = build(KernelForwarding::On).err().expect("refused");
    assert!(
        err.to_string().contains("kernel forwarding") && err.to_string().contains("IPv4"),
        "the reason is given: {err}"
    );
    let engine = build(KernelForwarding::Auto).expect("falls back to userspace");
    assert!(engine.kernel_forwarding().is_none());
    let engine = build(KernelForwarding::Off).expect("off");
    assert!(engine.kernel_forwarding().is_none());
}
