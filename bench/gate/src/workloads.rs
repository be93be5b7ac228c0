//! The gate's workloads: one per hot path. Each builds its state, then runs the hot path
//! inside [`gate_measure`].

use std::hint::black_box;

use tandem_acd::Policy;
use tandem_bench::fixtures;
use tandem_codecs::g711::{self, Law};
use tandem_codecs::rtcp::Compound;
use tandem_codecs::rtp::RtpPacket;
use tandem_load::rigs::{JitterRig, MediaRig};

use crate::measure::gate_measure;

/// One named workload.
pub struct Workload {
    /// Stable name; the key in the baseline file.
    pub name: &'static str,
    /// What it measures.
    pub about: &'static str,
    /// Runs it once.
    pub run: fn(),
}

/// Finds a workload by name.
pub fn find(name: &str) -> Option<&'static Workload> {
    ALL.iter().find(|w| w.name == name)
}

/// Every workload, in table order.
pub static ALL: &[Workload] = &[
    Workload {
        name: "g711/ulaw_decode_encode_160",
        about: "μ-law decode + encode of one 20 ms frame, 100 times",
        run: || g711_round(Law::Ulaw),
    },
    Workload {
        name: "g711/alaw_decode_encode_160",
        about: "A-law decode + encode of one 20 ms frame, 100 times",
        run: || g711_round(Law::Alaw),
    },
    Workload {
        name: "rtp/parse_172B",
        about: "parse a 172-byte PCMU packet and read its fields, 1,000 times",
        run: rtp_parse,
    },
    Workload {
        name: "rtcp/parse_sr_sdes",
        about: "validate and walk an SR + SDES compound packet, 1,000 times",
        run: rtcp_parse,
    },
    Workload {
        name: "des/kernel_100k_events",
        about: "the simulator's event queue: 100,000 pops and pushes with 1,000 pending",
        run: des_kernel,
    },
    Workload {
        name: "sim/mmnm_500_agents_50k_calls",
        about: "the simulator's model: M/M/500+M at 95% load, 50,000 calls (the ACD included)",
        run: sim_mmnm,
    },
    Workload {
        name: "sim/day_700_agents_all_features",
        about: "the simulator's model: the built-in day-700 scenario (24 h, ~200,000 calls, every feature on)",
        run: sim_day,
    },
    Workload {
        name: "sim/every_model_feature",
        about: "the simulator's model: groups, call types, overflow, service and patience families, announcements and balking, busyness, callbacks on trunks, shift rule, warm-up and batches (4 h, ~35,000 calls)",
        run: sim_features,
    },
    Workload {
        name: "acd/route_500_agents",
        about: "1,000 arrivals routed to the longest-idle of 500 agents, answered, ended, wrapped up",
        run: acd_route,
    },
    Workload {
        name: "jitter/insert_pop",
        about: "adaptive jitter buffer: 1,000 cycles of one 20 ms packet in, one frame out",
        run: jitter_cycle,
    },
    Workload {
        name: "bridge/tick_100_calls",
        about: "shard with 100 pass-through bridged calls: 10 periods of 200 packets in + tick",
        run: || bridge_periods(false),
    },
    Workload {
        name: "bridge/tick_100_calls_buffered",
        about: "100 calls through jitter buffers: 10 periods of 200 packets in + playout tick",
        run: || bridge_periods(true),
    },
    Workload {
        name: "offload/decide_100_calls",
        about: "kernel fast path: the shard looks at 200 legs of 100 calls, 200 offload decisions",
        run: crate::offload::decide,
    },
    Workload {
        name: "offload/read_back_200_streams",
        about: "kernel fast path: 1 s of ticks, each of 200 streams' counters taken back in",
        run: crate::offload::read_back,
    },
    Workload {
        name: "room/tick_10",
        about: "a room of 10 talkers: 10 periods of packets in + mix tick",
        run: || room_periods(10),
    },
    Workload {
        name: "room/tick_100",
        about: "a room of 100 talkers: 10 periods of packets in + mix tick",
        run: || room_periods(100),
    },
];

fn jitter_cycle() {
    let mut rig = JitterRig::new();
    let mut acc = 0i64;
    gate_measure(&mut || {
        for _ in 0..1000 {
            acc += i64::from(rig.cycle());
        }
    });
    black_box(acc);
}

fn bridge_periods(buffered: bool) {
    let mut rig = MediaRig::bridges(100, buffered);
    let mut n = 0;
    gate_measure(&mut || {
        for _ in 0..10 {
            n += rig.period();
        }
    });
    black_box(n);
}

fn room_periods(participants: usize) {
    let mut rig = MediaRig::room(participants);
    let mut n = 0;
    gate_measure(&mut || {
        for _ in 0..10 {
            n += rig.period();
        }
    });
    black_box(n);
}

fn des_kernel() {
    let mut k = fixtures::loaded_kernel();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    gate_measure(&mut || fixtures::kernel_churn(&mut k, 100_000, &mut x));
    black_box(k.processed());
}

fn sim_mmnm() {
    sim_model(&tandem_load::rigs::scenarios::mmnm_500(50_000));
}

fn sim_features() {
    sim_model(&tandem_load::rigs::scenarios::every_feature());
}

fn sim_day() {
    sim_model(&tandem_sim::Scenario::built_in("day-700").expect("built-in scenario"));
}

/// One replication of `sc`, set up outside the measured region.
fn sim_model(sc: &tandem_sim::Scenario) {
    let mut run = Some(tandem_sim::model::Run::new(sc, 0).expect("valid scenario"));
    let mut offered = 0.0;
    gate_measure(&mut || {
        let run = run.take().expect("measured once");
        offered = run.run().expect("run").totals().offered;
    });
    black_box(offered);
}

fn acd_route() {
    let mut acd = fixtures::ready_acd(500, Policy::LongestIdle);
    let mut t = 1.0;
    gate_measure(&mut || {
        for i in 0..1000u64 {
            t += 1.0;
            black_box(fixtures::route_cycle(&mut acd, t, i));
        }
    });
    black_box(acd.stats().completed);
}

fn g711_round(law: Law) {
    let pcm = fixtures::speech_frame();
    let mut codes = [0u8; 160];
    g711::encode_frame(law, &pcm, &mut codes);
    let mut lin = [0i16; 160];
    let mut out = [0u8; 160];
    gate_measure(&mut || {
        for _ in 0..100 {
            g711::decode_frame(law, black_box(&codes), &mut lin);
            g711::encode_frame(law, &lin, black_box(&mut out));
        }
    });
    black_box(out);
}

fn rtp_parse() {
    let pkt = fixtures::pcmu_packet();
    let mut acc = 0u64;
    gate_measure(&mut || {
        for _ in 0..1000 {
            let p = RtpPacket::parse(black_box(&pkt)).expect("valid packet");
            acc = acc.wrapping_add(u64::from(p.sequence()) + u64::from(p.timestamp()));
            acc = acc.wrapping_add(p.payload().len() as u64 + u64::from(p.ssrc()));
        }
    });
    black_box(acc);
}

fn rtcp_parse() {
    let v = fixtures::sr_sdes_compound();
    let mut n = 0usize;
    gate_measure(&mut || {
        for _ in 0..1000 {
            n += Compound::parse(black_box(&v))
                .expect("valid")
                .packets()
                .count();
        }
    });
    black_box(n);
}
