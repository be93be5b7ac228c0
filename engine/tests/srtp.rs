//! SRTP on a channel, over loopback UDP: a phone that speaks SRTP (with its own keys, as
//! SDES gives each direction one) bridged to a plain RTP phone. Payloads cross bit-exact both
//! ways; tampered and replayed packets are dropped and counted; SRTCP reports from the
//! relay authenticate with the key the SRTP phone was given.

mod common;

use std::time::Duration;

use common::{Sender, payload, phone};
use rand::SeedableRng;
use tandem_codecs::rtp::looks_like_rtcp;
use tandem_engine::{
    ChannelSpec, Codec, Command, DriverKind, Engine, Event, GroupKey, RtcpMode, SrtpKeys,
};
use tandem_srtp::{Keying, RecvContext, SendContext, Suite};

fn keys(suite: Suite, seed: u64) -> (Keying, Keying) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (
        Keying::generate(suite, &mut rng),
        Keying::generate(suite, &mut rng),
    )
}

fn srtp_to_rtp(suite: Suite, ports: (u16, u16), seed: u64) {
    let eng = Engine::builder()
        .shards(1)
        .driver(DriverKind::Mio)
        .port_range(ports.0, ports.1)
        .seed(7)
        .build()
        .unwrap();
    // The SRTP phone sends with `phone_key` and receives what the relay sends with `relay_key`.
    let (phone_key, relay_key) = keys(suite, seed);
    let (ps, pp) = (phone(), phone());
    let spec_s = ChannelSpec {
        remote: Some(ps.local_addr().unwrap()),
        rtcp: RtcpMode::Mux,
        srtp: Some(Box::new(SrtpKeys {
            inbound: phone_key.clone(),
            outbound: relay_key.clone(),
        })),
        ..ChannelSpec::with_codec(Codec::PCMU)
    };
    let spec_p = ChannelSpec {
        remote: Some(pp.local_addr().unwrap()),
        rtcp: RtcpMode::Off,
        ..ChannelSpec::with_codec(Codec::PCMU)
    };
    let s = eng.create_channel(GroupKey(1), spec_s).unwrap();
    let p = eng.create_channel(GroupKey(1), spec_p).unwrap();
    eng.bridge(s.id, p.id).unwrap();

    let mut tx = SendContext::new(&phone_key);
    let mut sender = Sender::new(0x5EC, 100, 1000, 0);
    let mut buf = [0u8; 512];
    for n in 0..40u32 {
        let pkt = sender.audio(&payload(n));
        buf[..pkt.len()].copy_from_slice(&pkt);
        let len = tx.protect_rtp(&mut buf, pkt.len()).unwrap();
        assert_ne!(&buf[12..pkt.len()], &pkt[12..], "the payload is encrypted");
        if n == 20 {
            // A tampered copy first (dropped: its tag fails), then the packet itself and a
            // replay of it (dropped: already seen).
            let mut bad = buf[..len].to_vec();
            bad[20] ^= 1;
            ps.send_to(&bad, s.local).unwrap();
            ps.send_to(&buf[..len], s.local).unwrap();
        }
        ps.send_to(&buf[..len], s.local).unwrap();
        if n % 10 == 9 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let got = common::receive(&pp, 40);
    assert_eq!(got.len(), 40, "every authentic packet relayed once");
    for (n, g) in got.iter().enumerate() {
        assert_eq!(
            g.payload,
            payload(n as u32),
            "packet {n} decrypted bit-exact"
        );
    }

    // Plain RTP the other way arrives protected with the relay's key.
    let mut back = Sender::new(0xB0B, 7, 7, 0);
    for n in 0..20u32 {
        pp.send_to(&back.audio(&payload(100 + n)), p.local).unwrap();
    }
    let mut rx = RecvContext::new(&relay_key);
    let mut audio = 0;
    let mut reports = 0;
    let until = std::time::Instant::now() + Duration::from_secs(8);
    while (audio < 20 || reports == 0) && std::time::Instant::now() < until {
        let Ok((len, _)) = ps.recv_from(&mut buf) else {
            continue;
        };
        if looks_like_rtcp(&buf[..len]) {
            rx.unprotect_rtcp(&mut buf[..len])
                .expect("SRTCP authenticates");
            reports += 1;
            continue;
        }
        let m = rx
            .unprotect_rtp(&mut buf[..len])
            .expect("SRTP authenticates");
        assert_eq!(
            &buf[12..m],
            &payload(100 + audio)[..],
            "packet {audio} bit-exact"
        );
        audio += 1;
    }
    assert_eq!(audio, 20);
    assert!(
        reports > 0,
        "an SRTCP report came within the report interval"
    );

    eng.command(Command::QueryStats { channel: s.id }).unwrap();
    let stats = loop {
        match eng.events().recv_timeout(Duration::from_secs(3)).unwrap() {
            Event::Stats { stats, .. } => break stats,
            _ => continue,
        }
    };
    assert_eq!(stats.srtp_auth_failures, 1);
    assert_eq!(stats.srtp_replays, 1);
    assert_eq!(stats.packets_received, 40);
    eng.shutdown();
}

#[test]
fn srtp_80_bridges_to_plain_rtp_both_ways() {
    srtp_to_rtp(Suite::AesCm128HmacSha1_80, (41_300, 41_309), 1);
}

#[test]
fn srtp_32_bridges_to_plain_rtp_both_ways() {
    srtp_to_rtp(Suite::AesCm128HmacSha1_32, (41_310, 41_319), 2);
}
