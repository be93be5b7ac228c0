//! Engine workloads: a shard with bridged calls or a conference room, fed one 20 ms period of
//! packets at a time; the mixing arithmetic; a jitter buffer; recordings on one shard.

use std::net::SocketAddr;

use tandem_codecs::g711::{self, Law};
use tandem_codecs::rtp::{RtpHeader, rewrite_header};
use tandem_engine::jitter::{JitterBuffer, JitterConfig};
use tandem_engine::sansio::{Shard, ShardConfig};
use tandem_engine::{
    ChannelId, ChannelSpec, Command, Micros, ParticipantOptions, RequestId, RoomId, RoomOptions,
    RtcpMode,
};

use super::speech_frame;

struct Leg {
    port: u16,
    from: SocketAddr,
    packet: Vec<u8>,
    ssrc: u32,
}

/// A shard under steady load: every leg sends one packet per period.
pub struct MediaRig {
    shard: Shard,
    legs: Vec<Leg>,
    now: Micros,
    seq: u16,
    ts: u32,
}

fn speech_packet(law: Law) -> Vec<u8> {
    let mut payload = [0u8; 160];
    g711::encode_frame(law, &speech_frame(), &mut payload);
    let mut pkt = Vec::new();
    RtpHeader {
        payload_type: if law == Law::Ulaw { 0 } else { 8 },
        ..RtpHeader::default()
    }
    .write(&mut pkt, &payload)
    .expect("valid header");
    pkt
}

impl MediaRig {
    fn new() -> MediaRig {
        MediaRig {
            shard: Shard::new(ShardConfig::new(0, 1), Micros::ZERO),
            legs: Vec::new(),
            now: Micros::ZERO,
            seq: 0,
            ts: 0,
        }
    }

    fn add_leg(&mut self, serial: u64, jitter: Option<JitterConfig>) -> ChannelId {
        let id = ChannelId::new(0, serial);
        let port = 20_000 + 2 * serial as u16;
        let from: SocketAddr = format!("10.1.{}.{}:40000", serial / 200, serial % 200 + 1)
            .parse()
            .expect("address");
        let spec = ChannelSpec {
            remote: Some(from),
            rtcp: RtcpMode::Off,
            jitter,
            media_timeout_ms: 0,
            ..ChannelSpec::default()
        };
        self.shard
            .create_channel(Micros::ZERO, RequestId(serial), id, port, spec);
        self.legs.push(Leg {
            port,
            from,
            packet: speech_packet(Law::Ulaw),
            ssrc: 0x5000 + serial as u32,
        });
        id
    }

    /// `calls` bridged two-party calls, pass-through or through jitter buffers.
    pub fn bridges(calls: usize, buffered: bool) -> MediaRig {
        let mut rig = MediaRig::new();
        let jitter = buffered.then(|| JitterConfig::fixed(40));
        for c in 0..calls as u64 {
            let a = rig.add_leg(2 * c, jitter);
            let b = rig.add_leg(2 * c + 1, jitter);
            rig.shard
                .handle_command(Micros::ZERO, RequestId(0), Command::Bridge { a, b });
        }
        rig.warm_up();
        rig
    }

    /// One room of `participants`, every one of them talking.
    pub fn room(participants: usize) -> MediaRig {
        let mut rig = MediaRig::new();
        let room = RoomId::new(0, 1 << 40);
        let options = RoomOptions {
            vad_gate: false,
            ..RoomOptions::default()
        };
        rig.shard.handle_command(
            Micros::ZERO,
            RequestId(0),
            Command::CreateRoom { room, options },
        );
        for p in 0..participants as u64 {
            let channel = rig.add_leg(p, Some(JitterConfig::fixed(40)));
            rig.shard.handle_command(
                Micros::ZERO,
                RequestId(0),
                Command::JoinRoom {
                    room,
                    channel,
                    options: ParticipantOptions::default(),
                },
            );
        }
        rig.warm_up();
        rig
    }

    fn warm_up(&mut self) {
        while self.shard.poll_event().is_some() {}
        for _ in 0..20 {
            self.period();
        }
    }

    /// One 20 ms period: a packet from every leg, then the shard's tick. Returns the
    /// number of datagrams the shard produced.
    pub fn period(&mut self) -> usize {
        self.now += Micros::from_ms(20);
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
        for leg in &mut self.legs {
            let _ = rewrite_header(&mut leg.packet, false, self.seq, self.ts, leg.ssrc);
            self.shard.handle_datagram(
                self.now - Micros::from_ms(10),
                leg.port,
                leg.from,
                &leg.packet,
            );
        }
        self.shard.tick(self.now);
        let n = self.shard.transmits().len();
        self.shard.clear_transmits();
        while self.shard.poll_event().is_some() {}
        n
    }

    /// Legs (channels) in the rig.
    pub fn legs(&self) -> usize {
        self.legs.len()
    }
}

/// The mixing arithmetic of one room tick, on its own: for N talkers, decode each G.711
/// frame, add it into the sum, then for each listener subtract their own, saturate and
/// encode. This is the "mixing cost per participant".
pub struct MixRig {
    frames: Vec<[u8; 160]>,
    pcm: Vec<[i16; 160]>,
    sum: Vec<i32>,
    out_pcm: [i16; 160],
    out: Vec<[u8; 160]>,
}

impl MixRig {
    /// `n` talkers with distinct speech-like frames.
    pub fn new(n: usize) -> MixRig {
        let base = speech_frame();
        let frames = (0..n)
            .map(|k| {
                let mut f = [0u8; 160];
                let shifted: Vec<i16> = (0..160)
                    .map(|i| base[(i + k * 7) % 160] / (1 + (k % 3) as i16))
                    .collect();
                g711::encode_frame(Law::Ulaw, &shifted, &mut f);
                f
            })
            .collect();
        MixRig {
            frames,
            pcm: vec![[0; 160]; n],
            sum: vec![0; 160],
            out_pcm: [0; 160],
            out: vec![[0; 160]; n],
        }
    }

    /// One tick of mixing. Returns a byte of the output so it cannot be elided.
    pub fn tick(&mut self) -> u8 {
        use tandem_engine::sansio::mix;
        self.sum.fill(0);
        for (f, p) in self.frames.iter().zip(self.pcm.iter_mut()) {
            g711::decode_frame(Law::Ulaw, f, p);
            mix::accumulate(&mut self.sum, p, mix::UNITY_Q12);
        }
        for (p, o) in self.pcm.iter().zip(self.out.iter_mut()) {
            mix::listener_frame(
                &self.sum,
                Some((p, mix::UNITY_Q12)),
                None,
                &mut self.out_pcm,
            );
            g711::encode_frame(Law::Ulaw, &self.out_pcm, o);
        }
        self.out[0][0]
    }
}

/// What [`recording_load`] measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordingReport {
    /// Concurrent recordings.
    pub recordings: usize,
    /// Seconds of audio recorded per call.
    pub seconds: f64,
    /// Bytes written to disk per second of wall time.
    pub disk_bytes_per_s: f64,
    /// Frames dropped because a writer fell behind (all recordings).
    pub dropped_frames: u64,
    /// Recordings finished with a complete file.
    pub finished: usize,
    /// CPU seconds of the shard thread (this thread) per second of audio.
    pub shard_busy: f64,
}

/// Runs `calls` bridged calls on one shard, each with a stereo PCM16 recording into `dir`,
/// for `seconds` of real time (the shard paced at its 20 ms tick), with the writer on its
/// own thread as in the engine. Reports disk throughput and drops.
pub fn recording_load(
    calls: usize,
    seconds: u32,
    dir: &std::path::Path,
) -> std::io::Result<RecordingReport> {
    use std::time::{Duration, Instant};
    use tandem_codecs::wav::Encoding;
    use tandem_engine::sansio::TapWriter;
    use tandem_engine::{Event, TapId, TapMode, TapSpec, TapTarget};

    let mut rig = MediaRig::bridges(calls, false);
    let (handoff_tx, handoff_rx) = crossbeam_channel::unbounded();
    let (event_tx, event_rx) = crossbeam_channel::unbounded();
    let thread = TapWriter::spawn(handoff_rx, event_tx)?;
    for c in 0..calls as u64 {
        let spec = TapSpec {
            path: dir.join(format!("call-{c}.wav")),
            mode: TapMode::Stereo,
            encoding: Encoding::Pcm16,
        };
        let target = TapTarget::Channel(ChannelId::new(0, 2 * c));
        rig.shard.handle_command(
            Micros::ZERO,
            RequestId(0),
            Command::StartTap {
                tap: TapId::new(0, c),
                target,
                spec,
            },
        );
    }
    for h in rig.shard.drain_tap_handoffs() {
        handoff_tx
            .send(h)
            .map_err(|_| std::io::Error::other("writer gone"))?;
    }
    let periods = seconds as usize * 50;
    let start = Instant::now();
    let mut busy = Duration::ZERO;
    for p in 0..periods {
        let t = Instant::now();
        rig.period();
        busy += t.elapsed();
        let next = start + Duration::from_millis(20 * (p as u64 + 1));
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    for c in 0..calls as u64 {
        rig.shard.handle_command(
            Micros::ZERO,
            RequestId(0),
            Command::StopTap {
                tap: TapId::new(0, c),
            },
        );
    }
    while rig.shard.poll_event().is_some() {}
    drop(handoff_tx);
    thread
        .join()
        .map_err(|_| std::io::Error::other("writer panicked"))?;
    let wall = start.elapsed().as_secs_f64();
    let (mut dropped, mut finished, mut bytes) = (0, 0, 0u64);
    for e in event_rx.try_iter() {
        if let Event::TapFinished {
            dropped_frames,
            path,
            ..
        } = e
        {
            dropped += dropped_frames;
            finished += 1;
            bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
    }
    Ok(RecordingReport {
        recordings: calls,
        seconds: f64::from(seconds),
        disk_bytes_per_s: bytes as f64 / wall,
        dropped_frames: dropped,
        finished,
        shard_busy: busy.as_secs_f64() / f64::from(seconds),
    })
}

/// A jitter buffer with a steady stream flowing through it.
pub struct JitterRig {
    jb: JitterBuffer,
    payload: Vec<u8>,
    now: Micros,
    seq: u16,
    ts: u32,
    out: [i16; 160],
}

impl JitterRig {
    /// An adaptive buffer, warmed up.
    pub fn new() -> JitterRig {
        let mut payload = vec![0u8; 160];
        g711::encode_frame(Law::Ulaw, &speech_frame(), &mut payload);
        let mut rig = JitterRig {
            jb: JitterBuffer::new(JitterConfig::default()),
            payload,
            now: Micros::ZERO,
            seq: 0,
            ts: 0,
            out: [0; 160],
        };
        for _ in 0..50 {
            rig.cycle();
        }
        rig
    }

    /// One packet in, one frame out. Returns a sample, so the work cannot be elided.
    pub fn cycle(&mut self) -> i16 {
        self.now += Micros::from_ms(20);
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
        self.jb
            .insert(self.now, self.seq, self.ts, Law::Ulaw, &self.payload);
        self.jb.pop(self.now + Micros::from_ms(5), &mut self.out);
        self.out[80]
    }
}

impl Default for JitterRig {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rigs_produce_the_expected_traffic() {
        let mut b = MediaRig::bridges(10, false);
        assert_eq!(b.period(), 20, "pass-through relays every packet");
        let mut bb = MediaRig::bridges(10, true);
        assert_eq!(bb.period(), 20, "buffered: one frame per leg per tick");
        let mut r = MediaRig::room(5);
        assert_eq!(r.period(), 5, "every participant hears the room");
        assert_eq!(r.legs(), 5);
        let mut j = JitterRig::new();
        j.cycle();
    }

    #[test]
    fn recordings_under_load_are_complete() {
        let dir = tempfile::tempdir().unwrap();
        let r = recording_load(20, 1, dir.path()).unwrap();
        assert_eq!((r.finished, r.dropped_frames), (20, 0));
        // Stereo PCM16 is 32,000 bytes per second per call.
        let expected = 20.0 * 32_000.0;
        assert!(
            r.disk_bytes_per_s > 0.5 * expected && r.disk_bytes_per_s < 1.5 * expected,
            "{r:?}"
        );
    }
}
