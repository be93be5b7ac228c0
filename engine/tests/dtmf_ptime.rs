//! Repacketisation and DTMF conversion across legs, on the in-memory network: what the far
//! phone receives, checked bit for bit (G.711 re-framing) and with the engine's own in-band
//! detector (events made into tones, tones made into events).

mod common;

use std::f64::consts::TAU;
use std::net::SocketAddr;

use common::{Got, Sender, parse};
use tandem_codecs::dtmf::{DtmfConfig, DtmfDetector};
use tandem_codecs::g711::{self, Law};
use tandem_codecs::telephone_event::TelephoneEvent;
use tandem_codecs::tone::{amplitude_for_dbm0, dtmf_freqs};
use tandem_engine::{
    ChannelSpec, Codec, Command, DtmfSettings, GroupKey, MediaEngine, MemoryEngine, Micros,
    NetworkConditions,
};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const PA: &str = "192.0.2.10:4000";
const PB: &str = "192.0.2.20:5000";

struct Call {
    eng: MemoryEngine,
    a: SocketAddr,
    b: SocketAddr,
}

fn call(mut a: ChannelSpec, mut b: ChannelSpec) -> Call {
    a.remote = Some(addr(PA));
    b.remote = Some(addr(PB));
    let mut eng = MemoryEngine::new(1, NetworkConditions::default(), 7);
    let ca = eng.create_channel(GroupKey(1), a).unwrap();
    let cb = eng.create_channel(GroupKey(1), b).unwrap();
    eng.command(Command::Bridge { a: ca.id, b: cb.id }).unwrap();
    Call {
        eng,
        a: ca.local,
        b: cb.local,
    }
}

impl Call {
    fn step(&mut self, ms: u64) {
        let t = self.eng.now().as_us() + ms * 1000;
        self.eng.advance_to(Micros::from_us(t));
    }

    fn drain(&mut self, at: &str) -> Vec<Got> {
        let at = addr(at);
        std::iter::from_fn(|| self.eng.recv(at))
            .filter(|d| d.from.port() % 2 == 0)
            .map(|d| parse(&d.data))
            .collect()
    }
}

fn pcma(ptime: u32, repacketize: bool) -> ChannelSpec {
    ChannelSpec {
        ptime_ms: ptime,
        repacketize,
        ..ChannelSpec::with_codec(Codec::PCMA)
    }
}

/// A known signal: `n` bytes of G.711 that differ everywhere.
fn signal(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

/// Sends `signal` from `from` to `to` in packets of `ptime` ms; returns what `at` got.
fn relay(c: &mut Call, from: &str, to: SocketAddr, at: &str, ptime: usize, sig: &[u8]) -> Vec<Got> {
    let mut s = Sender::new(0xabc, 65_000, u32::MAX - 1000, 8);
    for chunk in sig.chunks(ptime * 8) {
        c.eng.send(addr(from), to, &s.audio(chunk));
        c.step(ptime as u64);
    }
    c.step(200);
    c.drain(at)
}

fn assert_continuous(got: &[Got], ptime: usize) {
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.payload.len(), ptime * 8, "packet {i}");
        assert_eq!(g.seq, got[0].seq.wrapping_add(i as u16), "packet {i}");
        assert_eq!(
            g.ts,
            got[0].ts.wrapping_add((i * ptime * 8) as u32),
            "packet {i}"
        );
        assert_eq!(g.marker, i == 0, "packet {i}");
        assert_eq!(g.pt, 8);
    }
}

#[test]
fn every_ptime_pair_is_repacketised_bit_exact_in_both_directions() {
    for (pa, pb) in [(20, 30), (60, 10), (10, 40), (30, 20), (40, 60), (20, 20)] {
        // A's party sends `pa` ms; B's party wants `pb` ms, and the reverse.
        let mut c = call(pcma(pa as u32, true), pcma(pb as u32, true));
        let sig = signal(480 * 12);
        let (ca, cb) = (c.a, c.b);
        let got = relay(&mut c, PA, ca, PB, pa, &sig);
        assert_continuous(&got, pb);
        let bytes: Vec<u8> = got.iter().flat_map(|g| g.payload.clone()).collect();
        assert_eq!(bytes, sig, "{pa} -> {pb}");
        let back = relay(&mut c, PB, cb, PA, pb, &sig);
        assert_continuous(&back, pa);
        let bytes: Vec<u8> = back.iter().flat_map(|g| g.payload.clone()).collect();
        assert_eq!(bytes, sig, "{pb} -> {pa}");
    }
}

#[test]
fn without_repacketisation_packets_keep_their_length() {
    let mut c = call(pcma(20, false), pcma(30, false));
    let ca = c.a;
    let got = relay(&mut c, PA, ca, PB, 20, &signal(160 * 6));
    assert_eq!(got.len(), 6);
    assert!(got.iter().all(|g| g.payload.len() == 160));
}

fn convert(te: Option<u8>, inband: bool) -> ChannelSpec {
    ChannelSpec {
        telephone_event_pt: te,
        dtmf: DtmfSettings {
            convert: true,
            inband,
            ..DtmfSettings::default()
        },
        ..ChannelSpec::with_codec(Codec::PCMU)
    }
}

fn decode(got: &[Got], pt: u8) -> Vec<i16> {
    let mut pcm = Vec::new();
    for g in got.iter().filter(|g| g.pt == pt) {
        let mut out = vec![0i16; g.payload.len()];
        g711::decode_frame(Law::Ulaw, &g.payload, &mut out);
        pcm.extend_from_slice(&out);
    }
    pcm
}

#[test]
fn an_rfc4733_digit_reaches_a_party_without_telephone_event_as_a_tone() {
    let mut c = call(convert(Some(101), false), convert(None, false));
    let ca = c.a;
    let mut s = Sender::new(0x77, 10, 1000, 0);
    let quiet = vec![0xffu8; 160];
    for _ in 0..5 {
        c.eng.send(addr(PA), ca, &s.audio(&quiet));
        c.step(20);
    }
    // '5' for 120 ms: updates every 20 ms, the end three times; no audio meanwhile.
    let ev_ts = s.ts;
    for k in 1..=6u16 {
        c.eng
            .send(addr(PA), ca, &s.event(101, ev_ts, '5', k == 6, k * 160));
        c.step(20);
    }
    for _ in 0..2 {
        c.eng
            .send(addr(PA), ca, &s.event(101, ev_ts, '5', true, 960));
    }
    s.ts = ev_ts.wrapping_add(960);
    for _ in 0..10 {
        c.eng.send(addr(PA), ca, &s.audio(&quiet));
        c.step(20);
    }
    let got = c.drain(PB);
    assert!(got.iter().all(|g| g.pt == 0), "no event reaches B");
    let pcm = decode(&got, 0);
    assert_eq!(
        pcm.len(),
        (5 + 6 + 10) * 160,
        "the tone fills the event's time"
    );
    let digits = DtmfDetector::new(DtmfConfig::default()).detect(&pcm);
    assert_eq!(digits.len(), 1, "{digits:?}");
    assert_eq!(digits[0].key, '5');
    assert!(digits[0].start_sample.abs_diff(800) <= 106);
    // Timestamps stay continuous through the tone.
    for w in got.windows(2) {
        assert_eq!(w[1].ts.wrapping_sub(w[0].ts), 160);
    }
}

fn tone(key: char, n: usize) -> Vec<i16> {
    let (lo, hi) = dtmf_freqs(key).unwrap();
    let a = amplitude_for_dbm0(-10.0);
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            (a * ((TAU * lo * t).sin() + (TAU * hi * t).sin())).round() as i16
        })
        .collect()
}

#[test]
fn an_inband_digit_reaches_a_party_with_telephone_event_as_rfc4733_events() {
    let mut c = call(convert(None, true), convert(Some(101), false));
    let ca = c.a;
    let mut pcm = vec![0i16; 160 * 5];
    pcm.extend(tone('9', 960)); // 120 ms of '9' from sample 800
    pcm.extend(vec![0i16; 160 * 10]);
    let mut s = Sender::new(0x99, 10, 5000, 0);
    for chunk in pcm.chunks(160) {
        let mut coded = vec![0u8; 160];
        g711::encode_frame(Law::Ulaw, chunk, &mut coded);
        c.eng.send(addr(PA), ca, &s.audio(&coded));
        c.step(20);
    }
    let got = c.drain(PB);
    let events: Vec<(&Got, TelephoneEvent)> = got
        .iter()
        .filter(|g| g.pt == 101)
        .map(|g| (g, TelephoneEvent::parse(&g.payload).unwrap()))
        .collect();
    assert!(!events.is_empty());
    assert!(events.iter().all(|(_, e)| e.digit() == Some('9')));
    assert!(events[0].0.marker, "marker on the first event packet");
    assert!(events[1..].iter().all(|(g, _)| !g.marker));
    let ts = events[0].0.ts;
    assert!(
        events.iter().all(|(g, _)| g.ts == ts),
        "one timestamp per event"
    );
    let ends: Vec<_> = events.iter().filter(|(_, e)| e.end).collect();
    assert_eq!(ends.len(), 3, "the end packet three times");
    let d = ends[0].1.duration;
    assert!(ends.iter().all(|(_, e)| e.duration == d));
    assert!(u32::from(d).abs_diff(960) <= 320, "duration {d} (960 sent)");
    // The event sits where the tone began on the audio timeline.
    let first_audio = &got[0];
    assert_eq!(first_audio.pt, 0);
    let offset = ts.wrapping_sub(first_audio.ts);
    assert!(
        offset.abs_diff(800) <= 106,
        "event at {offset} (tone at 800)"
    );
    // Sequence numbers stay continuous with no collision.
    for w in got.windows(2) {
        assert_eq!(
            w[1].seq,
            w[0].seq.wrapping_add(1),
            "{:?}",
            (w[0].seq, w[1].seq)
        );
    }
    // The far side's own detector, run on the audio it got, hears no digit beyond the
    // tone's first blocks (the rest went as events).
    let heard = DtmfDetector::new(DtmfConfig::default()).detect(&decode(&got, 0));
    assert!(heard.len() <= 1);
}

#[test]
fn without_conversion_events_do_not_reach_a_party_without_telephone_event() {
    let mut a = convert(Some(101), false);
    a.dtmf.convert = false;
    let mut b = convert(None, false);
    b.dtmf.convert = false;
    let mut c = call(a, b);
    let ca = c.a;
    let mut s = Sender::new(0x77, 10, 1000, 0);
    for k in 1..=4u16 {
        c.eng
            .send(addr(PA), ca, &s.event(101, 1000, '1', k == 4, k * 160));
        c.step(20);
    }
    assert!(c.drain(PB).is_empty());
}
