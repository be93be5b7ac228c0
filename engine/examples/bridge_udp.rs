//! Two phones bridged over UDP on 127.0.0.1.
//!
//! The threaded engine runs one shard thread on a real UDP driver. Two phones (plain
//! sockets here) each get a channel; the channels are bridged, so what one phone sends the
//! other hears, re-stamped on the engine's own continuous stream. Phone A talks in μ-law,
//! phone B listens in A-law, so the engine transcodes on the way.
//!
//! Run with `cargo run -p tandem-engine --example bridge_udp`.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use tandem_codecs::g711;
use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_engine::{ChannelSpec, Codec, Engine, EngineError, Event, GroupKey, RtcpMode};

fn rtp(pt: u8, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RtpHeader {
        payload_type: pt,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0xA11CE,
        ..RtpHeader::default()
    }
    .write(&mut out, payload)
    .expect("a valid header");
    out
}

fn main() -> Result<(), EngineError> {
    // Port 0 lets the system pick; a real deployment gives a range its firewall allows.
    let phone_a = UdpSocket::bind("127.0.0.1:0")?;
    let phone_b = UdpSocket::bind("127.0.0.1:0")?;
    phone_b.set_read_timeout(Some(Duration::from_millis(200)))?;

    let engine = Engine::builder()
        .shards(1)
        .bind("127.0.0.1".parse().expect("an address"))
        .port_range(47_000, 47_099)
        .build()?;
    println!(
        "engine on {:?} with the {:?} driver",
        engine.media_addresses(),
        engine.driver()
    );

    // Both legs of the call share a group key, so they share a shard.
    let call = GroupKey(1);
    let a = engine.create_channel(
        call,
        ChannelSpec {
            remote: Some(phone_a.local_addr()?),
            rtcp: RtcpMode::Off,
            ..ChannelSpec::with_codec(Codec::PCMU)
        },
    )?;
    let b = engine.create_channel(
        call,
        ChannelSpec {
            remote: Some(phone_b.local_addr()?),
            rtcp: RtcpMode::Off,
            ..ChannelSpec::with_codec(Codec::PCMA)
        },
    )?;
    engine.bridge(a.id, b.id)?;

    // Phone A talks for one second: 50 packets of 20 ms.
    let tone: Vec<u8> = (0..160)
        .map(|i| g711::linear_to_ulaw((i * 97 % 4000) as i16))
        .collect();
    for seq in 0..50u16 {
        phone_a.send_to(&rtp(0, seq, &tone), a.local)?;
        std::thread::sleep(Duration::from_millis(2));
    }

    // Phone B hears it, in A-law.
    let mut heard = 0;
    let mut buf = [0u8; 2048];
    let until = Instant::now() + Duration::from_secs(2);
    while heard < 50 && Instant::now() < until {
        if let Ok((n, _)) = phone_b.recv_from(&mut buf) {
            let p = RtpPacket::parse(&buf[..n]).expect("the engine sends valid RTP");
            assert_eq!(p.payload_type(), 8, "A-law on B's side");
            let want: Vec<u8> = tone.iter().map(|&u| g711::ulaw_to_alaw(u)).collect();
            assert_eq!(p.payload(), &want[..], "transcoded sample by sample");
            heard += 1;
        }
    }
    println!("phone B heard {heard} of 50 packets");

    engine.destroy(a.id)?;
    engine.destroy(b.id)?;
    let mut closed = 0;
    while closed < 2 {
        match engine.events().recv_timeout(Duration::from_secs(2)) {
            Ok(Event::ChannelClosed { channel, stats }) => {
                println!(
                    "{channel}: {} packets in, {} out",
                    stats.packets_received, stats.packets_sent
                );
                closed += 1;
            }
            Ok(other) => println!("event: {other:?}"),
            Err(_) => break,
        }
    }
    engine.shutdown();
    assert_eq!(heard, 50, "every packet crossed the bridge");
    Ok(())
}
