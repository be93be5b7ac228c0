//! A buffered bridge on a bad network: 5% loss and 30 ms of jitter, deterministically.

mod common;

use std::net::SocketAddr;

use common::{Sender, parse};
use tandem_codecs::g711;
use tandem_engine::jitter::JitterConfig;
use tandem_engine::{
    ChannelSpec, ChannelStats, Command, GroupKey, MemoryEngine, NetworkConditions,
};
use tandem_engine::{MediaEngine, Micros};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// 20 ms of a 400 Hz tone at -12 dBFS-ish, continuing from packet `n`.
fn tone(n: u32) -> Vec<u8> {
    (0..160)
        .map(|i| {
            let t = (n * 160 + i) as f64 / 8000.0;
            g711::linear_to_ulaw((8000.0 * (2.0 * std::f64::consts::PI * 400.0 * t).sin()) as i16)
        })
        .collect()
}

struct Outcome {
    at_b: Vec<(u16, u32, Vec<u8>)>,
    stats_a: ChannelStats,
    network_lost: u64,
}

fn run(seed: u64) -> Outcome {
    let cond = NetworkConditions {
        delay: Micros::from_us(10_000),
        jitter: Micros::from_us(30_000),
        loss: 0.05,
    };
    let mut eng = MemoryEngine::new(1, cond, seed);
    let (pa, pb) = (addr("192.0.2.1:4000"), addr("192.0.2.2:5000"));
    let spec_a = ChannelSpec {
        remote: Some(pa),
        jitter: Some(JitterConfig::default()),
        ..ChannelSpec::default()
    };
    let spec_b = ChannelSpec {
        remote: Some(pb),
        ..ChannelSpec::default()
    };
    let a = eng.create_channel(GroupKey(1), spec_a).unwrap();
    let b = eng.create_channel(GroupKey(1), spec_b).unwrap();
    eng.command(Command::Bridge { a: a.id, b: b.id }).unwrap();
    let mut s = Sender::new(77, 0, 0, 0);
    for n in 0..500 {
        eng.send(pa, a.local, &s.audio(&tone(n)));
        eng.advance_by(Micros::from_us(20_000));
    }
    eng.advance_by(Micros::from_us(500_000));
    let at_b = std::iter::from_fn(|| eng.recv(pb))
        .filter(|d| d.from.port() % 2 == 0)
        .map(|d| {
            let g = parse(&d.data);
            (g.seq, g.ts, g.payload)
        })
        .collect();
    Outcome {
        at_b,
        stats_a: eng.channel_stats(a.id).unwrap(),
        network_lost: eng.lost_datagrams(),
    }
}

#[test]
fn loss_is_concealed_and_the_output_is_continuous_and_reproducible() {
    let o = run(2024);
    let st = o.stats_a;
    eprintln!(
        "lost {} late {} concealed {} stretched {} dropped {} target {} ms jitter {} us; frames at B {}; network lost {}",
        st.packets_lost,
        st.late,
        st.concealed_frames,
        st.jitter_stretched_frames,
        st.jitter_dropped_frames,
        st.jitter_target_ms,
        st.jitter_us,
        o.at_b.len(),
        o.network_lost
    );
    // About 5% of 500 packets lost on the way in (binomial: 25 ± 5).
    assert!((10..=45).contains(&st.packets_lost), "{st:?}");
    // Every missing frame is concealed once: losses and late packets, plus the frames
    // the buffer inserted to grow; nothing else.
    let missing = st.packets_lost as u64 + st.late;
    let concealed = st.concealed_frames;
    assert!(
        concealed >= missing && concealed <= missing + st.jitter_stretched_frames + 2,
        "concealed {concealed}, lost {}, late {}, stretched {}",
        st.packets_lost,
        st.late,
        st.jitter_stretched_frames
    );
    assert!(
        st.jitter_target_ms >= 40,
        "30 ms of jitter needs a deeper buffer: {st:?}"
    );
    assert!(st.jitter_us > 3_000, "{st:?}");

    // The engine sends one frame per tick: a continuous stream, apart from what the
    // network loses on the way out to B.
    let mut seqs: Vec<(u16, u32)> = o.at_b.iter().map(|(s, t, _)| (*s, *t)).collect();
    seqs.sort_by_key(|&(s, _)| s.wrapping_sub(o.at_b[0].0));
    for w in seqs.windows(2) {
        let dseq = w[1].0.wrapping_sub(w[0].0) as u32;
        assert!(dseq >= 1);
        assert_eq!(
            w[1].1.wrapping_sub(w[0].1),
            160 * dseq,
            "timestamp follows sequence"
        );
    }
    assert!(o.at_b.len() > 450, "{} frames", o.at_b.len());
    assert!(o.network_lost > 20);

    // Same seed, same bytes; another seed, another run.
    let again = run(2024);
    assert_eq!(again.at_b, o.at_b);
    assert_eq!(again.stats_a, o.stats_a);
    assert_ne!(run(2025).at_b, o.at_b);
}
