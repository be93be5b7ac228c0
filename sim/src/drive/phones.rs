//! The simulated phones on the far side of drive mode's channels.
//!
//! Every phone that talks sends 50 packets/s of voice (a tone with a marker naming its
//! stream, packet number and send time, [`super::signal`]) and checks what it receives
//! against the stream it expects to hear ([`super::quality`]): packets, loss, jitter and
//! one-way latency, and anything that should not reach it (another call's voice, a stranger's
//! packets, malformed datagrams). A supervisor only listens.

use std::net::SocketAddr;

use hdrhistogram::Histogram;
use tandem_codecs::rtp::RtpPacket;

use super::call_progress::MAX_HEARD;
use super::quality::{RtpRx, StreamRx};
use super::report::Counters;
use super::signal::{
    AGENT_HZ, CALLER_HZ, FRAME_BYTES, Marker, Voice, read_marker, write_marker, write_rtp_header,
};
use super::transport::Net;
use tandem_codecs::progress::{ProgressDetector, ProgressEvent};

const RTP_HEADER: usize = 12;

/// Who a phone is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Caller,
    Agent,
    Supervisor,
}

/// A simulated phone.
pub(super) struct Phone {
    engine_addr: SocketAddr,
    sends: bool,
    voice: usize,
    /// The stream its voice is marked with.
    pub stream: u32,
    seq: u32,
    rtp_seq: u16,
    ts: u32,
    ssrc: u32,
    first_packet: bool,
    /// The far party's stream, while in conversation.
    expect: Option<u32>,
    /// A supervisor's: the two parties' streams (mixing keeps a marker when only one
    /// party's frame is in the mix).
    overhear: [Option<u32>; 2],
    /// What it heard of the far party's stream.
    pub rx: StreamRx,
    /// The engine's output stream as RTP (sequence numbers: loss on the downlink).
    pub rtp: RtpRx,
    /// Keys still to press, and the packet of the key being pressed now.
    keypad: Keypad,
    /// A call-progress detector on what the phone hears (a dialling agent's).
    progress: Option<Box<ProgressDetector>>,
    /// What the detector reported (at most [`MAX_HEARD`]).
    heard: Vec<ProgressEvent>,
}

/// Keys a phone presses as RFC 4733 telephone-events, in place of its voice: each key is
/// [`KEY_UPDATES`] packets 20 ms apart with a growing duration, then three end packets
/// with the final duration (the redundancy RFC 4733 asks for), all with the key's start
/// timestamp.
#[derive(Debug, Default)]
struct Keypad {
    queued: std::collections::VecDeque<u8>,
    /// The key being sent, the packet number within it, and its start timestamp.
    current: Option<(u8, u16, u32)>,
    /// In-band keys still to send: G.711 µ-law samples of their tones and pauses.
    tones: std::collections::VecDeque<u8>,
    /// In-band keys pressed whose tones have not started yet.
    tone_keys: u64,
}

/// Telephone-event payload type the phones use (the engine's default for PCMU calls).
pub(super) const EVENT_PT: u8 = 101;
/// Update packets per key (100 ms of key), before the three end packets.
const KEY_UPDATES: u16 = 5;
/// Volume of the keys, −dBm0.
const KEY_VOLUME: u8 = 10;
/// An in-band key's tone, and the pause after it, ms.
const INBAND_ON_MS: u32 = 100;
const INBAND_OFF_MS: u32 = 60;
/// G.711 µ-law silence.
const ULAW_SILENCE: u8 = 0xFF;

impl Phone {
    /// From now on the phone hears `far`'s voice (a conversation starts): its measurements
    /// start afresh.
    pub fn listen_to(&mut self, far: Option<u32>) {
        self.expect = far;
        self.rx = StreamRx::default();
    }

    /// Presses `key` (`0`–`9`, `*`, `#`, `A`–`D`) after any keys still queued; returns
    /// whether it is a key.
    pub fn press(&mut self, key: char) -> bool {
        match tandem_codecs::telephone_event::char_to_event(key) {
            Some(e) => {
                self.keypad.queued.push_back(e);
                true
            }
            None => false,
        }
    }

    /// Presses `key` as an in-band tone in the audio (ITU-T Q.23 frequencies, 100 ms at
    /// −10 dBm0 per frequency, then 60 ms of silence) after any keys still queued; returns
    /// whether it is a key.
    pub fn press_inband(&mut self, key: char) -> bool {
        if tandem_codecs::tone::dtmf_freqs(key).is_none() {
            return false;
        }
        let pcm = tandem_codecs::tone::dtmf_sequence(
            &key.to_string(),
            INBAND_ON_MS,
            INBAND_OFF_MS,
            -10.0,
        );
        let k = &mut self.keypad;
        k.tones
            .extend(pcm.iter().map(|&x| tandem_codecs::g711::linear_to_ulaw(x)));
        // Whole frames: the tones end on a frame boundary.
        while k.tones.len() % FRAME_BYTES != 0 {
            k.tones.push_back(ULAW_SILENCE);
        }
        k.tone_keys += 1;
        true
    }

    /// Whether the phone has keys still to send.
    pub fn keying(&self) -> bool {
        self.keypad.current.is_some()
            || !self.keypad.queued.is_empty()
            || !self.keypad.tones.is_empty()
    }

    /// From now on a call-progress detector listens to what the phone hears.
    pub fn listen_for_progress(&mut self) {
        self.progress = Some(Box::new(ProgressDetector::with_defaults()));
        self.heard.clear();
    }

    /// What the call-progress detector reported; the detector stops listening.
    pub fn take_heard(&mut self) -> Vec<ProgressEvent> {
        self.progress = None;
        std::mem::take(&mut self.heard)
    }

    /// A supervisor's: the two parties whose unmixed frames it may hear.
    pub fn overhear(&mut self, parties: [Option<u32>; 2]) {
        self.overhear = parties;
    }
}

/// Every phone of a run, by endpoint, and the voices they speak with.
pub(super) struct Phones {
    phones: Vec<Option<Phone>>,
    /// Endpoints with a phone, in the order they are served each frame.
    live: Vec<usize>,
    voices: [Voice; 2],
    packet: [u8; RTP_HEADER + FRAME_BYTES],
    /// One-way latency of every voice packet received, µs.
    pub latencies: Histogram<u64>,
}

impl Phones {
    /// No phones yet.
    pub fn new() -> Phones {
        Phones {
            phones: Vec::new(),
            live: Vec::new(),
            voices: [Voice::new(CALLER_HZ), Voice::new(AGENT_HZ)],
            packet: [0; RTP_HEADER + FRAME_BYTES],
            latencies: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("valid histogram bounds"),
        }
    }

    /// Puts a phone on endpoint `ep`, talking to the engine's `engine_addr`, as party `role`
    /// of call `serial`; `random` seeds its RTP sequence, timestamp and SSRC. Returns how
    /// many phones are live.
    pub fn add(
        &mut self,
        ep: usize,
        engine_addr: SocketAddr,
        role: Role,
        serial: u32,
        random: u64,
    ) -> usize {
        let phone = Phone {
            engine_addr,
            sends: role != Role::Supervisor,
            voice: usize::from(role == Role::Agent),
            stream: serial.wrapping_mul(4) + role as u32,
            seq: 0,
            rtp_seq: random as u16,
            ts: (random >> 16) as u32,
            ssrc: (random >> 32) as u32,
            first_packet: true,
            expect: None,
            overhear: [None; 2],
            rx: StreamRx::default(),
            rtp: RtpRx::default(),
            keypad: Keypad::default(),
            progress: None,
            heard: Vec::new(),
        };
        if self.phones.len() <= ep {
            self.phones.resize_with(ep + 1, || None);
        }
        self.phones[ep] = Some(phone);
        self.live.push(ep);
        self.live.len()
    }

    /// The phone on endpoint `ep`.
    pub fn get_mut(&mut self, ep: usize) -> Option<&mut Phone> {
        self.phones.get_mut(ep).and_then(Option::as_mut)
    }

    /// The stream of the phone on endpoint `ep`.
    pub fn stream(&self, ep: usize) -> Option<u32> {
        self.phones
            .get(ep)
            .and_then(Option::as_ref)
            .map(|p| p.stream)
    }

    /// Takes the phone off endpoint `ep`, after it has taken what is still waiting for it.
    pub fn remove<N: Net>(&mut self, net: &mut N, ep: usize, c: &mut Counters) -> Option<Phone> {
        self.receive(net, ep, c);
        if let Some(pos) = self.live.iter().position(|&e| e == ep) {
            self.live.swap_remove(pos);
        }
        self.phones.get_mut(ep).and_then(Option::take)
    }

    /// One 20 ms step of every phone: take what arrived, send the next packet.
    pub fn frame<N: Net>(&mut self, net: &mut N, now_us: u64, c: &mut Counters) {
        for i in 0..self.live.len() {
            let ep = self.live[i];
            self.receive(net, ep, c);
            self.transmit(net, ep, now_us, c);
        }
    }

    fn receive<N: Net>(&mut self, net: &mut N, ep: usize, counters: &mut Counters) {
        let Phones {
            phones, latencies, ..
        } = self;
        let Some(phone) = phones.get_mut(ep).and_then(Option::as_mut) else {
            return;
        };
        net.drain(ep, &mut |at_us, from, data| {
            counters.packets_received += 1;
            if from != phone.engine_addr {
                counters.wrong_source += 1;
                return;
            }
            if data.len() >= 2 && (200..=204).contains(&data[1]) {
                counters.rtcp_received += 1;
                return;
            }
            let Ok(p) = RtpPacket::parse(data) else {
                counters.malformed += 1;
                return;
            };
            phone.rtp.on_packet(p.sequence());
            if p.payload_type() != 0 {
                counters.other_payload += 1;
                return;
            }
            if let Some(d) = phone.progress.as_mut() {
                let mut pcm = [0i16; FRAME_BYTES];
                let n = p.payload().len().min(FRAME_BYTES);
                for (o, &b) in pcm.iter_mut().zip(&p.payload()[..n]) {
                    *o = tandem_codecs::g711::ulaw_to_linear(b);
                }
                let heard = &mut phone.heard;
                d.process(&pcm[..n], |e| {
                    if heard.len() < MAX_HEARD {
                        heard.push(e);
                    }
                });
            }
            match read_marker(p.payload()) {
                Some(m) if Some(m.stream) == phone.expect => {
                    phone.rx.on_packet(m.seq, m.sent_us, at_us, latencies);
                }
                Some(m) if phone.overhear.contains(&Some(m.stream)) => counters.overheard += 1,
                Some(_) => counters.misrouted += 1,
                None => counters.unmarked += 1,
            }
        });
    }

    fn transmit<N: Net>(&mut self, net: &mut N, ep: usize, now_us: u64, c: &mut Counters) {
        let Some(phone) = self.phones.get_mut(ep).and_then(Option::as_mut) else {
            return;
        };
        if !phone.sends {
            return;
        }
        if phone.keying() {
            Self::transmit_key(net, ep, phone, c);
            return;
        }
        let voice = &self.voices[phone.voice];
        let (head, payload) = self.packet.split_at_mut(RTP_HEADER);
        write_rtp_header(
            head,
            0,
            phone.first_packet,
            phone.rtp_seq,
            phone.ts,
            phone.ssrc,
        );
        payload.copy_from_slice(voice.frame(u64::from(phone.seq)));
        write_marker(
            payload,
            &Marker {
                stream: phone.stream,
                seq: phone.seq,
                sent_us: now_us,
            },
        );
        phone.first_packet = false;
        phone.seq += 1;
        phone.rtp_seq = phone.rtp_seq.wrapping_add(1);
        phone.ts = phone.ts.wrapping_add(FRAME_BYTES as u32);
        let to = phone.engine_addr;
        net.send(ep, to, &self.packet);
        c.packets_sent += 1;
    }

    /// Sends the next packet of the key being pressed (in place of a voice frame).
    fn transmit_key<N: Net>(net: &mut N, ep: usize, phone: &mut Phone, c: &mut Counters) {
        if !phone.keypad.tones.is_empty() {
            Self::transmit_tone(net, ep, phone, c);
            return;
        }
        let (event, n, start_ts) = match phone.keypad.current {
            Some(k) => k,
            None => {
                let Some(e) = phone.keypad.queued.pop_front() else {
                    return;
                };
                c.keys_pressed += 1;
                (e, 0, phone.ts)
            }
        };
        let end = n >= KEY_UPDATES;
        let ev = tandem_codecs::telephone_event::TelephoneEvent {
            event,
            end,
            volume: KEY_VOLUME,
            duration: (n + 1).min(KEY_UPDATES) * FRAME_BYTES as u16,
        };
        let mut packet = [0u8; RTP_HEADER + 4];
        let (head, payload) = packet.split_at_mut(RTP_HEADER);
        write_rtp_header(head, EVENT_PT, n == 0, phone.rtp_seq, start_ts, phone.ssrc);
        payload.copy_from_slice(&ev.to_bytes().expect("a key is a valid event"));
        phone.keypad.current = (n + 1 < KEY_UPDATES + 3).then_some((event, n + 1, start_ts));
        Self::send_frame(net, ep, phone, &packet, c);
    }

    /// Sends one 20 ms packet of the phone's stream, which moves on a frame.
    fn send_frame<N: Net>(
        net: &mut N,
        ep: usize,
        phone: &mut Phone,
        packet: &[u8],
        c: &mut Counters,
    ) {
        phone.first_packet = false;
        phone.rtp_seq = phone.rtp_seq.wrapping_add(1);
        phone.ts = phone.ts.wrapping_add(FRAME_BYTES as u32);
        net.send(ep, phone.engine_addr, packet);
        c.packets_sent += 1;
    }

    /// Sends the next frame of in-band key tones (audio, in place of a voice frame).
    fn transmit_tone<N: Net>(net: &mut N, ep: usize, phone: &mut Phone, c: &mut Counters) {
        c.keys_pressed += std::mem::take(&mut phone.keypad.tone_keys);
        let mut packet = [0u8; RTP_HEADER + FRAME_BYTES];
        let (head, payload) = packet.split_at_mut(RTP_HEADER);
        write_rtp_header(
            head,
            0,
            phone.first_packet,
            phone.rtp_seq,
            phone.ts,
            phone.ssrc,
        );
        for b in payload.iter_mut() {
            *b = phone.keypad.tones.pop_front().unwrap_or(ULAW_SILENCE);
        }
        Self::send_frame(net, ep, phone, &packet, c);
    }
}
