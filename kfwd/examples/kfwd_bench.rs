//! Kernel fast path against a minimal userspace relay, side by side in the network-namespace
//! lab (peer A → relay → peer B over veth pairs). Not a test: run it by hand, as root,
//! on a quiet machine:
//!
//! ```sh
//! cargo run --release -p tandem-kfwd --example kfwd_bench -- cpu 1000 50 5 3
//! cargo run --release -p tandem-kfwd --example kfwd_bench -- rate 1000 2
//! ```
//!
//! `cpu STREAMS PPS_PER_STREAM SECONDS ROUNDS`: whole-machine CPU per forwarded packet (user +
//! nice + system + irq + softirq from `/proc/stat`, so kernel work is not hidden; the
//! generator's and the receiver's work is in both figures alike), less the machine's busy
//! time over an idle period of the same length just before (what else runs on a shared
//! machine), the two contenders alternated each round; medians and their ratio.
//!
//! Also printed: each contender's own CPU per packet, which a shared machine's other load
//! does not blur: the userspace relay thread's CPU time, and the program's run time as the
//! kernel accounts it (BPF_ENABLE_STATS held for the run; it excludes the transmit after the
//! redirect, which the relay thread's figure includes as part of its `sendmmsg`).
//!
//! `rate STREAMS SECONDS`: raises the offered rate until packets are lost, for each
//! contender, and says whether the generator (offered rate not reached) or the relay (loss)
//! stopped it. The generator is pinned to CPU 0 and the userspace relay to CPU 1; the
//! kernel path runs where the veth delivers, in the generator's softirq (CPU 0).
//!
//! The userspace relay reads each stream's port with `recvmmsg` and sends from the stream's
//! output port with `sendmmsg`, rewriting SSRC, sequence and timestamp as the engine's
//! pass-through does; epoll (mio) waits for readable ports.

// Built without the program, the forwarder has nothing to drop; the drops that detach it
// are still the point where they stand.
#![allow(clippy::drop_non_drop)]

#[path = "../tests/support/netns.rs"]
mod netns;

use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use netns::{A, B, Lab, RELAY_A, RELAY_B};
use tandem_kfwd::{KernelForwarder, Output, SourceCheck, StreamRule, Transcode};

const BATCH: usize = 64;
/// Most packets the generator sends at once after falling behind.
const MAX_BURST: u64 = 256;
const PKT_LEN: usize = 172;
const IN_PORT: u16 = 20_000;
const OUT_PORT: u16 = 40_000;

fn busy_jiffies() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let f: Vec<u64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    // user nice system idle iowait irq softirq steal
    f[0] + f[1] + f[2] + f[5] + f[6]
}

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within it;
    // sched_setaffinity(0, ...) applies to this thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Batched datagram I/O buffers for `recvmmsg`/`sendmmsg`.
struct Mmsg {
    bufs: Vec<[u8; 256]>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    addrs: Vec<libc::sockaddr_in>,
}

impl Mmsg {
    fn new() -> Box<Mmsg> {
        let mut m = Box::new(Mmsg {
            bufs: vec![[0u8; 256]; BATCH],
            iov: Vec::with_capacity(BATCH),
            // SAFETY: mmsghdr and sockaddr_in are plain C structs for which zero is valid.
            hdrs: vec![unsafe { std::mem::zeroed() }; BATCH],
            addrs: vec![unsafe { std::mem::zeroed() }; BATCH],
        });
        for i in 0..BATCH {
            let base = m.bufs[i].as_mut_ptr().cast();
            m.iov.push(libc::iovec {
                iov_base: base,
                iov_len: 256,
            });
        }
        for i in 0..BATCH {
            let iov: *mut libc::iovec = &mut m.iov[i];
            let name: *mut libc::sockaddr_in = &mut m.addrs[i];
            m.hdrs[i].msg_hdr.msg_iov = iov;
            m.hdrs[i].msg_hdr.msg_iovlen = 1;
            m.hdrs[i].msg_hdr.msg_name = name.cast();
            m.hdrs[i].msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as u32;
        }
        m
    }

    fn recv(&mut self, fd: i32) -> usize {
        for i in 0..BATCH {
            self.iov[i].iov_len = 256;
            self.hdrs[i].msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as u32;
        }
        // SAFETY: every header points at live buffers of this struct, which outlives the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        n.max(0) as usize
    }

    /// Sends the first `n` prepared messages; returns how many went.
    fn send(&mut self, fd: i32, n: usize) -> usize {
        let mut sent = 0;
        while sent < n {
            // SAFETY: every header points at live buffers of this struct.
            let r =
                unsafe { libc::sendmmsg(fd, self.hdrs[sent..].as_mut_ptr(), (n - sent) as u32, 0) };
            if r <= 0 {
                break;
            }
            sent += r as usize;
        }
        sent
    }
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.ip().octets()),
        },
        sin_zero: [0; 8],
    }
}

/// The userspace contender: one thread, a port in and a port out per stream.
fn userspace_relay(
    ins: Vec<UdpSocket>,
    outs: Vec<UdpSocket>,
    stop: Arc<AtomicBool>,
) -> (u64, Duration) {
    pin(1);
    let mut poll = mio::Poll::new().unwrap();
    for (i, s) in ins.iter().enumerate() {
        s.set_nonblocking(true).unwrap();
        poll.registry()
            .register(
                &mut mio::unix::SourceFd(&s.as_raw_fd()),
                mio::Token(i),
                mio::Interest::READABLE,
            )
            .unwrap();
    }
    let mut events = mio::Events::with_capacity(1024);
    let mut m = Mmsg::new();
    let mut relayed = 0u64;
    while !stop.load(Ordering::Relaxed) {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        for ev in &events {
            let i = ev.token().0;
            loop {
                let n = m.recv(ins[i].as_raw_fd());
                if n == 0 {
                    break;
                }
                for k in 0..n {
                    let b = &mut m.bufs[k];
                    let seq = u16::from_be_bytes([b[2], b[3]]).wrapping_add(7);
                    let ts = u32::from_be_bytes([b[4], b[5], b[6], b[7]]).wrapping_add(9);
                    b[2..4].copy_from_slice(&seq.to_be_bytes());
                    b[4..8].copy_from_slice(&ts.to_be_bytes());
                    b[8..12].copy_from_slice(&(i as u32).to_be_bytes());
                    m.iov[k].iov_len = m.hdrs[k].msg_len as usize;
                    m.addrs[k] = sockaddr(SocketAddrV4::new(B, 6000));
                }
                relayed += m.send(outs[i].as_raw_fd(), n) as u64;
            }
        }
    }
    (relayed, thread_cpu())
}

/// CPU time of the calling thread (user + system, including softirq work done in it).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill; the clock exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Paces `streams` streams at `rate` packets/s in total for `secs`, from one socket in A.
/// Returns packets sent.
fn generate(sock: &UdpSocket, streams: usize, rate: f64, secs: f64, skipped: &mut u64) -> u64 {
    pin(0);
    let mut m = Mmsg::new();
    let start = Instant::now();
    let mut sent = 0u64;
    let mut next_stream = 0usize;
    let mut seqs = vec![0u16; streams];
    while start.elapsed().as_secs_f64() < secs {
        // Packets due so far, less those already skipped.
        let mut due = ((start.elapsed().as_secs_f64() * rate) as u64).saturating_sub(*skipped);
        // Descheduled for a while (a busy machine): skip what is overdue beyond one burst
        // rather than flood the interfaces' backlogs; the shortfall shows as a lower offered
        // rate, which is the generator's limit, not the relay's.
        if due > sent + MAX_BURST {
            *skipped += due - sent - MAX_BURST;
            due = sent + MAX_BURST;
        }
        while sent < due {
            let n = ((due - sent) as usize).min(BATCH);
            for k in 0..n {
                let s = next_stream;
                next_stream = (next_stream + 1) % streams;
                let b = &mut m.bufs[k];
                b[0] = 0x80;
                b[1] = 0;
                b[2..4].copy_from_slice(&seqs[s].to_be_bytes());
                b[4..8].copy_from_slice(&(u32::from(seqs[s]) * 160).to_be_bytes());
                b[8..12].copy_from_slice(&0x5eed_u32.to_be_bytes());
                seqs[s] = seqs[s].wrapping_add(1);
                m.iov[k].iov_len = PKT_LEN;
                m.addrs[k] = sockaddr(SocketAddrV4::new(RELAY_A, IN_PORT + s as u16));
            }
            let done = m.send(sock.as_raw_fd(), n);
            sent += done as u64;
            if done < n {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    sent
}

fn sink(sock: UdpSocket, stop: Arc<AtomicBool>, got: Arc<AtomicU64>) {
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut m = Mmsg::new();
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 20) };
        loop {
            let n = m.recv(sock.as_raw_fd());
            if n == 0 {
                break;
            }
            got.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

struct Setup {
    lab: Lab,
    streams: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Contender {
    Kernel,
    Userspace,
}

struct RunResult {
    sent: u64,
    skipped: u64,
    idle_busy_s: f64,
    /// The contender's own CPU per forwarded packet: the userspace relay thread's CPU time,
    /// or the program's run time (kernel accounting), in microseconds.
    own_us: f64,
    received: u64,
    busy_s: f64,
    secs: f64,
}

impl Setup {
    fn new(streams: usize) -> Setup {
        let lab = Lab::new().unwrap();
        for ns in [&lab.a, &lab.relay, &lab.b] {
            ns.exec(&[
                "sysctl",
                "-q",
                "-w",
                "net.core.rmem_max=33554432",
                "net.core.rmem_default=8388608",
            ])
            .ok();
        }
        Setup { lab, streams }
    }

    fn run(&self, who: Contender, rate: f64, secs: f64) -> RunResult {
        let ins: Vec<UdpSocket> = (0..self.streams)
            .map(|i| {
                self.lab
                    .relay
                    .udp(SocketAddrV4::new(RELAY_A, IN_PORT + i as u16))
            })
            .collect();
        let outs: Vec<UdpSocket> = (0..self.streams)
            .map(|i| {
                self.lab
                    .relay
                    .udp(SocketAddrV4::new(RELAY_B, OUT_PORT + i as u16))
            })
            .collect();
        let gen_sock = self.lab.a.udp(SocketAddrV4::new(A, 5004));
        let sink_sock = self.lab.b.udp(SocketAddrV4::new(B, 6000));
        let stop = Arc::new(AtomicBool::new(false));
        let got = Arc::new(AtomicU64::new(0));
        let sink_thread = {
            let (stop, got) = (stop.clone(), got.clone());
            std::thread::spawn(move || sink(sink_sock, stop, got))
        };
        let mut fwd = None;
        let mut relay_thread = None;
        match who {
            Contender::Kernel => {
                let f = self
                    .lab
                    .relay
                    .enter(|| KernelForwarder::open(&["ra", "rb"]))
                    .unwrap();
                for i in 0..self.streams {
                    let mut r = StreamRule::new(
                        SocketAddrV4::new(RELAY_A, IN_PORT + i as u16),
                        SourceCheck::Strict(SocketAddrV4::new(A, 5004)),
                        0,
                        Output {
                            from: SocketAddrV4::new(RELAY_B, OUT_PORT + i as u16),
                            to: SocketAddrV4::new(B, 6000),
                            ssrc: i as u32,
                            payload_type: 0,
                            seq_offset: 7,
                            ts_offset: 9,
                            transcode: Transcode::None,
                        },
                    );
                    // The generator's streams start at 0 and step one packet a time.
                    r.discontinuity.max_ts_jump = u32::MAX;
                    f.add_stream(&r).unwrap();
                }
                fwd = Some(f);
            }
            Contender::Userspace => {
                let stop = stop.clone();
                relay_thread = Some(std::thread::spawn(move || userspace_relay(ins, outs, stop)));
            }
        }
        // The machine's load from everything else, over as long as the run: subtracted.
        let idle0 = busy_jiffies();
        std::thread::sleep(Duration::from_secs_f64(secs + 0.2));
        let idle_busy = busy_jiffies() - idle0;
        let busy0 = busy_jiffies();
        let t0 = Instant::now();
        let stats_guard = (who == Contender::Kernel)
            .then(|| aya::sys::enable_stats(aya::sys::Stats::RunTime).unwrap());
        let prog0 = fwd
            .as_ref()
            .map(|f: &KernelForwarder| f.program_stats().unwrap());
        let mut skipped = 0;
        let sent = generate(&gen_sock, self.streams, rate, secs, &mut skipped);
        std::thread::sleep(Duration::from_millis(200));
        let busy = busy_jiffies() - busy0;
        let elapsed = t0.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        sink_thread.join().unwrap();
        let received = got.load(Ordering::Relaxed).max(1) as f64;
        let mut own_us = 0.0;
        if let Some(t) = relay_thread {
            let (_, cpu) = t.join().unwrap();
            own_us = cpu.as_secs_f64() * 1e6 / received;
        }
        if let (Some(f), Some(p0)) = (&fwd, prog0) {
            let p1 = f.program_stats().unwrap();
            own_us = (p1.run_time - p0.run_time).as_secs_f64() * 1e6 / received;
        }
        drop(stats_guard);
        drop(fwd);
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        RunResult {
            sent,
            skipped,
            idle_busy_s: idle_busy as f64 / hz,
            own_us,
            received: got.load(Ordering::Relaxed),
            busy_s: busy as f64 / hz,
            secs: elapsed,
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    if let Some(why) = netns::skip_reason() {
        eprintln!("cannot run: {why}");
        std::process::exit(2);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: f64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match args.first().map(String::as_str) {
        Some("cpu") => {
            let (streams, pps, secs, rounds) = (
                num(1, 1000.0) as usize,
                num(2, 50.0),
                num(3, 5.0),
                num(4, 3.0) as usize,
            );
            let setup = Setup::new(streams);
            let rate = streams as f64 * pps;
            println!(
                "{streams} streams x {pps} pps = {rate} pps offered, {secs} s per run, {rounds} rounds"
            );
            let (mut k, mut u, mut ko, mut uo) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for round in 0..rounds {
                let order = if round % 2 == 0 {
                    [Contender::Kernel, Contender::Userspace]
                } else {
                    [Contender::Userspace, Contender::Kernel]
                };
                for who in order {
                    let r = setup.run(who, rate, secs);
                    let net = (r.busy_s - r.idle_busy_s).max(0.0);
                    let us = net * 1e6 / r.received.max(1) as f64;
                    println!(
                        "round {round} {who:?}: own CPU {:.3} us per forwarded packet",
                        r.own_us
                    );
                    println!(
                        "round {round} {who:?}: sent {} (skipped {}) received {} ({:.3}% loss), busy {:.2} s (idle baseline {:.2} s) over {:.2} s, {us:.2} us CPU per forwarded packet",
                        r.sent,
                        r.skipped,
                        r.received,
                        100.0 * (r.sent.saturating_sub(r.received)) as f64 / r.sent.max(1) as f64,
                        r.busy_s,
                        r.idle_busy_s,
                        r.secs
                    );
                    if who == Contender::Kernel {
                        k.push(us);
                        ko.push(r.own_us);
                    } else {
                        u.push(us);
                        uo.push(r.own_us);
                    }
                }
            }
            let (mk, mu) = (median(&mut k), median(&mut u));
            println!(
                "median us CPU per forwarded packet: kernel {mk:.2}, userspace {mu:.2}, ratio kernel/userspace {:.2}",
                mk / mu
            );
            let (mko, muo) = (median(&mut ko), median(&mut uo));
            println!(
                "median own CPU per forwarded packet: kernel program {mko:.3} us (run time, excludes the redirect's transmit), userspace relay thread {muo:.3} us"
            );
        }
        Some("rate") => {
            let (streams, secs) = (num(1, 1000.0) as usize, num(2, 2.0));
            let setup = Setup::new(streams);
            for who in [Contender::Kernel, Contender::Userspace] {
                let mut rate = 25_000.0;
                let mut best = 0.0;
                loop {
                    let r = setup.run(who, rate, secs);
                    let offered = r.sent as f64 / secs;
                    let lost = r.sent.saturating_sub(r.received);
                    println!(
                        "{who:?}: asked {rate:.0} pps, generated {offered:.0} pps (skipped {}), lost {lost}",
                        r.skipped
                    );
                    if offered < 0.95 * rate {
                        println!(
                            "{who:?}: highest zero-loss rate {best:.0} pps; the generator limits it (could not offer {rate:.0})"
                        );
                        break;
                    }
                    if lost > 0 {
                        println!(
                            "{who:?}: highest zero-loss rate {best:.0} pps; the relay limits it (loss at {rate:.0})"
                        );
                        break;
                    }
                    best = rate;
                    rate *= 1.5;
                }
            }
        }
        _ => {
            eprintln!(
                "usage: kfwd_bench cpu STREAMS PPS_PER_STREAM SECONDS ROUNDS | rate STREAMS SECONDS"
            );
            std::process::exit(2);
        }
    }
}
