//! Overload on the threaded engine, on both UDP drivers: a port flooded faster than the
//! shard reads cannot hold off its ticks (the drain limits), a shard over its packet-rate
//! limit refuses new channels with a typed error and admits them again once the load has
//! gone (admission control), and the dwell histogram counts relayed datagrams.

mod common;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{Sender, free_ports, payload, phone};
use rand::SeedableRng;
use tandem_engine::{
    AdmissionLimits, ChannelInfo, ChannelSpec, DriverKind, Engine, EngineBuilder, EngineError,
    GroupKey, MediaEngine, Overload, SrtpKeys,
};
use tandem_srtp::{Keying, Suite};

/// An engine of one shard on `kind`, or `None` (reported) where io_uring is unavailable.
fn engine(kind: DriverKind, tune: impl FnOnce(EngineBuilder) -> EngineBuilder) -> Option<Engine> {
    let (lo, hi) = free_ports(64);
    match tune(Engine::builder().shards(1).driver(kind).port_range(lo, hi)).build() {
        Ok(e) => Some(e),
        Err(EngineError::Io(e)) if kind == DriverKind::IoUring => {
            eprintln!("SKIPPED io_uring: not available here ({e})");
            None
        }
        Err(e) => panic!("{kind:?}: {e}"),
    }
}

/// Channel A (which the flood hits) bridged to B (whose phone is `sink`); with `srtp`, A
/// checks every datagram's authentication tag, so a flood costs the shard more than it
/// costs the sender.
fn bridged_with(eng: &Engine, sink: &UdpSocket, srtp: bool) -> ChannelInfo {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let spec_a = ChannelSpec {
        srtp: srtp.then(|| {
            Box::new(SrtpKeys {
                inbound: Keying::generate(Suite::AesCm128HmacSha1_80, &mut rng),
                outbound: Keying::generate(Suite::AesCm128HmacSha1_80, &mut rng),
            })
        }),
        ..ChannelSpec::default()
    };
    let a = eng.create_channel(GroupKey(1), spec_a).unwrap();
    let spec = ChannelSpec {
        remote: Some(sink.local_addr().unwrap()),
        ..ChannelSpec::default()
    };
    let b = eng.create_channel(GroupKey(1), spec).unwrap();
    eng.bridge(a.id, b.id).unwrap();
    a
}

fn bridged(eng: &Engine, sink: &UdpSocket) -> ChannelInfo {
    bridged_with(eng, sink, false)
}

/// Sends RTP to `to` as fast as one thread can until `stop`; returns the datagrams sent.
fn flood(to: std::net::SocketAddr, stop: Arc<AtomicBool>) -> thread::JoinHandle<u64> {
    thread::spawn(move || {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rtp = Sender::new(0xF100D, 0, 0, 0);
        let mut sent = 0u64;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..64 {
                if s.send_to(&rtp.audio(&payload(sent as u32)), to).is_ok() {
                    sent += 1;
                }
            }
        }
        sent
    })
}

fn ticks(eng: &Engine) -> u64 {
    eng.thread_stats()[0].tick_duration.count()
}

/// While one port is flooded faster than the shard can read it (every datagram costs an
/// SRTP authentication check), the shard's tick keeps running: counted in ticks (the tick
/// histogram), not in time. Without drain limits the turn that finds the flood never ends.
#[test]
fn ticks_keep_running_while_a_port_is_flooded() {
    for kind in [DriverKind::Mio, DriverKind::IoUring] {
        let Some(eng) = engine(kind, |b| b.drain_limits(16, 32).max_queue_delay(None)) else {
            continue;
        };
        let sink = phone();
        let a = bridged_with(&eng, &sink, true);
        eng.barrier().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        // Three senders: together faster than the shard on a machine of few cores.
        let flooders: Vec<_> = (0..3).map(|_| flood(a.local, stop.clone())).collect();
        // Let the flood build up a backlog first.
        let until = Instant::now() + Duration::from_secs(20);
        while eng.thread_stats()[0].datagrams_in < 2_000 && Instant::now() < until {
            thread::sleep(Duration::from_millis(5));
        }
        let before = ticks(&eng);
        let missed_before = eng.thread_stats()[0].ticks_missed;
        let received_before = eng.thread_stats()[0].datagrams_in;
        while ticks(&eng) < before + 25 && Instant::now() < until {
            thread::sleep(Duration::from_millis(5));
        }
        let during = ticks(&eng) - before;
        let missed = eng.thread_stats()[0].ticks_missed - missed_before;
        let received = eng.thread_stats()[0].datagrams_in - received_before;
        stop.store(true, Ordering::Relaxed);
        let sent: u64 = flooders.into_iter().map(|f| f.join().unwrap()).sum();
        eprintln!("{kind:?}: {during} ticks, {missed} missed, {received} received, {sent} sent");
        assert!(during >= 25, "{kind:?}: {during} ticks during the flood");
        // A tick is missed when the shard comes to it more than a period late: turns that
        // drain the flood to the end miss twenty or more per tick run (measured without
        // limits); a busy machine, a few.
        assert!(
            missed <= 4 * during,
            "{kind:?}: {missed} ticks missed, {during} run"
        );
        assert!(
            received > 0,
            "{kind:?}: the flood was being received meanwhile"
        );
        assert!(
            sent > received_before,
            "{kind:?}: the flood went on throughout"
        );
        eng.shutdown();
    }
}

/// A shard over its packet-rate limit refuses a new channel with `Overloaded` naming the
/// limit, admits commands meanwhile, and takes new channels again once the flood stops.
#[test]
fn a_shard_over_its_packet_rate_refuses_new_channels_until_the_load_goes() {
    for kind in [DriverKind::Mio, DriverKind::IoUring] {
        let limits = AdmissionLimits::none().max_packet_rate(200.0);
        let Some(eng) = engine(kind, |b| b.admission(limits)) else {
            continue;
        };
        let sink = phone();
        let a = bridged(&eng, &sink);
        assert_eq!(eng.admission(None), Ok(()), "{kind:?}: idle");
        let stop = Arc::new(AtomicBool::new(false));
        let flooder = flood(a.local, stop.clone());
        // The load is read once a second: wait for the reading to cross the limit.
        let until = Instant::now() + Duration::from_secs(20);
        while eng.admission(Some(0)).is_ok() && Instant::now() < until {
            thread::sleep(Duration::from_millis(50));
        }
        let refused = match eng.create_channel(GroupKey(1), ChannelSpec::default()) {
            Err(EngineError::Overloaded(o)) => Some(o),
            other => panic!("{kind:?}: {other:?}"),
        };
        let load = eng.load()[0];
        assert!(MediaEngine::admission(&eng).is_err(), "{kind:?}");
        // Commands for what exists are never refused for load.
        eng.bridge(a.id, a.id).map(|_| ()).unwrap();
        eng.barrier().unwrap();
        stop.store(true, Ordering::Relaxed);
        flooder.join().unwrap();
        let Some(Overload::PacketRate { shard, rate, limit }) = refused else {
            panic!("{kind:?}: no refusal for packet rate: {refused:?}");
        };
        assert_eq!((shard, limit), (0, 200.0), "{kind:?}");
        assert!(
            rate > 200.0 && load.packet_rate > 200.0,
            "{kind:?}: {rate} {load:?}"
        );
        let e = EngineError::Overloaded(refused.unwrap()).to_string();
        assert!(e.contains("packets/s (limit 200)"), "{e}");
        // The smoothed rate halves every second once the flood has stopped.
        let until = Instant::now() + Duration::from_secs(30);
        let admitted = loop {
            match eng.create_channel(GroupKey(1), ChannelSpec::default()) {
                Ok(_) => break true,
                Err(EngineError::Overloaded(_)) if Instant::now() < until => {
                    thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("{kind:?}: {e}"),
            }
        };
        assert!(admitted);
        assert!(eng.load()[0].packet_rate <= 200.0, "{kind:?}");
        assert!(MediaEngine::admission(&eng).is_ok());
        eng.shutdown();
    }
}

/// The dwell histogram counts the datagrams the shard relayed, each in well under the
/// queueing-delay limit on an idle machine.
#[test]
fn dwell_times_are_recorded_for_relayed_datagrams() {
    for kind in [DriverKind::Mio, DriverKind::IoUring] {
        let Some(eng) = engine(kind, |b| b) else {
            continue;
        };
        let sink = phone();
        let a = bridged(&eng, &sink);
        let src = phone();
        let mut rtp = Sender::new(0xD, 0, 0, 0);
        for n in 0..50 {
            src.send_to(&rtp.audio(&payload(n)), a.local).unwrap();
            thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(common::receive(&sink, 50).len(), 50, "{kind:?}");
        // Merged into the shared histogram every 100 ms or so.
        let until = Instant::now() + Duration::from_secs(10);
        let h = loop {
            let h = eng.dwell().remove(0);
            if h.len() >= 50 || Instant::now() > until {
                break h;
            }
            thread::sleep(Duration::from_millis(50));
        };
        let st = eng.thread_stats()[0];
        assert_eq!(
            h.len(),
            50,
            "{kind:?}: in {}, stale {}",
            st.datagrams_in,
            st.stale_dropped
        );
        assert!(
            h.value_at_quantile(0.5) < 100_000,
            "{kind:?}: p50 {} µs",
            h.value_at_quantile(0.5)
        );
        assert_eq!(eng.thread_stats()[0].dwell.count(), 50, "{kind:?}");
        eng.shutdown();
    }
}
