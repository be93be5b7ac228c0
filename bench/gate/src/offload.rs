//! The kernel fast path's userspace side: the shard deciding which bridged directions go
//! to the kernel, and taking the kernel's counters back in. No kernel is involved: the
//! requests are answered here as a forwarder would answer them.

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr};

use tandem_codecs::rtp::RtpHeader;
use tandem_engine::sansio::{KernelClock, OffloadRequest, Shard, ShardConfig};
use tandem_engine::{ChannelId, ChannelSpec, Command, Micros, RequestId, RtcpMode};
use tandem_kfwd::{OutputPosition, SourcePosition, StreamCounters};

use crate::measure::gate_measure;

const CALLS: u64 = 100;
const BIND: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// A shard with `CALLS` pass-through calls whose two legs both talk, kernel forwarding on.
struct Rig {
    shard: Shard,
    legs: Vec<(u16, SocketAddr, u32)>,
    now: Micros,
    seq: u16,
}

impl Rig {
    fn new() -> Rig {
        let mut shard = Shard::new(ShardConfig::new(0, 1), Micros::ZERO);
        shard.enable_kernel_forwarding(BIND);
        let mut legs = Vec::new();
        for serial in 0..2 * CALLS {
            let port = 20_000 + 2 * serial as u16;
            let from = SocketAddr::from((
                [10, 1, (serial / 200) as u8, (serial % 200) as u8 + 1],
                40_000,
            ));
            let spec = ChannelSpec {
                remote: Some(from),
                rtcp: RtcpMode::Off,
                media_timeout_ms: 0,
                ..ChannelSpec::default()
            };
            let id = ChannelId::new(0, serial);
            shard.create_channel(Micros::ZERO, RequestId(serial), id, port, spec);
            legs.push((port, from, 0x5000 + serial as u32));
            if serial % 2 == 1 {
                let a = ChannelId::new(0, serial - 1);
                shard.handle_command(Micros::ZERO, RequestId(0), Command::Bridge { a, b: id });
            }
        }
        let mut rig = Rig {
            shard,
            legs,
            now: Micros::ZERO,
            seq: 0,
        };
        // Packets flow, in userspace: the shard forwards them and learns the offsets.
        for _ in 0..5 {
            rig.packets();
        }
        rig
    }

    /// One packet from every leg, 20 ms after the last.
    fn packets(&mut self) {
        self.now += Micros::from_ms(20);
        self.seq = self.seq.wrapping_add(1);
        let mut pkt = Vec::with_capacity(172);
        for &(port, from, ssrc) in &self.legs {
            pkt.clear();
            RtpHeader {
                sequence: self.seq,
                timestamp: u32::from(self.seq) * 160,
                ssrc,
                ..RtpHeader::default()
            }
            .write(&mut pkt, &[0xFF; 160])
            .expect("valid header");
            self.shard.handle_datagram(self.now, port, from, &pkt);
        }
        self.shard.clear_transmits();
        while self.shard.poll_event().is_some() {}
    }

    /// One tick, 20 ms on.
    fn tick(&mut self) -> Vec<OffloadRequest> {
        self.now += Micros::from_ms(20);
        self.shard.tick(self.now);
        self.shard.clear_transmits();
        while self.shard.poll_event().is_some() {}
        self.shard.take_offload_requests()
    }

    fn clock(&self) -> KernelClock {
        KernelClock {
            now: self.now,
            mono_ns: 1_000_000_000 + self.now.as_us() * 1_000,
        }
    }
}

/// What a forwarder would report for a stream after `n` packets.
fn counters(n: u64, clock: KernelClock) -> StreamCounters {
    let mut c = StreamCounters::default();
    c.packets = n;
    c.octets = n * 160;
    c.last_forwarded_ns = Some(clock.mono_ns);
    c.source = Some(SourcePosition {
        max_seq: n as u16,
        cycles: (n >> 16) as u32,
        last_seq: n as u16,
        last_ts: n as u32 * 160,
    });
    c.output = Some(OutputPosition {
        seq: n as u16,
        ts: n as u32 * 160,
        at_ns: clock.mono_ns,
    });
    c
}

/// Ticks until every channel was looked at: 200 decisions, 200 requests to add.
pub fn decide() {
    let mut rig = Rig::new();
    let mut added = 0;
    gate_measure(&mut || {
        for _ in 0..4 {
            added += rig.tick().len();
        }
    });
    assert_eq!(added, 2 * CALLS as usize, "every direction offloaded");
    black_box(added);
}

/// One second of ticks with every direction in the kernel: each stream's counters read
/// back once (200 reads taken in).
pub fn read_back() {
    let mut rig = Rig::new();
    let mut bits = 0u64;
    while rig.shard.offload_totals().streams < 2 * CALLS {
        for r in rig.tick() {
            if let OffloadRequest::Add { channel, .. } = r {
                bits += 1;
                rig.shard.offload_added(rig.now, channel, Ok(bits));
            }
        }
    }
    let mut reads = 0u64;
    gate_measure(&mut || {
        for t in 0..50u64 {
            let requests = rig.tick();
            let clock = rig.clock();
            for r in requests {
                if let OffloadRequest::Read { channel, .. } = r {
                    reads += 1;
                    rig.shard
                        .offload_read(clock, channel, Ok(counters(50 + t, clock)));
                }
            }
            rig.shard.offload_settled(rig.now);
        }
    });
    assert_eq!(reads, 2 * CALLS, "each stream read once a second");
    black_box(reads);
}
