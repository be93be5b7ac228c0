//! Live media fork: a bridged call on the in-memory engine, forked to a real UDP socket on
//! 127.0.0.1 (each direction bit-exact, sequence numbers continuous) and to a stalled
//! in-process consumer (frames dropped and counted, the call untouched).

mod common;

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};

use tandem_codecs::rtp::{RtpHeader, RtpPacket};
use tandem_engine::{
    ChannelInfo, ChannelSpec, Codec, Command, Event, ForkDestination, ForkEncoding, ForkInbox,
    ForkSpec, GroupKey, MediaEngine, MemoryEngine, Micros, NetworkConditions, RtcpMode, TapTarget,
};

/// Received packets by SSRC: (sequence, timestamp, payload).
type Streams = HashMap<u32, Vec<(u16, u32, Vec<u8>)>>;

const CALLER: &str = "192.0.2.1:4000";
const CALLEE: &str = "192.0.2.2:5000";

struct Call {
    engine: MemoryEngine,
    a: ChannelInfo,
    b: ChannelInfo,
    caller: SocketAddr,
    callee: SocketAddr,
    seq: u16,
}

impl Call {
    fn new(codec: Codec) -> Call {
        let mut engine = MemoryEngine::new(1, NetworkConditions::default(), 5);
        let caller: SocketAddr = CALLER.parse().unwrap();
        let callee: SocketAddr = CALLEE.parse().unwrap();
        let mut leg = |remote| {
            let spec = ChannelSpec {
                remote: Some(remote),
                rtcp: RtcpMode::Off,
                ..ChannelSpec::with_codec(codec)
            };
            engine.create_channel(GroupKey(1), spec).unwrap()
        };
        let a = leg(caller);
        let b = leg(callee);
        engine
            .command(Command::Bridge { a: a.id, b: b.id })
            .unwrap();
        Call {
            engine,
            a,
            b,
            caller,
            callee,
            seq: 0,
        }
    }

    /// 20 ms: each phone sends its payload; returns the packets the callee received.
    fn step(&mut self, pt: u8, from_caller: &[u8], from_callee: &[u8]) -> usize {
        for (from, to, payload, ssrc) in [
            (self.caller, self.a.local, from_caller, 0xA),
            (self.callee, self.b.local, from_callee, 0xB),
        ] {
            let mut p = Vec::new();
            RtpHeader {
                payload_type: pt,
                sequence: self.seq,
                timestamp: u32::from(self.seq) * 160,
                ssrc,
                ..RtpHeader::default()
            }
            .write(&mut p, payload)
            .unwrap();
            self.engine.send(from, to, &p);
        }
        self.seq = self.seq.wrapping_add(1);
        self.engine.advance_by(Micros::from_ms(20));
        while self.engine.recv(self.caller).is_some() {}
        std::iter::from_fn(|| self.engine.recv(self.callee)).count()
    }
}

/// A deterministic byte stream (xorshift), `n` frames of 160.
fn noise(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            (0..160)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect()
        })
        .collect()
}

/// Whether `stream` holds `sent` contiguously, frame for frame.
fn holds(stream: &[Vec<u8>], sent: &[Vec<u8>]) -> bool {
    stream
        .windows(sent.len())
        .any(|w| w.iter().zip(sent).all(|(a, b)| a == b))
}

fn fork_over_udp(codec: Codec, encoding: ForkEncoding, caller_audio: Vec<Vec<u8>>) {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    // Loopback queues a datagram before `send_to` returns, so reading never waits.
    receiver.set_nonblocking(true).unwrap();
    let mut call = Call::new(codec);
    // The callee is quiet: the two A-law codes either side of zero, alternating.
    let quiet = match codec.law {
        tandem_codecs::g711::Law::Alaw => [0xD5u8, 0x55],
        _ => [0xFFu8, 0xFE],
    };
    let callee_audio: Vec<Vec<u8>> = (0..caller_audio.len())
        .map(|i| (0..160).map(|k| quiet[(i + k) % 2]).collect())
        .collect();
    let fork = call
        .engine
        .start_fork(
            TapTarget::Channel(call.a.id),
            ForkSpec::udp(receiver.local_addr().unwrap(), encoding),
        )
        .unwrap();
    let mut streams: Streams = HashMap::new();
    let pt = match encoding {
        ForkEncoding::Pcma => 8,
        ForkEncoding::Pcmu => 0,
        _ => 96,
    };
    // Reads what has arrived (the consumer keeps up, so the socket buffer never fills).
    let drain = |streams: &mut Streams| {
        let mut buf = [0u8; 2048];
        while let Ok(n) = receiver.recv(&mut buf) {
            let p = RtpPacket::parse(&buf[..n]).unwrap();
            assert_eq!(p.payload_type(), pt);
            streams.entry(p.ssrc()).or_default().push((
                p.sequence(),
                p.timestamp(),
                p.payload().to_vec(),
            ));
        }
    };
    let mut heard = 0;
    for i in 0..caller_audio.len() {
        heard += call.step(codec.payload_type, &caller_audio[i], &callee_audio[i]);
        drain(&mut streams);
    }
    // Let the tap's jitter buffers play out, then stop.
    for _ in 0..10 {
        heard += call.step(codec.payload_type, &[quiet[0]; 160], &[quiet[0]; 160]);
        drain(&mut streams);
    }
    call.engine.command(Command::StopTap { tap: fork }).unwrap();
    call.engine.advance_by(Micros::from_ms(40));
    drain(&mut streams);
    assert_eq!(heard, caller_audio.len() + 10, "the call is untouched");
    assert_eq!(streams.len(), 2, "one stream per direction");
    let mut finished = None;
    let mut voice = Vec::new();
    while let Some(e) = call.engine.poll_event() {
        match e {
            Event::ForkFinished { .. } => finished = Some(e),
            Event::ForkVoice {
                track,
                speaking,
                at_ms,
                ..
            } => voice.push((track, speaking, at_ms)),
            _ => {}
        }
    }
    // The caller's side starts talking once, within the first 200 ms of the stream (the
    // tap's jitter delay and the VAD's attack); the quiet side never does.
    assert_eq!(
        voice.first().map(|v| (v.0, v.1)),
        Some((0, true)),
        "{voice:?}"
    );
    assert!(voice[0].2 <= 200, "{voice:?}");
    assert!(voice.iter().all(|v| v.0 == 0), "{voice:?}");
    let Some(Event::ForkFinished {
        packets_sent,
        dropped_frames,
        send_errors,
        speech_ms,
        silence_ms,
        ..
    }) = finished
    else {
        panic!("no ForkFinished");
    };
    let received: usize = streams.values().map(Vec::len).sum();
    assert_eq!(packets_sent, received as u64);
    assert_eq!((dropped_frames, send_errors), (0, 0));
    // The caller's noise is speech, the callee's near-zero codes silence.
    assert!(speech_ms[0] >= 3_000, "{speech_ms:?}");
    assert_eq!(speech_ms[1], 0, "{speech_ms:?}");
    assert!(silence_ms[1] >= 3_000, "{silence_ms:?}");

    let mut ssrcs: Vec<u32> = streams.keys().copied().collect();
    ssrcs.sort(); // track 0 (the caller's side) has the lower SSRC
    for (ssrc, sent) in ssrcs.iter().zip([&caller_audio, &callee_audio]) {
        let packets = &streams[ssrc];
        for w in packets.windows(2) {
            assert_eq!(w[1].0, w[0].0.wrapping_add(1), "sequence continuity");
            assert_eq!(w[1].1, w[0].1.wrapping_add(160), "timestamp continuity");
        }
        let payloads: Vec<Vec<u8>> = packets.iter().map(|p| p.2.clone()).collect();
        assert!(holds(&payloads, sent), "stream {ssrc:x} is not bit-exact");
    }
}

#[test]
fn an_alaw_call_is_forked_bit_exact_per_direction() {
    fork_over_udp(Codec::PCMA, ForkEncoding::Pcma, noise(1, 200));
}

#[test]
fn a_ulaw_call_is_forked_bit_exact_but_for_negative_zero() {
    // μ-law has two zeros; the fork sends the positive one (0xFF) for both.
    let audio: Vec<Vec<u8>> = noise(2, 200)
        .into_iter()
        .map(|f| {
            f.into_iter()
                .map(|b| if b == 0x7F { 0xFF } else { b })
                .collect()
        })
        .collect();
    fork_over_udp(Codec::PCMU, ForkEncoding::Pcmu, audio);
}

#[test]
fn a_stalled_consumer_loses_frames_counted_and_the_call_goes_on() {
    let mut call = Call::new(Codec::PCMA);
    let inbox = ForkInbox::new();
    let spec = ForkSpec {
        destination: ForkDestination::Consumer(inbox.clone()),
        encoding: ForkEncoding::L16,
        vad: Default::default(),
    };
    call.engine
        .start_fork(TapTarget::Channel(call.a.id), spec)
        .unwrap();
    call.engine.advance_by(Micros::from_ms(20));
    let mut stream = inbox.take().expect("the stream is handed over");
    assert_eq!(stream.tracks(), 2);
    let ticks_before = 1u64;
    let audio = noise(3, 250);
    let mut heard = 0;
    for f in &audio {
        heard += call.step(8, f, f);
    }
    // The consumer never read: the call went on regardless.
    assert_eq!(heard, audio.len());
    let mut overflow = false;
    while let Some(e) = call.engine.poll_event() {
        overflow |= matches!(e, Event::TapOverflow { .. });
    }
    assert!(overflow, "the overflow is reported");
    let mut frame = vec![0i16; stream.frame_samples() * 2];
    let mut read = 0u64;
    while stream.read_frame(&mut frame) {
        read += 1;
    }
    // The ring holds two seconds; every other frame was dropped and counted.
    let produced = read + stream.dropped_frames();
    assert_eq!(read, 100);
    let ticks = ticks_before + audio.len() as u64;
    assert!(
        produced.abs_diff(ticks) <= 1,
        "{produced} frames, {ticks} ticks"
    );
    // Reading again resumes the stream.
    call.step(8, &audio[0], &audio[0]);
    assert!(stream.read_frame(&mut frame));
}

/// The threaded engine: its tap writer thread sends the fork; the stream runs while the
/// call does, numbered without a gap, and its end is reported.
#[test]
fn the_threaded_engine_forks_a_live_call() {
    let (lo, hi) = common::free_ports(100);
    let eng = tandem_engine::Engine::builder()
        .shards(1)
        .port_range(lo, hi)
        .build()
        .unwrap();
    let phone = common::phone();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_nonblocking(true).unwrap();
    let spec = ChannelSpec {
        remote: Some(phone.local_addr().unwrap()),
        rtcp: RtcpMode::Off,
        ..ChannelSpec::with_codec(Codec::PCMA)
    };
    let ch = eng.create_channel(GroupKey(1), spec).unwrap();
    let fork = eng
        .start_fork(
            TapTarget::Channel(ch.id),
            ForkSpec::udp(receiver.local_addr().unwrap(), ForkEncoding::Pcma),
        )
        .unwrap();
    let mut s = common::Sender::new(7, 0, 0, 8);
    for n in 0..25 {
        phone
            .send_to(&s.audio(&common::payload(n)), ch.local)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    eng.command(Command::StopTap { tap: fork }).unwrap();
    let mut seqs = Vec::new();
    let mut buf = [0u8; 2048];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut finished = None;
    while finished.is_none() && std::time::Instant::now() < deadline {
        while let Ok(n) = receiver.recv(&mut buf) {
            let p = RtpPacket::parse(&buf[..n]).unwrap();
            assert_eq!((p.payload_type(), p.payload().len()), (8, 160));
            seqs.push(p.sequence());
        }
        if let Ok(e) = eng
            .events()
            .recv_timeout(std::time::Duration::from_millis(100))
            && let Event::ForkFinished {
                tap, packets_sent, ..
            } = e
        {
            assert_eq!(tap, fork);
            finished = Some(packets_sent);
        }
    }
    while let Ok(n) = receiver.recv(&mut buf) {
        seqs.push(RtpPacket::parse(&buf[..n]).unwrap().sequence());
    }
    let sent = finished.expect("ForkFinished");
    assert_eq!(sent, seqs.len() as u64);
    // Half a second of call at least (the tick runs in real time), each packet the next.
    assert!(seqs.len() >= 20, "{}", seqs.len());
    assert!(seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
}
