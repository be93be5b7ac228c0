//! End to end over loopback UDP: two phones (plain sockets in the test) bridged through a
//! running engine on the mio driver.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{Got, Sender, parse, payload};
use tandem_codecs::g711;
use tandem_engine::{ChannelSpec, Codec, DriverKind, Engine, Event, GroupKey};

fn phone() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s
}

/// Receives RTP until `n` packets arrived or a second passed.
fn receive(s: &UdpSocket, n: usize) -> Vec<Got> {
    let mut out = vec![];
    let mut buf = [0u8; 2048];
    let until = Instant::now() + Duration::from_secs(2);
    while out.len() < n && Instant::now() < until {
        if let Ok((len, _)) = s.recv_from(&mut buf) {
            out.push(parse(&buf[..len]));
        }
    }
    out
}

fn engine(driver: DriverKind, ports: (u16, u16)) -> Engine {
    Engine::builder()
        .shards(2)
        .driver(driver)
        .port_range(ports.0, ports.1)
        .seed(7)
        .build()
        .unwrap()
}

fn bridged_call(driver: DriverKind, ports: (u16, u16)) {
    let eng = engine(driver, ports);
    let (pa, pb) = (phone(), phone());
    let spec_a = ChannelSpec {
        remote: Some(pa.local_addr().unwrap()),
        rtcp: tandem_engine::RtcpMode::Off,
        ..ChannelSpec::with_codec(Codec::PCMU)
    };
    let spec_b = ChannelSpec {
        rtcp: tandem_engine::RtcpMode::Off,
        ..ChannelSpec::with_codec(Codec::PCMA)
    };
    let a = eng.create_channel(GroupKey(42), spec_a).unwrap();
    let b = eng.create_channel(GroupKey(42), spec_b).unwrap();
    eng.bridge(a.id, b.id).unwrap();
    let mut sb = Sender::new(0xB, 9, 9, 8);
    // B's first packet latches B's address.
    pb.send_to(&sb.audio(&[0xD5; 160]), b.local).unwrap();
    let first = receive(&pa, 1);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload, vec![g711::alaw_to_ulaw(0xD5); 160]);

    let mut sa = Sender::new(0xA, 65_500, 1 << 31, 0);
    for n in 0..60 {
        pa.send_to(&sa.audio(&payload(n)), a.local).unwrap();
        if n % 10 == 9 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let event_ts = sa.ts;
    for (end, d) in [(false, 160), (true, 320), (true, 320), (true, 320)] {
        pa.send_to(&sa.event(101, event_ts, '#', end, d), a.local)
            .unwrap();
    }
    let got = receive(&pb, 64);
    assert_eq!(got.len(), 64, "every packet relayed");
    for (n, g) in got[..60].iter().enumerate() {
        let want: Vec<u8> = payload(n as u32)
            .iter()
            .map(|&u| g711::ulaw_to_alaw(u))
            .collect();
        assert_eq!(g.payload, want, "packet {n} transcoded μ→A");
        assert_eq!(g.pt, 8);
        assert_eq!(
            g.seq,
            got[0].seq.wrapping_add(n as u16),
            "sequence continuous across the wrap"
        );
        assert_eq!(g.ts, got[0].ts.wrapping_add(160 * n as u32));
    }
    for g in &got[60..] {
        assert_eq!(g.pt, 101);
        assert_eq!(
            g.ts,
            got[0].ts.wrapping_add(160 * 60),
            "event timestamp mapped"
        );
    }
    let until = Instant::now() + Duration::from_secs(2);
    let mut digits = vec![];
    while Instant::now() < until && digits.is_empty() {
        if let Ok(Event::Dtmf { digit, channel, .. }) =
            eng.events().recv_timeout(Duration::from_millis(100))
        {
            digits.push((channel, digit));
        }
    }
    assert_eq!(digits, vec![(a.id, '#')]);
    eng.shutdown();
}

#[test]
fn mio_driver_relays_bit_exact_transcodes_and_passes_dtmf() {
    bridged_call(DriverKind::Mio, (41_000, 41_099));
}

#[test]
fn media_timeout_fires_over_udp_and_delete_frees_ports() {
    let eng = engine(DriverKind::Mio, (41_100, 41_103));
    let spec = ChannelSpec {
        media_timeout_ms: 200,
        ..ChannelSpec::default()
    };
    let ch = eng.create_channel(GroupKey(1), spec.clone()).unwrap();
    let ev = eng.events().recv_timeout(Duration::from_secs(3)).unwrap();
    assert!(
        matches!(ev, Event::MediaTimeout { channel, silent_ms } if channel == ch.id && silent_ms >= 200)
    );
    // The range holds one pair per shard, so the port must come back after a delete.
    eng.destroy(ch.id).unwrap();
    let ev = eng.events().recv_timeout(Duration::from_secs(3)).unwrap();
    assert!(matches!(ev, Event::ChannelClosed { channel, .. } if channel == ch.id));
    let again = eng.create_channel(GroupKey(1), spec).unwrap();
    assert_eq!(again.local, ch.local);
    let _: SocketAddr = again.local;
}

#[test]
fn io_uring_driver_relays_bit_exact_transcodes_and_passes_dtmf() {
    bridged_call(DriverKind::IoUring, (41_200, 41_299));
}

/// Creates and deletes channels under traffic: closing a port mid-stream must neither
/// crash the driver nor leak its port.
fn churn(driver: DriverKind, ports: (u16, u16)) {
    let eng = Engine::builder()
        .shards(1)
        .driver(driver)
        .port_range(ports.0, ports.1)
        .build()
        .unwrap();
    let phone = phone();
    let mut s = Sender::new(3, 0, 0, 0);
    for round in 0..100 {
        let a = eng
            .create_channel(GroupKey(round), ChannelSpec::default())
            .unwrap();
        let b = eng
            .create_channel(GroupKey(round), ChannelSpec::default())
            .unwrap();
        eng.bridge(a.id, b.id).unwrap();
        for n in 0..3 {
            phone.send_to(&s.audio(&payload(n)), a.local).unwrap();
            phone.send_to(&s.audio(&payload(n)), b.local).unwrap();
        }
        eng.destroy(a.id).unwrap();
        eng.destroy(b.id).unwrap();
        // Deletion is asynchronous; the ports are free once both closures are reported.
        let mut closed = 0;
        while closed < 2 {
            match eng.events().recv_timeout(Duration::from_secs(5)) {
                Ok(Event::ChannelClosed { .. }) => closed += 1,
                Ok(_) => {}
                Err(e) => panic!("round {round}: {e}"),
            }
        }
    }
    // 200 channels went through a range of 8 port pairs: every port came back.
    let st = eng.thread_stats();
    assert!(st[0].datagrams_in > 0);
    eng.shutdown();
}

#[test]
fn mio_driver_survives_channel_churn() {
    churn(DriverKind::Mio, (41_400, 41_415));
}

#[test]
fn io_uring_driver_survives_channel_churn() {
    churn(DriverKind::IoUring, (41_500, 41_515));
}
