//! The conference generator's streams: what each participant sends, and what each one, as
//! a listener, hears in its mix (see the [module](super) for what is counted).

use hdrhistogram::Histogram;
use mio::net::UdpSocket;
use tandem_codecs::rtp::RtpPacket;
use tandem_udp::clock::monotonic_ns;

use super::ConferenceReport;
use crate::paced::PacedStreams;
use crate::probe::{self, FRAME_LEN, ProbeKind, SILENCE, SLOT_LEN, Slot};
use crate::rtp_out::{self, PACKET_LEN, RtpSender};
use crate::track::{Arrival, RtpStream, SeqTracker};

/// Send times kept per stream for latency look-ups (5.12 s at 50 packets/s).
const SEND_RING: usize = 256;

/// Largest latency the histograms hold: 60 s in ns.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// Every participant of every room, as talker and as listener.
pub(super) struct Listeners<'a> {
    sockets: &'a [UdpSocket],
    k: usize,
    warm: u64,
    /// Frames each stream sends in all (warm-up and marks).
    total_rounds: u64,
    packet: [u8; PACKET_LEN],
    out: Vec<RtpSender>,
    /// Frames sent per stream, warm-up included.
    sends: Vec<u64>,
    /// Marked frames sent per stream (= the next mark's sequence number).
    marks_sent: Vec<u32>,
    /// Per stream, the send time of its recent marks, by sequence number modulo the ring.
    ring_ns: Vec<u64>,
    ring_seq: Vec<u32>,
    /// Per listener: its mix stream, by the room's RTP sequence numbers.
    mix: Vec<RtpStream>,
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

impl<'a> Listeners<'a> {
    /// `sockets` in rooms of `k`, sending `warm` silent frames then `rounds` marked ones.
    pub(super) fn new(sockets: &'a [UdpSocket], k: usize, warm: u64, rounds: u64) -> Listeners<'a> {
        let n = sockets.len();
        let hist = || Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds");
        Listeners {
            sockets,
            k,
            warm,
            total_rounds: warm + rounds,
            packet: rtp_out::template(),
            out: (0..n).map(|_| RtpSender::random()).collect(),
            sends: vec![0; n],
            marks_sent: vec![0; n],
            ring_ns: vec![0; n * SEND_RING],
            ring_seq: vec![u32::MAX; n * SEND_RING],
            mix: vec![RtpStream::default(); n],
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

    /// The figures of the run: a mark phase of `duration_s`, the thread's CPU time.
    pub(super) fn report(&self, duration_s: f64, loadgen_cpu_s: f64) -> ConferenceReport {
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
                let pair = &self.pairs[listener * k + slot];
                let want = u64::from(self.marks_sent[talker]);
                heard += pair.received;
                // The talker counted every mark it sent: loss against that.
                lost += pair.lost_of(want);
                unheard += u64::from(pair.received == 0 && want > 0);
            }
        }
        let expected = sent * (k as u64 - 1);
        ConferenceReport {
            rooms: n / k,
            participants_per_room: k,
            participants: n,
            duration_s,
            sent,
            mix_received: self.mix.iter().map(|m| m.tracker().received).sum(),
            // The room numbers its mix: loss over the sequence range each listener saw.
            mix_lost: self.mix.iter().map(RtpStream::lost).sum(),
            mix_reordered: self.mix.iter().map(|m| m.tracker().reordered).sum(),
            mix_duplicates: self.mix.iter().map(|m| m.tracker().duplicates).sum(),
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

impl PacedStreams for Listeners<'_> {
    /// Stream `j`'s next frame, due at `due_ns`: silence during warm-up, then its mark.
    fn send(&mut self, j: usize, due_ns: u64) {
        let marked = self.sends[j] >= self.warm;
        if marked && self.unprimed.is_none() {
            self.unprimed = Some(self.primed.iter().filter(|&&p| !p).count());
        }
        self.out[j].next_header(&mut self.packet);
        self.sends[j] += 1;
        let slot = j % self.k;
        let frame = rtp_out::frame_mut(&mut self.packet);
        let seq = self.marks_sent[j];
        if marked {
            probe::write_mark(frame, slot, ProbeKind::Measure, j as u32, seq);
        }
        let now = monotonic_ns();
        self.send_lag
            .saturating_record(now.saturating_sub(due_ns).max(1));
        let sent = self.sockets[j].send(&self.packet).is_ok();
        // Back to a silent template for the next stream.
        rtp_out::frame_mut(&mut self.packet)[slot * SLOT_LEN..][..SLOT_LEN].fill(SILENCE);
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
            let m = match probe::read(frame, slot) {
                Slot::Silent => continue,
                Slot::Mark(m) if m.kind == ProbeKind::Measure => m,
                // Neither silence nor a talker's mark (a time slot or a priming mark is
                // nothing a participant sends). Once a talker has sent its last frame the
                // jitter buffer conceals its silence-to-come from the last mark (repeats,
                // fading): expected, not damage.
                _ => {
                    if self.talking(room * k + slot) {
                        self.counts.damaged += 1;
                    } else {
                        self.counts.tail_concealed += 1;
                    }
                    continue;
                }
            };
            let talker = m.stream as usize;
            if talker >= self.sockets.len() || talker / k != room {
                self.counts.cross_talk += 1;
            } else if talker == j {
                self.counts.echo += 1;
            } else if talker % k != slot || slot == me {
                self.counts.damaged += 1;
            } else {
                let seq = probe::unwrap_seq(m.seq, self.marks_sent[talker]);
                if self.pairs[j * k + slot].record(seq) != Arrival::Duplicate {
                    let r = talker * SEND_RING + seq as usize % SEND_RING;
                    if self.ring_seq[r] == seq {
                        self.latency
                            .saturating_record(rx_ns.saturating_sub(self.ring_ns[r]).max(1));
                    } else {
                        self.counts.latency_unknown += 1;
                    }
                }
            }
        }
        if !probe::silent_from(frame, k * SLOT_LEN) {
            self.counts.damaged += 1;
        }
    }
}
