//! The gate's workloads: one per hot path. Each builds its state, then runs the hot path
//! inside [`gate_measure`].

use std::hint::black_box;

use tandem_codecs::g711::{self, Law};
use tandem_codecs::rtcp::{self, Compound, ReportBlock, SenderInfo};
use tandem_codecs::rtp::{RtpHeader, RtpPacket};

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
];

/// A 20 ms frame of a two-tone signal spanning several segments.
fn frame() -> [i16; 160] {
    let mut f = [0i16; 160];
    for (i, s) in f.iter_mut().enumerate() {
        let t = i as f64 / 8000.0;
        *s = (9000.0 * (std::f64::consts::TAU * 210.0 * t).sin()
            + 3000.0 * (std::f64::consts::TAU * 1330.0 * t).sin()) as i16;
    }
    f
}

fn g711_round(law: Law) {
    let pcm = frame();
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
    let mut pkt = Vec::new();
    RtpHeader {
        payload_type: 0,
        sequence: 4711,
        timestamp: 160_000,
        ssrc: 0xCAFE,
        ..Default::default()
    }
    .write(&mut pkt, &[0xFF; 160])
    .expect("valid header");
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
    let mut v = Vec::new();
    let block = ReportBlock {
        ssrc: 2,
        fraction_lost: 3,
        cumulative_lost: 10,
        highest_seq: 1000,
        jitter: 20,
        last_sr: 5,
        delay_since_last_sr: 6,
    };
    rtcp::write_sr(&mut v, 1, &SenderInfo::default(), &[block]).expect("valid SR");
    let items: [(u8, &[u8]); 1] = [(rtcp::SDES_CNAME, b"caller@tandem.example")];
    rtcp::write_sdes(&mut v, &[(1, &items)]).expect("valid SDES");
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
