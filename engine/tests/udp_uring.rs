//! End to end over loopback UDP on the io_uring driver: two phones (plain sockets in the
//! test) bridged through a running engine, channel churn under traffic, and (ignored, run
//! by hand) a CPU-per-packet comparison with the mio driver.
//!
//! Where io_uring is not available (an old kernel, `kernel.io_uring_disabled`, a seccomp
//! filter), building the engine fails with an I/O error of kind `Unsupported` or
//! `PermissionDenied`; the tests then say so and pass without running.

mod common;

use std::io;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Sender, free_ports, parse, payload, phone, receive};
use tandem_engine::{
    ChannelSpec, Codec, DriverKind, Engine, EngineBuilder, EngineError, Event, GroupKey, RtcpMode,
};

/// Builds the engine, or returns None (with a message) if this machine forbids io_uring.
/// Any other error fails the test.
fn build(builder: EngineBuilder) -> Option<Engine> {
    match builder.build() {
        Ok(e) => Some(e),
        Err(EngineError::Io(e))
            if matches!(
                e.kind(),
                io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
            ) =>
        {
            eprintln!("SKIPPED: io_uring is not available here ({e}); the test did not run");
            None
        }
        Err(e) => panic!("engine failed to start: {e}"),
    }
}

#[test]
fn io_uring_driver_relays_bit_exact_transcodes_and_passes_dtmf() {
    let (lo, hi) = free_ports(100);
    let Some(eng) = build(
        Engine::builder()
            .shards(2)
            .driver(DriverKind::IoUring)
            .port_range(lo, hi)
            .seed(7),
    ) else {
        return;
    };
    assert_eq!(eng.driver(), DriverKind::IoUring);
    common::relay_checks(&eng);
    let st = eng.thread_stats();
    let sent: u64 = st.iter().map(|s| s.datagrams_out).sum();
    let errors: u64 = st.iter().map(|s| s.send_errors).sum();
    assert!(sent >= 65, "sends are counted on completion ({sent})");
    assert_eq!(errors, 0);
    eng.shutdown();
}

/// Waits for `n` `ChannelClosed` events.
fn wait_closed(eng: &Engine, n: usize, round: u64) {
    let mut closed = 0;
    while closed < n {
        match eng.events().recv_timeout(Duration::from_secs(5)) {
            Ok(Event::ChannelClosed { .. }) => closed += 1,
            Ok(_) => {}
            Err(e) => panic!("round {round}: {e}"),
        }
    }
}

/// 200 channels created and destroyed one pair at a time while a phone keeps sending to
/// them (and to ports already closed): every close must cancel the socket's multishot
/// receive safely, and the range of 4 port pairs must be reusable every round.
#[test]
fn io_uring_driver_creates_and_destroys_200_channels_under_traffic() {
    let (lo, hi) = free_ports(8);
    let Some(eng) = build(
        Engine::builder()
            .shards(1)
            .driver(DriverKind::IoUring)
            .port_range(lo, hi),
    ) else {
        return;
    };
    let caller = phone();
    let mut s = Sender::new(3, 0, 0, 0);
    let mut relayed = 0;
    let mut buf = [0u8; 2048];
    for round in 0..100u64 {
        let a = eng
            .create_channel(GroupKey(round), ChannelSpec::default())
            .unwrap();
        let b = eng
            .create_channel(GroupKey(round), ChannelSpec::default())
            .unwrap();
        eng.bridge(a.id, b.id).unwrap();
        for n in 0..5 {
            caller.send_to(&s.audio(&payload(n)), a.local).unwrap();
            caller.send_to(&s.audio(&payload(n)), b.local).unwrap();
        }
        if round % 10 == 0 {
            // Now and then, check that media really flows through the new sockets.
            while let Ok((len, _)) = caller.recv_from(&mut buf) {
                parse(&buf[..len]);
                relayed += 1;
                if relayed % 5 == 0 {
                    break;
                }
            }
        }
        eng.destroy(a.id).unwrap();
        eng.destroy(b.id).unwrap();
        // Keep sending while (and after) the ports close.
        for n in 0..3 {
            let _ = caller.send_to(&s.audio(&payload(n)), a.local);
            let _ = caller.send_to(&s.audio(&payload(n)), b.local);
        }
        wait_closed(&eng, 2, round);
    }
    let st = eng.thread_stats();
    // Datagrams still queued in a socket when its channel closes are lost (as on the mio
    // driver), so not all 1600 arrive.
    assert!(st[0].datagrams_in > 0, "{st:?}");
    assert!(relayed > 0, "media flowed during churn");
    // The engine still works after the churn, on the same ports.
    let a = eng
        .create_channel(GroupKey(7), ChannelSpec::default())
        .unwrap();
    let b = eng
        .create_channel(GroupKey(7), ChannelSpec::default())
        .unwrap();
    eng.bridge(a.id, b.id).unwrap();
    let (pa, pb) = (phone(), phone());
    let (mut sa, mut sb) = (Sender::new(0xA, 0, 0, 0), Sender::new(0xB, 0, 0, 0));
    latch(&pa, &mut sa, a.local, &pb, &mut sb, b.local);
    for n in 0..10 {
        pa.send_to(&sa.audio(&payload(n)), a.local).unwrap();
    }
    assert_eq!(receive(&pb, 10).len(), 10);
    eng.shutdown();
}

/// Makes both channels of a bridge learn their phone's address: both phones send until
/// each has received something from the other (a channel without a remote address drops
/// what the bridge hands it, and the sockets' datagrams may be handled in any order), then
/// drains what is left.
fn latch(
    pa: &UdpSocket,
    sa: &mut Sender,
    a: std::net::SocketAddr,
    pb: &UdpSocket,
    sb: &mut Sender,
    b: std::net::SocketAddr,
) {
    let mut buf = [0u8; 2048];
    let (mut a_got, mut b_got) = (false, false);
    let until = Instant::now() + Duration::from_secs(5);
    while !(a_got && b_got) {
        assert!(Instant::now() < until, "the phones never heard each other");
        pa.send_to(&sa.audio(&payload(0)), a).unwrap();
        pb.send_to(&sb.audio(&payload(0)), b).unwrap();
        a_got |= pa.recv_from(&mut buf).is_ok();
        b_got |= pb.recv_from(&mut buf).is_ok();
    }
    for p in [pa, pb] {
        p.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        while p.recv_from(&mut buf).is_ok() {}
        p.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
    }
}

/// A port is free by the time its `ChannelClosed` event is out: the socket is closed (after
/// its receive is cancelled) before the shard thread reports the closure, so an application
/// that reacts at once can bind it again. The range holds a single port pair, and busy
/// threads compete for the CPU so the shard thread gets preempted at awkward moments.
#[test]
fn io_uring_driver_frees_ports_before_reporting_closure() {
    let (lo, hi) = free_ports(2);
    let Some(eng) = build(
        Engine::builder()
            .shards(1)
            .driver(DriverKind::IoUring)
            .port_range(lo, hi),
    ) else {
        return;
    };
    let stop = Arc::new(AtomicBool::new(false));
    let hogs: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            })
        })
        .collect();
    let mut first = None;
    for round in 0..2000u64 {
        let ch = eng
            .create_channel(GroupKey(1), ChannelSpec::default())
            .unwrap_or_else(|e| panic!("round {round}: the port is still taken: {e}"));
        assert_eq!(*first.get_or_insert(ch.local), ch.local);
        eng.destroy(ch.id).unwrap();
        // React to the event as fast as possible.
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            match eng.events().try_recv() {
                Ok(Event::ChannelClosed { channel, .. }) if channel == ch.id => break,
                _ => assert!(Instant::now() < until, "round {round}: no ChannelClosed"),
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    for h in hogs {
        h.join().unwrap();
    }
    eng.shutdown();
}

/// Shutting down with channels open and traffic in flight joins the thread cleanly, and
/// the engine can be built and dropped repeatedly (every ring, buffer ring and socket is
/// released).
#[test]
fn io_uring_driver_shuts_down_with_open_channels() {
    for i in 0..20u16 {
        let (base, _) = free_ports(4);
        let Some(eng) = build(
            Engine::builder()
                .shards(1)
                .driver(DriverKind::IoUring)
                .port_range(base, base + 3),
        ) else {
            return;
        };
        let a = eng
            .create_channel(GroupKey(1), ChannelSpec::default())
            .unwrap();
        let b = eng
            .create_channel(GroupKey(1), ChannelSpec::default())
            .unwrap();
        eng.bridge(a.id, b.id).unwrap();
        let phone = phone();
        let mut s = Sender::new(9, 0, 0, 0);
        for n in 0..20 {
            phone.send_to(&s.audio(&payload(n)), a.local).unwrap();
            phone.send_to(&s.audio(&payload(n)), b.local).unwrap();
        }
        if i % 2 == 0 {
            eng.shutdown();
        } else {
            drop(eng);
        }
    }
}

/// An idle io_uring shard sleeps in the kernel until its next tick: it must not spin.
#[test]
fn io_uring_driver_is_quiet_when_idle() {
    let (lo, hi) = free_ports(4);
    let Some(eng) = build(
        Engine::builder()
            .shards(1)
            .driver(DriverKind::IoUring)
            .port_range(lo, hi),
    ) else {
        return;
    };
    let _ch = eng
        .create_channel(GroupKey(1), ChannelSpec::default())
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let tid = shard_tid(&eng);
    let before = thread_cpu_ns(tid).expect("shard thread CPU time");
    std::thread::sleep(Duration::from_secs(1));
    let used = thread_cpu_ns(tid).unwrap() - before;
    // 50 ticks of a nearly empty shard cost well under a millisecond; a busy loop would
    // cost the whole second.
    assert!(
        used < 100_000_000,
        "idle shard used {used} ns of CPU in 1 s"
    );
    eng.shutdown();
}

/// The TID of shard 0's thread, once it has started (a new thread may take a few
/// milliseconds to be scheduled).
fn shard_tid(eng: &Engine) -> i32 {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let tid = eng.thread_stats()[0].tid;
        if tid != 0 {
            return tid;
        }
        assert!(Instant::now() < until, "the shard thread never started");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// CPU time of one thread of this process in nanoseconds: from `schedstat` when the kernel
/// has it (nanosecond resolution), else utime + stime from `stat` (clock ticks).
fn thread_cpu_ns(tid: i32) -> Option<u64> {
    tandem_udp::thread_cpu_time_precise(tid)
        .ok()
        .map(|d| d.as_nanos() as u64)
}

/// Result of one throughput run.
struct Run {
    packets_in: u64,
    packets_out: u64,
    send_errors: u64,
    cpu_ns: u64,
    wall: Duration,
}

/// How the legs' packets are spread over each packet period.
#[derive(Clone, Copy, Debug)]
enum Pacing {
    /// Every leg sends at the same instant: one burst per period.
    Burst,
    /// The legs are spread over the period in 1 ms steps, as independent phones would be.
    Spread,
}

/// Bridges `calls` calls on one shard and sends `pps` packets per second on each leg for
/// `secs` seconds (after a second of warm-up); returns the shard thread's CPU time and the
/// packets it relayed.
fn blast(
    driver: DriverKind,
    ports: (u16, u16),
    calls: usize,
    pps: u32,
    secs: u64,
    pacing: Pacing,
) -> Option<Run> {
    let eng = match driver {
        DriverKind::IoUring => build(
            Engine::builder()
                .shards(1)
                .driver(driver)
                .port_range(ports.0, ports.1),
        )?,
        _ => Engine::builder()
            .shards(1)
            .driver(driver)
            .port_range(ports.0, ports.1)
            .build()
            .unwrap(),
    };
    // One phone socket per leg; replies are never read (the kernel drops them when the
    // phone's buffer is full), so the measuring thread costs the shard nothing extra.
    let mut legs = Vec::with_capacity(calls * 2);
    for c in 0..calls {
        let spec = ChannelSpec {
            rtcp: RtcpMode::Off,
            ..ChannelSpec::with_codec(Codec::PCMU)
        };
        let a = eng
            .create_channel(GroupKey(c as u64), spec.clone())
            .unwrap();
        let b = eng.create_channel(GroupKey(c as u64), spec).unwrap();
        eng.bridge(a.id, b.id).unwrap();
        for (i, ch) in [a, b].into_iter().enumerate() {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            legs.push((s, ch.local, Sender::new((c * 2 + i) as u32, 0, 0, 0)));
        }
    }
    let tid = shard_tid(&eng);
    let body = payload(1);
    let period = Duration::from_secs(1) / pps;
    // Steps per period, and the legs that send at each step.
    let steps = match pacing {
        Pacing::Burst => 1,
        Pacing::Spread => (period.as_millis() as usize).max(1),
    };
    let per_step = legs.len().div_ceil(steps);
    let step = period / steps as u32;
    let mut next = Instant::now();
    let warmup = next + Duration::from_secs(1);
    let end = warmup + Duration::from_secs(secs);
    let mut start: Option<(Instant, u64, tandem_engine::ShardThreadStats)> = None;
    let mut k = 0;
    while Instant::now() < end {
        for (s, to, snd) in legs.iter_mut().skip(k * per_step).take(per_step) {
            let _ = s.send_to(&snd.audio(&body), *to);
        }
        k = (k + 1) % steps;
        if start.is_none() && Instant::now() >= warmup {
            let cpu = thread_cpu_ns(tid).expect("the shard thread is running");
            start = Some((Instant::now(), cpu, eng.thread_stats()[0]));
        }
        next += step;
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    // Kernel workers of io_uring (iou-wrk-*) would do work off the shard thread's books.
    let offloaded = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.starts_with("iou-"))
        .count();
    assert_eq!(
        offloaded, 0,
        "io_uring worker threads took part of the work"
    );
    let (t0, cpu0, st0) = start.expect("measured");
    let cpu1 = thread_cpu_ns(tid).expect("the shard thread is running");
    let st1 = eng.thread_stats()[0];
    let run = Run {
        packets_in: st1.datagrams_in - st0.datagrams_in,
        packets_out: st1.datagrams_out - st0.datagrams_out,
        send_errors: st1.send_errors - st0.send_errors,
        cpu_ns: cpu1 - cpu0,
        wall: t0.elapsed(),
    };
    eng.shutdown();
    Some(run)
}

/// Run by hand:
/// `cargo test --release -p tandem-engine --test udp_uring -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, run by hand"]
fn cpu_per_packet_mio_vs_io_uring() {
    let calls = 200;
    let pps = 50;
    let secs = 5;
    // Alternating runs of each driver (TANDEM_REPS of each, default 2), as the figures of
    // a shared machine wander by ±10 %.
    let reps: usize = std::env::var("TANDEM_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    for pacing in [Pacing::Burst, Pacing::Spread] {
        let mut per_packet: [Vec<f64>; 2] = [vec![], vec![]];
        for (i, driver, ports) in (0..reps).flat_map(|_| {
            [
                (0, DriverKind::Mio, free_ports(1000)),
                (1, DriverKind::IoUring, free_ports(1000)),
            ]
        }) {
            let Some(r) = blast(driver, ports, calls, pps, secs, pacing) else {
                return;
            };
            let secs_f = r.wall.as_secs_f64();
            println!(
                "{pacing:?} {driver:?}: {calls} calls x 2 legs x {pps} pps, {secs_f:.1} s: \
                 in {:.0}/s, out {:.0}/s, send errors {}, shard CPU {:.1} % \
                 = {:.2} µs per relayed packet",
                r.packets_in as f64 / secs_f,
                r.packets_out as f64 / secs_f,
                r.send_errors,
                r.cpu_ns as f64 / 1e7 / secs_f,
                r.cpu_ns as f64 / 1e3 / r.packets_out.max(1) as f64,
            );
            per_packet[i].push(r.cpu_ns as f64 / 1e3 / r.packets_out.max(1) as f64);
        }
        let [mio, uring] = per_packet.map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        });
        println!(
            "{pacing:?}: median CPU per relayed packet: mio {mio:.2} µs, io_uring {uring:.2} µs \
             ({:+.0} %)",
            (uring / mio - 1.0) * 100.0
        );
    }
}
