//! What a channel's output does beyond relaying packets as they come: repacketisation to
//! its own ptime ([`super::repack`]) and DTMF conversion ([`super::dtmf_bridge`]).
//!
//! A channel that asks for neither has no [`Shaping`] at all, and its output takes the
//! plain pass-through path; one that does routes its peer's packets through here.

use tandem_codecs::g711::{self, Law};

use super::dtmf_bridge::{InbandTone, ToneOut};
use super::egress::Output;
use super::repack::{MAX_FRAME, Repacker};
use super::rx::Accepted;
use super::tx::{FeedKey, Stamp};
use crate::spec::ChannelSpec;
use crate::time::Micros;
use crate::transmit::TransmitQueue;

/// A channel's output shaping.
#[derive(Debug)]
pub(crate) struct Shaping {
    /// Re-framing to the channel's ptime, when asked for.
    repack: Option<Repacker>,
    /// Whether digits are converted between RFC 4733 and in-band tones.
    convert: bool,
    /// Events being played as tones.
    tones: ToneOut,
    /// The digit last sent as events (feed and start), so its first packet gets the marker.
    event_sent: Option<(FeedKey, u32)>,
}

impl Shaping {
    /// The shaping `spec` asks for, `None` when it asks for none.
    pub fn for_spec(spec: &ChannelSpec) -> Option<Box<Shaping>> {
        (spec.repacketize || spec.dtmf.convert).then(|| {
            Box::new(Shaping {
                repack: spec.repacketize.then(|| Repacker::new(spec.ptime_ms)),
                convert: spec.dtmf.convert,
                tones: ToneOut::default(),
                event_sent: None,
            })
        })
    }
}

impl Output<'_> {
    /// A shaped channel's pass-through audio: an in-band digit becomes events when this
    /// party takes events; audio a played digit replaces is dropped; the rest goes out,
    /// re-framed when asked.
    pub(super) fn shaped_audio(
        self,
        now: Micros,
        key: FeedKey,
        acc: &Accepted,
        src_law: Law,
        payload: &[u8],
        transmits: &mut TransmitQueue,
    ) {
        let sh = self.ch.shaping.as_mut().expect("shaped");
        if sh.convert {
            if let (Some(tone), Some(pt)) = (acc.inband, self.ch.spec.telephone_event_pt) {
                self.tone_as_events(now, key, acc.seq, tone, pt, transmits);
                return;
            }
            if sh.tones.covers(key, acc.ts) {
                return;
            }
        }
        let law = self.ch.spec.codec.law;
        self.audio(
            now,
            key,
            (acc.ts, acc.seq, acc.marker),
            (src_law, law),
            payload,
            transmits,
        );
    }

    /// A shaped channel's RFC 4733 packet: played as a tone when this party takes no
    /// events and digits are converted; otherwise forwarded, on the channel's own sequence
    /// when its audio is re-framed. Returns whether anything was sent.
    pub(super) fn shaped_event(
        self,
        now: Micros,
        key: FeedKey,
        acc: &Accepted,
        payload: &[u8],
        transmits: &mut TransmitQueue,
    ) -> bool {
        let sh = self.ch.shaping.as_mut().expect("shaped");
        let Some(pt) = self.ch.spec.telephone_event_pt else {
            if !sh.convert {
                return false;
            }
            let mut pcm = [0i16; MAX_FRAME];
            let Some(step) = sh.tones.event(key, acc.ts, payload, &mut pcm) else {
                return false;
            };
            let mut coded = [0u8; MAX_FRAME];
            let law = self.ch.spec.codec.law;
            g711::encode_frame(law, &pcm[..step.samples], &mut coded);
            self.audio(
                now,
                key,
                (step.ts, acc.seq, step.first),
                (law, law),
                &coded[..step.samples],
                transmits,
            );
            return true;
        };
        let own = sh.repack.is_some();
        let ch = self.ch;
        let stamp = if own {
            ch.tx.repacked(now, key, acc.ts, acc.marker)
        } else {
            ch.tx.forward(now, key, acc.seq, acc.ts, acc.marker)
        };
        ch.send_rtp(transmits, self.dest, pt, stamp, |buf| {
            buf.extend_from_slice(payload)
        });
        true
    }

    /// A tick-driven frame (already in the channel's law) through the repacker, when the
    /// channel re-frames; returns it back otherwise.
    pub(super) fn shaped_frame<'p>(
        self,
        now: Micros,
        key: FeedKey,
        payload: &'p [u8],
        transmits: &mut TransmitQueue,
    ) -> Option<(Self, &'p [u8])> {
        if self.ch.shaping.as_ref().is_none_or(|s| s.repack.is_none()) {
            return Some((self, payload));
        }
        let law = self.ch.spec.codec.law;
        let mut sh = self.ch.shaping.take().expect("shaped");
        let repack = sh.repack.as_mut().expect("checked");
        let (ch, dest) = (&mut *self.ch, self.dest);
        let pt = ch.spec.codec.payload_type;
        repack.push(
            key,
            None,
            false,
            (law, law),
            payload,
            |ts, marker, frame| {
                let stamp = ch.tx.repacked(now, key, ts, marker);
                ch.send_rtp(transmits, dest, pt, stamp, |buf| {
                    buf.extend_from_slice(frame)
                });
            },
        );
        ch.shaping = Some(sh);
        None
    }

    /// One in-band digit mark sent as an RFC 4733 packet in place of the audio that held
    /// it; the end goes out three times (RFC 4733 §2.5.1.4).
    fn tone_as_events(
        self,
        now: Micros,
        key: FeedKey,
        seq: u16,
        tone: InbandTone,
        pt: u8,
        transmits: &mut TransmitQueue,
    ) {
        let (ch, dest) = (self.ch, self.dest);
        let sh = ch.shaping.as_mut().expect("shaped");
        let first = sh.event_sent != Some((key, tone.start_ts));
        sh.event_sent = Some((key, tone.start_ts));
        let own = sh.repack.is_some();
        let block = tone.event();
        let stamp = if own {
            ch.tx.repacked(now, key, tone.start_ts, first)
        } else {
            ch.tx.forward(now, key, seq, tone.start_ts, first)
        };
        ch.send_rtp(transmits, dest, pt, stamp, |b| b.extend_from_slice(&block));
        if tone.end {
            for _ in 0..2 {
                let again: Stamp = if own {
                    ch.tx.repacked(now, key, tone.start_ts, false)
                } else {
                    ch.tx.inserted(stamp.ts)
                };
                ch.send_rtp(transmits, dest, pt, again, |b| b.extend_from_slice(&block));
            }
        }
    }

    /// Audio out of a shaped channel: re-framed when asked, else stamped like a forwarded
    /// packet (`ts`, `seq`, `marker` of the source packet it stands for) and transcoded
    /// when the laws differ.
    fn audio(
        self,
        now: Micros,
        key: FeedKey,
        (ts, seq, marker): (u32, u16, bool),
        laws: (Law, Law),
        payload: &[u8],
        transmits: &mut TransmitQueue,
    ) {
        let (ch, dest) = (self.ch, self.dest);
        let pt = ch.spec.codec.payload_type;
        let mut sh = ch.shaping.take().expect("shaped");
        if let Some(repack) = sh.repack.as_mut() {
            repack.push(key, Some(ts), marker, laws, payload, |ts, marker, frame| {
                let stamp = ch.tx.repacked(now, key, ts, marker);
                ch.send_rtp(transmits, dest, pt, stamp, |buf| {
                    buf.extend_from_slice(frame)
                });
            });
        } else {
            let stamp = ch.tx.forward(now, key, seq, ts, marker);
            ch.send_rtp(transmits, dest, pt, stamp, |buf| {
                let start = buf.len();
                buf.resize(start + payload.len(), 0);
                if laws.0 == laws.1 {
                    buf[start..].copy_from_slice(payload);
                } else {
                    g711::transcode_frame(laws.0, laws.1, payload, &mut buf[start..]);
                }
            });
        }
        ch.shaping = Some(sh);
    }
}
