//! The in-memory engine in a test: a bridged call on a simulated network with loss, checked
//! without sockets, threads or waiting.
//!
//! `MemoryEngine` runs the real shards on a virtual clock, so a test steps time itself and
//! the run is the same on every machine. Run the test with
//! `cargo test -p tandem-engine --example in_memory`, or the example with
//! `cargo run -p tandem-engine --example in_memory`.

use std::net::SocketAddr;

use tandem_codecs::rtp::RtpHeader;
use tandem_engine::{
    ChannelInfo, ChannelSpec, Command, EngineError, Event, GroupKey, MediaEngine, MemoryEngine,
    Micros, NetworkConditions, RtcpMode,
};

/// What one side of a call sent and what the other side heard.
#[derive(Debug)]
struct Outcome {
    sent: u32,
    heard: u32,
    lost_by_network: u64,
    engine_received: u64,
}

/// A bridged call: the caller sends `packets` 20 ms packets over a network that loses
/// `loss` of them (in each direction); returns what the callee heard.
fn call(packets: u32, loss: f64, seed: u64) -> Result<Outcome, EngineError> {
    let net = NetworkConditions {
        delay: Micros::from_ms(5),
        jitter: Micros::ZERO,
        loss,
    };
    let mut engine = MemoryEngine::new(1, net, seed);
    let caller: SocketAddr = "192.0.2.1:4000".parse().expect("an address");
    let callee: SocketAddr = "192.0.2.2:5000".parse().expect("an address");
    let leg = |engine: &mut MemoryEngine, phone| -> Result<ChannelInfo, EngineError> {
        let spec = ChannelSpec {
            remote: Some(phone),
            rtcp: RtcpMode::Off,
            ..ChannelSpec::default()
        };
        engine.create_channel(GroupKey(1), spec)
    };
    let a = leg(&mut engine, caller)?;
    let b = leg(&mut engine, callee)?;
    engine.command(Command::Bridge { a: a.id, b: b.id })?;

    for seq in 0..packets {
        let mut packet = Vec::new();
        RtpHeader {
            payload_type: 0,
            sequence: seq as u16,
            timestamp: seq * 160,
            ssrc: 0xCA11,
            ..RtpHeader::default()
        }
        .write(&mut packet, &[0x55; 160])
        .expect("a valid header");
        engine.send(caller, a.local, &packet);
        engine.advance_by(Micros::from_ms(20));
    }
    engine.advance_by(Micros::from_ms(100));

    let heard = std::iter::from_fn(|| engine.recv(callee)).count() as u32;
    engine.command(Command::DestroyChannel { channel: a.id })?;
    let mut engine_received = 0;
    while let Some(e) = engine.poll_event() {
        if let Event::ChannelClosed { stats, .. } = e {
            engine_received = stats.packets_received;
        }
    }
    Ok(Outcome {
        sent: packets,
        heard,
        lost_by_network: engine.lost_datagrams(),
        engine_received,
    })
}

fn main() -> Result<(), EngineError> {
    for loss in [0.0, 0.05] {
        let o = call(500, loss, 1)?;
        println!(
            "loss {:.0} % per link: sent {}, the engine received {}, the callee heard {} \
             ({} lost by the network)",
            loss * 100.0,
            o.sent,
            o.engine_received,
            o.heard,
            o.lost_by_network
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lossless_network_delivers_every_packet() {
        let o = call(250, 0.0, 1).unwrap();
        assert_eq!(
            (o.heard, o.engine_received, o.lost_by_network),
            (250, 250, 0)
        );
    }

    #[test]
    fn what_the_network_loses_is_all_that_is_missing() {
        let o = call(2_000, 0.05, 3).unwrap();
        // Every datagram either arrived or was counted lost by the network, on the way in
        // (caller to engine) or out (engine to callee).
        assert_eq!(u64::from(o.heard) + o.lost_by_network, u64::from(o.sent));
        assert!(u64::from(o.heard) <= o.engine_received && o.engine_received < u64::from(o.sent));
        // 5 % each way: 1 - 0.95² = 9.75 % lost end to end; 4 standard deviations either
        // side (binomial, n = 2,000: σ ≈ 13 packets).
        let lost = u64::from(o.sent - o.heard);
        assert!((143..=247).contains(&lost), "{o:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let (x, y) = (call(300, 0.1, 9).unwrap(), call(300, 0.1, 9).unwrap());
        assert_eq!((x.heard, x.lost_by_network), (y.heard, y.lost_by_network));
    }
}
