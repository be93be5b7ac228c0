//! Overload sheds instead of queueing: the shard drops a datagram that waited in the
//! receive queue longer than its `max_queue_delay` (counted in `stale_dropped`) and relays
//! fresh ones, on the sans-I/O shard with a virtual clock; and both UDP drivers hand the
//! shard the kernel's receive time of each datagram.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use common::{Sender, addr, parse, payload, phone, receive};
use tandem_engine::sansio::{Shard, ShardConfig};
use tandem_engine::{
    ChannelId, ChannelSpec, Command, DriverKind, Engine, EngineError, GroupKey, Micros, RequestId,
};

const A_PORT: u16 = 40_000;
const B_PORT: u16 = 40_002;

/// A shard with channel A (phone at `a`) bridged to channel B (phone at `b`).
fn bridged(limit: Option<Micros>, a: SocketAddr, b: SocketAddr) -> Shard {
    let mut cfg = ShardConfig::new(0, 7);
    cfg.max_queue_delay = limit;
    let mut shard = Shard::new(cfg, Micros::ZERO);
    let (ca, cb) = (ChannelId::new(0, 1), ChannelId::new(0, 2));
    for (id, port, remote) in [(ca, A_PORT, a), (cb, B_PORT, b)] {
        let spec = ChannelSpec {
            remote: Some(remote),
            ..ChannelSpec::default()
        };
        shard.create_channel(Micros::ZERO, RequestId(id.0), id, port, spec);
    }
    shard.handle_command(Micros::ZERO, RequestId(3), Command::Bridge { a: ca, b: cb });
    while shard.poll_event().is_some() {}
    shard
}

/// What the shard sends to `to`: RTP sequence numbers, counted from the first one (the
/// relay numbers its own stream, keeping the sender's gaps).
fn sent_to(shard: &mut Shard, to: SocketAddr) -> Vec<u16> {
    let mut out = Vec::new();
    while let Some(t) = shard.poll_transmit() {
        if t.dest == to {
            out.push(parse(t.payload).seq);
        }
    }
    out.iter().map(|s| s.wrapping_sub(out[0])).collect()
}

#[test]
fn datagrams_older_than_the_limit_are_dropped_and_counted_fresh_ones_relayed() {
    let (a, b) = (addr("127.0.0.1:5000"), addr("127.0.0.1:6000"));
    let mut shard = bridged(Some(Micros::from_ms(100)), a, b);
    let mut phone = Sender::new(0x1234, 10, 0, 0);
    let now = Micros::from_secs(5);
    // Waited 0, 50, 100 ms (at the limit: kept), then 101 ms, 2 s (over: dropped), then a
    // stamp from the future (a stepped wall clock): kept.
    let waited_ms = [0, 50, 100];
    for w in waited_ms {
        let p = phone.audio(&payload(160));
        shard.handle_received(now, now - Micros::from_ms(w), A_PORT, a, &p);
    }
    let stale = [phone.audio(&payload(160)), phone.audio(&payload(160))];
    shard.handle_received(now, now - Micros::from_us(100_001), A_PORT, a, &stale[0]);
    shard.handle_received(now, now - Micros::from_secs(2), A_PORT, a, &stale[1]);
    let late_clock = phone.audio(&payload(160));
    shard.handle_received(now, now + Micros::from_ms(30), A_PORT, a, &late_clock);
    assert_eq!(sent_to(&mut shard, b), vec![0, 1, 2, 5]);
    let s = shard.stats();
    assert_eq!(s.stale_dropped, 2);
    assert_eq!(s.datagrams_in, 4, "a dropped datagram is not handled");
}

#[test]
fn a_stale_burst_cannot_take_the_stream_over_and_no_limit_relays_everything() {
    let (a, b) = (addr("127.0.0.1:5000"), addr("127.0.0.1:6000"));
    let stranger = addr("127.0.0.1:7000");
    let mut shard = bridged(Some(Micros::from_ms(100)), a, b);
    let mut phone = Sender::new(0x1234, 10, 0, 0);
    let mut evil = Sender::new(0x9999, 500, 0, 0);
    // The phone talks, then its socket is starved for 3 s behind a backlog in which a
    // stranger's burst waits too: handled now, all of it is stale.
    let mut now = Micros::from_secs(1);
    let p = phone.audio(&payload(160));
    shard.handle_received(now, now, A_PORT, a, &p);
    now += Micros::from_secs(3);
    for _ in 0..10 {
        let p = evil.audio(&payload(160));
        shard.handle_received(now, now - Micros::from_ms(2_500), A_PORT, stranger, &p);
    }
    let p = phone.audio(&payload(160));
    shard.handle_received(now, now, A_PORT, a, &p);
    assert_eq!(
        sent_to(&mut shard, b),
        vec![0, 1],
        "only the phone is relayed"
    );
    assert_eq!(shard.stats().stale_dropped, 10);

    // Without a limit the same backlog is handled however old it is.
    let mut open = bridged(None, a, b);
    let mut phone = Sender::new(0x1234, 10, 0, 0);
    for w in [0, 5_000, 60_000] {
        let p = phone.audio(&payload(160));
        open.handle_received(now, now.saturating_sub(Micros::from_ms(w)), A_PORT, a, &p);
    }
    assert_eq!(sent_to(&mut open, b), vec![0, 1, 2]);
    assert_eq!(open.stats().stale_dropped, 0);
}

/// Both UDP drivers date datagrams by the kernel's receive stamp: with a limit of zero every
/// datagram has waited (the wake-up alone takes microseconds), so all are dropped and
/// counted; with a limit of seconds the same traffic is relayed whole.
#[test]
fn both_drivers_date_datagrams_by_the_kernel_stamp() {
    for kind in [DriverKind::Mio, DriverKind::IoUring] {
        for (limit, relayed) in [(Duration::ZERO, 0), (Duration::from_secs(10), 20)] {
            let (lo, hi) = free_ports(8);
            let b = Engine::builder()
                .shards(1)
                .driver(kind)
                .port_range(lo, hi)
                .max_queue_delay(Some(limit));
            let eng = match b.build() {
                Ok(e) => e,
                Err(EngineError::Io(e)) if kind == DriverKind::IoUring => {
                    eprintln!("SKIPPED io_uring: not available here ({e})");
                    continue;
                }
                Err(e) => panic!("{kind:?}: {e}"),
            };
            let (pa, pb) = (phone(), phone());
            let spec = |p: &UdpSocket| ChannelSpec {
                remote: Some(p.local_addr().unwrap()),
                ..ChannelSpec::default()
            };
            let a = eng.create_channel(GroupKey(1), spec(&pa)).unwrap();
            let cb = eng.create_channel(GroupKey(1), spec(&pb)).unwrap();
            eng.bridge(a.id, cb.id).unwrap();
            let mut s = Sender::new(0xA, 0, 0, 0);
            for n in 0..20 {
                pa.send_to(&s.audio(&payload(n)), a.local).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
            let got = receive(&pb, 20).len();
            let until = Instant::now() + Duration::from_secs(2);
            let counted = loop {
                let st = eng.thread_stats()[0];
                if st.stale_dropped + st.datagrams_in >= 20 || Instant::now() > until {
                    break st.stale_dropped;
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            assert_eq!(got, relayed, "{kind:?} limit {limit:?}");
            assert_eq!(counted, 20 - relayed as u64, "{kind:?} limit {limit:?}");
            eng.shutdown();
        }
    }
}

/// `len` consecutive ports from an even one, free for UDP on 127.0.0.1 a moment ago, below
/// the ephemeral range, from a place that differs per process and per call.
fn free_ports(len: u16) -> (u16, u16) {
    static CALLS: AtomicU16 = AtomicU16::new(0);
    let windows = 12_000 / u32::from(len);
    let first = std::process::id() * 17 + u32::from(CALLS.fetch_add(1, Ordering::Relaxed)) * 5;
    (0..windows)
        .map(|i| 20_000 + ((first + i) % windows) * u32::from(len))
        .find(|&lo| {
            (lo..lo + u32::from(len)).all(|p| UdpSocket::bind(("127.0.0.1", p as u16)).is_ok())
        })
        .map(|lo| (lo as u16, (lo + u32::from(len) - 1) as u16))
        .expect("free ports")
}
