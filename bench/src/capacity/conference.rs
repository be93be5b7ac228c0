//! Conference load: rooms of K participants, every participant talking, every listener
//! checking what the mix brings it.
//!
//! Each participant owns one non-blocking UDP socket connected to its channel's port in the
//! room, and sends one PCMU packet per period (50 packets/s), phases spread over the period
//! as in the two-party generator. The payload is a [`super::mixmark`] frame: the
//! participant's mark in its own slot, silence elsewhere. So the mix a listener receives
//! carries, in one frame, the marks of all the other participants of its room, and for each
//! (listener, talker) pair the generator counts marks heard against marks sent, reordering,
//! duplicates, and one-way latency from the talker's send to the listener's receive (the
//! room's jitter-buffer delay and tick wait included: that is what a conference adds).
//! Marks from another room's participants are cross-talk; a participant's own mark coming
//! back is an echo (the room must subtract the listener's own voice); a slot that is neither
//! silence nor an intact mark is damaged (concealment, or a mix that altered samples).
//! The mix stream's own RTP sequence numbers give its loss and reordering.
//!
//! A run: a warm-up of `warmup` (silent frames on the same schedule, so the relay latches
//! every participant and the jitter buffers settle on a steady stream with no gap before
//! the marks start), `duration` of marks, then `drain` to receive what is in flight.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;
use std::time::Duration;

use hdrhistogram::Histogram;
use mio::net::UdpSocket;
use serde::{Deserialize, Serialize};
use tandem_codecs::rtp::{self, FIXED_HEADER_LEN, RtpPacket};

use super::clock::monotonic_ns;
use super::mixmark::{self, FRAME_LEN, MAX_PARTICIPANTS, MAX_STREAM, SILENCE, SLOT_LEN, Slot};
use super::mmsg;
use super::os;
use super::paced::{PacedStreams, PacedThread};
use super::pacer::Pacer;
use super::rtp_out::{PACKET_LEN, PCMU, SAMPLES_PER_PACKET};
use super::seqtrack::{Arrival, SeqTracker};

/// Send times kept per stream for latency look-ups (5.12 s at 50 packets/s).
const SEND_RING: usize = 256;

/// Largest latency the histograms hold: 60 s in ns.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// Smallest room the conference mode accepts (two parties is the bridged mode).
pub const MIN_PARTICIPANTS: usize = 3;

/// How a conference run is shaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConferenceConfig {
    /// Participants per room, [`MIN_PARTICIPANTS`]..=[`MAX_PARTICIPANTS`].
    pub participants: usize,
    /// How long every participant sends marks.
    pub duration: Duration,
    /// Silent frames before the marks (latching, jitter buffers settling).
    pub warmup: Duration,
    /// Time after the last send for frames in flight (the jitter buffer holds some).
    pub drain: Duration,
    /// Packet interval (20 ms).
    pub period: Duration,
    /// Shortest sleep between loop turns (see [`LoadGenConfig::tick`](super::LoadGenConfig)).
    pub tick: Duration,
    /// Pin the generator's thread to this CPU.
    pub cpu: Option<usize>,
}

impl Default for ConferenceConfig {
    fn default() -> ConferenceConfig {
        ConferenceConfig {
            participants: 3,
            duration: Duration::from_secs(10),
            warmup: Duration::from_millis(500),
            drain: Duration::from_millis(400),
            period: Duration::from_millis(20),
            tick: Duration::from_micros(50),
            cpu: None,
        }
    }
}

/// Why a conference run cannot start.
fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// What a conference run measured. "Marks" are talker→listener deliveries: each packet a
/// participant sends should reach the K−1 others of its room. Latencies in µs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConferenceReport {
    /// Rooms.
    pub rooms: usize,
    /// Participants per room.
    pub participants_per_room: usize,
    /// Participants in all.
    pub participants: usize,
    /// Length of the mark phase, s.
    pub duration_s: f64,
    /// Marked packets the participants sent.
    pub sent: u64,
    /// Mix packets received (unique, warm-up included).
    pub mix_received: u64,
    /// Mix packets missing from the listeners' streams (gaps in the RTP sequence).
    pub mix_lost: u64,
    /// Mix packets that arrived after a later one.
    pub mix_reordered: u64,
    /// Extra copies of mix packets.
    pub mix_duplicates: u64,
    /// Marks that should have been heard: `sent × (K − 1)`.
    pub marks_expected: u64,
    /// Marks heard (unique).
    pub marks_heard: u64,
    /// `marks_expected − marks_heard`.
    pub marks_lost: u64,
    /// `marks_lost / marks_expected`.
    pub loss_ratio: f64,
    /// Marks heard after a later mark of the same talker.
    pub marks_reordered: u64,
    /// Marks heard twice.
    pub marks_duplicates: u64,
    /// Marks of another room's participants (cross-talk).
    pub cross_talk: u64,
    /// A listener's own mark in its mix (its voice not subtracted).
    pub echo: u64,
    /// Slots neither silent nor an intact mark of the slot's participant (concealed or
    /// altered audio) while that participant was sending marks.
    pub damaged_slots: u64,
    /// Such slots after the participant's last frame: the jitter buffer concealing the end
    /// of its stream (expected; not counted as damage).
    pub tail_concealed: u64,
    /// Datagrams that were not 160-byte RTP frames.
    pub malformed: u64,
    /// (listener, talker) pairs of a room with no mark heard at all.
    pub pairs_unheard: u64,
    /// Participants that had received nothing when the marks started.
    pub unprimed: usize,
    /// Median talker→listener latency, µs.
    pub latency_p50_us: f64,
    /// 99th percentile, µs.
    pub latency_p99_us: f64,
    /// 99.9th percentile, µs.
    pub latency_p999_us: f64,
    /// Largest, µs.
    pub latency_max_us: f64,
    /// Marks heard too late for their send time to be kept (over 5 s).
    pub latency_unknown: u64,
    /// Sends the kernel refused.
    pub send_errors: u64,
    /// 99th percentile of send lateness, µs.
    pub send_lag_p99_us: f64,
    /// Largest send lateness, µs.
    pub send_lag_max_us: f64,
    /// CPU time of the generator's thread, s.
    pub loadgen_cpu_s: f64,
}

/// Runs conference load on the calling thread: `ports` are the rooms' channel ports, room by
/// room, `config.participants` per room.
pub fn run_conference(
    ports: &[SocketAddr],
    config: &ConferenceConfig,
) -> io::Result<ConferenceReport> {
    let k = config.participants;
    if !(MIN_PARTICIPANTS..=MAX_PARTICIPANTS).contains(&k) {
        return Err(invalid(format!(
            "rooms need {MIN_PARTICIPANTS} to {MAX_PARTICIPANTS} participants (each talker's \
             mark has its own {SLOT_LEN}-byte slot of the 160-byte frame), not {k}"
        )));
    }
    if ports.is_empty() || ports.len() % k != 0 {
        return Err(invalid(format!(
            "{} ports are not whole rooms of {k}",
            ports.len()
        )));
    }
    if ports.len() > MAX_STREAM as usize + 1 {
        return Err(invalid(format!(
            "at most {} participants per run",
            MAX_STREAM + 1
        )));
    }
    if config.period.is_zero() {
        return Err(invalid("the send period must be positive".into()));
    }
    os::raise_open_files_limit(ports.len() as u64 + 256)?;
    let mut sockets = Vec::with_capacity(ports.len());
    for &remote in ports {
        let local = match remote {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let s = std::net::UdpSocket::bind(SocketAddr::new(local, 0))?;
        s.connect(remote)?;
        s.set_nonblocking(true)?;
        mmsg::enable_rx_timestamps(s.as_fd())?;
        sockets.push(UdpSocket::from_std(s));
    }
    run_sockets(&mut sockets, config)
}

fn run_sockets(
    sockets: &mut [UdpSocket],
    config: &ConferenceConfig,
) -> io::Result<ConferenceReport> {
    let mut thread = PacedThread::start(sockets, config.cpu)?;
    let sockets = thread.sockets();
    let period_ns = config.period.as_nanos() as u64;
    let warm = config.warmup.as_nanos().div_ceil(u128::from(period_ns)) as u64;
    let rounds = config.duration.as_nanos().div_ceil(u128::from(period_ns)) as u64;
    let mut st = State::new(sockets, config.participants, warm, rounds);
    let pacer = Pacer::new(sockets.len(), period_ns, monotonic_ns(), warm + rounds);
    thread.run(pacer, config.drain, config.tick, &mut st)?;
    let cpu_s = thread.cpu_used()?.as_secs_f64();
    Ok(st.report(config.duration.as_secs_f64(), cpu_s))
}

/// RTP state of one participant's outgoing stream.
#[derive(Clone, Copy)]
struct Outgoing {
    ssrc: u32,
    seq: u16,
    ts: u32,
}

/// The mix stream a participant receives: unwraps the engine's 16-bit sequence numbers.
#[derive(Clone, Copy, Default)]
struct MixStream {
    tracker: SeqTracker,
    last: u32,
    lowest: u32,
    highest: u32,
}

impl MixStream {
    /// Extended sequence numbers start high so a packet from before the first one seen
    /// still unwraps to a smaller number.
    const START: u32 = 1 << 30;

    fn record(&mut self, seq16: u16) -> Arrival {
        let ext = if self.tracker.received == 0 && self.tracker.duplicates == 0 {
            self.lowest = Self::START + u32::from(seq16);
            self.highest = self.lowest;
            self.lowest
        } else {
            let d = seq16.wrapping_sub(self.last as u16) as i16;
            self.last.wrapping_add_signed(i32::from(d))
        };
        self.last = ext;
        self.lowest = self.lowest.min(ext);
        self.highest = self.highest.max(ext);
        self.tracker.record(ext)
    }

    fn lost(&self) -> u64 {
        if self.tracker.received == 0 {
            return 0;
        }
        u64::from(self.highest - self.lowest + 1).saturating_sub(self.tracker.received)
    }
}

struct State<'a> {
    sockets: &'a [UdpSocket],
    k: usize,
    warm: u64,
    /// Frames each stream sends in all (warm-up and marks).
    total_rounds: u64,
    packet: [u8; PACKET_LEN],
    out: Vec<Outgoing>,
    /// Frames sent per stream, warm-up included.
    sends: Vec<u64>,
    /// Marked frames sent per stream (= the next mark's sequence number).
    marks_sent: Vec<u32>,
    /// Per stream, the send time of its recent marks, by sequence number modulo the ring.
    ring_ns: Vec<u64>,
    ring_seq: Vec<u32>,
    mix: Vec<MixStream>,
    /// Per (listener, slot): marks heard from that slot's talker.
    pairs: Vec<SeqTracker>,
    primed: Vec<bool>,
    unprimed: Option<usize>,
    latency: Histogram<u64>,
    send_lag: Histogram<u64>,
    counts: Counts,
}

#[derive(Default)]
struct Counts {
    cross_talk: u64,
    echo: u64,
    damaged: u64,
    tail_concealed: u64,
    malformed: u64,
    latency_unknown: u64,
    send_errors: u64,
}

impl<'a> State<'a> {
    fn new(sockets: &'a [UdpSocket], k: usize, warm: u64, rounds: u64) -> State<'a> {
        let n = sockets.len();
        let hist = || Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds");
        let mut packet = [SILENCE; PACKET_LEN];
        rtp::RtpHeader {
            payload_type: PCMU,
            ..Default::default()
        }
        .write_into(&mut packet, &[SILENCE; FRAME_LEN])
        .expect("a 172-byte buffer holds a PCMU packet");
        State {
            sockets,
            k,
            warm,
            total_rounds: warm + rounds,
            packet,
            out: (0..n)
                .map(|_| Outgoing {
                    ssrc: rand::random(),
                    seq: rand::random(),
                    ts: rand::random(),
                })
                .collect(),
            sends: vec![0; n],
            marks_sent: vec![0; n],
            ring_ns: vec![0; n * SEND_RING],
            ring_seq: vec![u32::MAX; n * SEND_RING],
            mix: vec![MixStream::default(); n],
            pairs: vec![SeqTracker::default(); n * k],
            primed: vec![false; n],
            unprimed: None,
            latency: hist(),
            send_lag: hist(),
            counts: Counts::default(),
        }
    }

    /// Whether `talker` has started its marks and not sent its last frame.
    fn talking(&self, talker: usize) -> bool {
        self.marks_sent[talker] > 0 && self.sends[talker] < self.total_rounds
    }

    fn report(&self, duration_s: f64, loadgen_cpu_s: f64) -> ConferenceReport {
        let n = self.sockets.len();
        let k = self.k;
        let us = |h: &Histogram<u64>, q: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(q) as f64 / 1000.0
            }
        };
        let sent: u64 = self.marks_sent.iter().map(|&s| u64::from(s)).sum();
        let (mut heard, mut lost, mut unheard) = (0, 0, 0);
        for listener in 0..n {
            for slot in 0..k {
                if slot == listener % k {
                    continue;
                }
                let talker = listener - listener % k + slot;
                let got = self.pairs[listener * k + slot].received;
                let want = u64::from(self.marks_sent[talker]);
                heard += got;
                lost += want.saturating_sub(got);
                unheard += u64::from(got == 0 && want > 0);
            }
        }
        let expected = sent * (k as u64 - 1);
        ConferenceReport {
            rooms: n / k,
            participants_per_room: k,
            participants: n,
            duration_s,
            sent,
            mix_received: self.mix.iter().map(|m| m.tracker.received).sum(),
            mix_lost: self.mix.iter().map(MixStream::lost).sum(),
            mix_reordered: self.mix.iter().map(|m| m.tracker.reordered).sum(),
            mix_duplicates: self.mix.iter().map(|m| m.tracker.duplicates).sum(),
            marks_expected: expected,
            marks_heard: heard,
            marks_lost: lost,
            loss_ratio: if expected == 0 {
                0.0
            } else {
                lost as f64 / expected as f64
            },
            marks_reordered: self.pairs.iter().map(|p| p.reordered).sum(),
            marks_duplicates: self.pairs.iter().map(|p| p.duplicates).sum(),
            cross_talk: self.counts.cross_talk,
            echo: self.counts.echo,
            damaged_slots: self.counts.damaged,
            tail_concealed: self.counts.tail_concealed,
            malformed: self.counts.malformed,
            pairs_unheard: unheard,
            unprimed: self.unprimed.unwrap_or(n),
            latency_p50_us: us(&self.latency, 0.5),
            latency_p99_us: us(&self.latency, 0.99),
            latency_p999_us: us(&self.latency, 0.999),
            latency_max_us: us(&self.latency, 1.0),
            latency_unknown: self.counts.latency_unknown,
            send_errors: self.counts.send_errors,
            send_lag_p99_us: us(&self.send_lag, 0.99),
            send_lag_max_us: us(&self.send_lag, 1.0),
            loadgen_cpu_s,
        }
    }
}

impl PacedStreams for State<'_> {
    /// Stream `j`'s next frame, due at `due_ns`: silence during warm-up, then its mark.
    fn send(&mut self, j: usize, due_ns: u64) {
        let marked = self.sends[j] >= self.warm;
        if marked && self.unprimed.is_none() {
            self.unprimed = Some(self.primed.iter().filter(|&&p| !p).count());
        }
        let o = &mut self.out[j];
        rtp::rewrite_header(&mut self.packet, self.sends[j] == 0, o.seq, o.ts, o.ssrc)
            .expect("the packet is longer than the fixed header");
        o.seq = o.seq.wrapping_add(1);
        o.ts = o.ts.wrapping_add(SAMPLES_PER_PACKET);
        self.sends[j] += 1;
        let slot = j % self.k;
        let frame: &mut [u8; FRAME_LEN] = (&mut self.packet[FIXED_HEADER_LEN..])
            .try_into()
            .expect("160-byte payload");
        let seq = self.marks_sent[j];
        if marked {
            mixmark::write(frame, slot, j as u32, seq);
        }
        let now = monotonic_ns();
        self.send_lag
            .saturating_record(now.saturating_sub(due_ns).max(1));
        let sent = self.sockets[j].send(&self.packet).is_ok();
        // Back to a silent template for the next stream.
        self.packet[FIXED_HEADER_LEN + slot * SLOT_LEN..][..SLOT_LEN].fill(SILENCE);
        if !marked {
            return;
        }
        if sent {
            let r = j * SEND_RING + seq as usize % SEND_RING;
            self.ring_ns[r] = now;
            self.ring_seq[r] = seq;
            self.marks_sent[j] += 1;
        } else {
            self.counts.send_errors += 1;
        }
    }

    /// Accounts `datagram`, the mix received by participant `j` at `rx_ns`.
    fn on_datagram(&mut self, j: usize, datagram: &[u8], rx_ns: u64) {
        let Ok(pkt) = RtpPacket::parse(datagram) else {
            self.counts.malformed += 1;
            return;
        };
        let Ok(frame) = <&[u8; FRAME_LEN]>::try_from(pkt.payload()) else {
            self.counts.malformed += 1;
            return;
        };
        self.primed[j] = true;
        if self.mix[j].record(pkt.sequence()) == Arrival::Duplicate {
            return;
        }
        let k = self.k;
        let room = j / k;
        let me = j % k;
        for slot in 0..k {
            match mixmark::read(frame, slot) {
                Slot::Silent => {}
                // Once a talker has sent its last frame the jitter buffer conceals its
                // silence-to-come from the last mark (repeats, fading): expected, not damage.
                Slot::Damaged if self.talking(room * k + slot) => self.counts.damaged += 1,
                Slot::Damaged => self.counts.tail_concealed += 1,
                Slot::Mark(m) => {
                    let talker = m.stream as usize;
                    if talker >= self.sockets.len() || talker / k != room {
                        self.counts.cross_talk += 1;
                    } else if talker == j {
                        self.counts.echo += 1;
                    } else if talker % k != slot || slot == me {
                        self.counts.damaged += 1;
                    } else {
                        let seq = mixmark::unwrap_seq(m.seq, self.marks_sent[talker]);
                        if self.pairs[j * k + slot].record(seq) != Arrival::Duplicate {
                            let r = talker * SEND_RING + seq as usize % SEND_RING;
                            if self.ring_seq[r] == seq {
                                self.latency.saturating_record(
                                    rx_ns.saturating_sub(self.ring_ns[r]).max(1),
                                );
                            } else {
                                self.counts.latency_unknown += 1;
                            }
                        }
                    }
                }
            }
        }
        if !mixmark::silent_from(frame, k * SLOT_LEN) {
            self.counts.damaged += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_codecs::g711::{Law, decode_frame, encode_frame};

    /// A stand-in room on one thread: latches each participant's address from its packets
    /// and, for every packet it receives, sends every other participant `sum − own` of the
    /// latest frames (a crude mixer, but with the room's arithmetic); `leak` also sends each
    /// mix to the next room's first participant.
    fn toy_rooms(
        rooms: usize,
        k: usize,
        leak: bool,
        run: Duration,
    ) -> (Vec<SocketAddr>, std::thread::JoinHandle<()>) {
        let socks: Vec<std::net::UdpSocket> = (0..rooms * k)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports = socks.iter().map(|s| s.local_addr().unwrap()).collect();
        for s in &socks {
            s.set_nonblocking(true).unwrap();
        }
        let h = std::thread::spawn(move || {
            let n = socks.len();
            let mut peer = vec![None; n];
            let mut last = vec![[SILENCE; FRAME_LEN]; n];
            let mut seq = vec![0u16; n];
            let end = std::time::Instant::now() + run;
            let mut buf = [0u8; 2048];
            while std::time::Instant::now() < end {
                let mut idle = true;
                for j in 0..n {
                    let Ok((len, from)) = socks[j].recv_from(&mut buf) else {
                        continue;
                    };
                    idle = false;
                    peer[j] = Some(from);
                    last[j].copy_from_slice(&buf[FIXED_HEADER_LEN..len]);
                    let room = j / k;
                    for l in room * k..room * k + k {
                        if l == j {
                            continue;
                        }
                        let mut sum = [0i32; FRAME_LEN];
                        for (t, frame) in last.iter().enumerate().skip(room * k).take(k) {
                            if t != l {
                                let mut p = [0i16; FRAME_LEN];
                                decode_frame(Law::Ulaw, frame, &mut p);
                                for (s, v) in sum.iter_mut().zip(p) {
                                    *s += i32::from(v);
                                }
                            }
                        }
                        let pcm: Vec<i16> =
                            sum.iter().map(|&s| s.clamp(-32768, 32767) as i16).collect();
                        let mut pkt = vec![0u8; PACKET_LEN];
                        rtp::RtpHeader {
                            payload_type: 0,
                            sequence: seq[l],
                            ssrc: l as u32,
                            ..Default::default()
                        }
                        .write_into(&mut pkt, &[0; FRAME_LEN])
                        .unwrap();
                        encode_frame(Law::Ulaw, &pcm, &mut pkt[FIXED_HEADER_LEN..]);
                        seq[l] = seq[l].wrapping_add(1);
                        if let Some(to) = peer[l] {
                            let _ = socks[l].send_to(&pkt, to);
                        }
                        if leak && l == room * k + 1 {
                            let other = ((room + 1) % (n / k)) * k;
                            if let Some(to) = peer[other] {
                                let _ = socks[other].send_to(&pkt, to);
                            }
                        }
                    }
                }
                if idle {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        (ports, h)
    }

    fn config(k: usize) -> ConferenceConfig {
        ConferenceConfig {
            participants: k,
            duration: Duration::from_millis(400),
            warmup: Duration::from_millis(100),
            drain: Duration::from_millis(100),
            ..ConferenceConfig::default()
        }
    }

    #[test]
    fn a_mixer_that_keeps_samples_delivers_every_mark() {
        let (ports, h) = toy_rooms(2, 3, false, Duration::from_secs(2));
        let r = run_conference(&ports, &config(3)).unwrap();
        h.join().unwrap();
        assert_eq!((r.rooms, r.participants), (2, 6));
        assert_eq!(r.sent, 6 * 20, "{r:?}");
        assert_eq!(r.marks_expected, r.sent * 2);
        // The toy mixes once per received packet, so each mark is heard (usually more than
        // once: the later copies are duplicates).
        assert_eq!(r.marks_heard, r.marks_expected, "{r:?}");
        assert_eq!((r.marks_lost, r.pairs_unheard), (0, 0));
        assert_eq!((r.cross_talk, r.echo, r.malformed), (0, 0, 0), "{r:?}");
        assert_eq!(r.unprimed, 0);
        assert!(r.latency_p50_us > 0.0 && r.latency_max_us >= r.latency_p99_us);
    }

    #[test]
    fn leaked_mixes_are_cross_talk() {
        let (ports, h) = toy_rooms(2, 3, true, Duration::from_secs(2));
        let r = run_conference(&ports, &config(3)).unwrap();
        h.join().unwrap();
        assert!(r.cross_talk > 0, "{r:?}");
    }

    #[test]
    fn nobody_mixing_means_every_mark_lost() {
        let sinks: Vec<std::net::UdpSocket> = (0..3)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports: Vec<SocketAddr> = sinks.iter().map(|s| s.local_addr().unwrap()).collect();
        let r = run_conference(&ports, &config(3)).unwrap();
        assert_eq!(r.sent, 3 * 20);
        assert_eq!((r.marks_heard, r.marks_lost), (0, r.sent * 2));
        assert_eq!((r.loss_ratio, r.pairs_unheard, r.unprimed), (1.0, 6, 3));
    }

    #[test]
    fn bad_shapes_are_refused() {
        let p: Vec<SocketAddr> = (0..6)
            .map(|i| SocketAddr::from(([127, 0, 0, 1], 9000 + i)))
            .collect();
        for (ports, k) in [(&p[..], 2), (&p[..], 21), (&p[..4], 3), (&p[..0], 3)] {
            let e = run_conference(ports, &config(k)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{k}: {e}");
        }
    }

    #[test]
    fn mix_stream_counts_gaps_across_a_wrap() {
        let mut m = MixStream::default();
        for s in [65_534u16, 65_535, 1, 0, 2, 2] {
            m.record(s);
        }
        assert_eq!(m.tracker.received, 5);
        assert_eq!(
            (m.lost(), m.tracker.reordered, m.tracker.duplicates),
            (0, 1, 1)
        );
        m.record(5);
        assert_eq!(m.lost(), 2);
    }
}
