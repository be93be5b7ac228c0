//! DTMF across legs that signal digits differently: RFC 4733 events into in-band tones for a
//! party that negotiated no telephone-event, and in-band tones into RFC 4733 events for one
//! that did.
//!
//! - [`ToneTracker`] (ingress, on the leg whose detector hears the tones) follows the
//!   detector from packet to packet and marks each audio packet with the digit held in it
//!   ([`InbandTone`]): its start on the source's timeline, its duration so far, its end.
//! - [`ToneOut`] (egress, on the leg that gets tones) renders, for each event packet, the
//!   part of the tone its duration adds, and says which of the source's audio packets the
//!   tone replaces.
//!
//! Tones are the two ITU-T Q.23 frequencies at [`TONE_DBM0`] each (inside Q.24's
//! acceptance range for any receiver), phase-continuous over the whole digit.

use std::f64::consts::TAU;

use tandem_codecs::dtmf::DtmfDetector;
use tandem_codecs::telephone_event::{TelephoneEvent, char_to_event};
use tandem_codecs::tone::{amplitude_for_dbm0, dtmf_freqs};

use super::repack::MAX_FRAME;
use super::tx::FeedKey;

/// Level of each of the two tones, dBm0.
pub(crate) const TONE_DBM0: f64 = -10.0;

/// RFC 4733 volume field of generated events (the tones' level, in −dBm0).
pub(crate) const EVENT_VOLUME: u8 = 10;

/// An event that stops getting packets ends this many samples (200 ms) past its last one,
/// so a lost end packet does not silence the source's audio for good.
const STALE: u32 = 1600;

/// A digit held in an audio packet, as the receiving leg's in-band detector saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InbandTone {
    /// Source timestamp of the tone's first sample.
    pub start_ts: u32,
    /// Samples from the start to the end of this packet, or to the tone's end (RFC 4733's
    /// 16 bits: a longer tone reports the longest duration).
    pub duration: u16,
    /// RFC 4733 event code (0–15).
    pub code: u8,
    /// Whether the tone ended within this packet.
    pub end: bool,
}

impl InbandTone {
    /// The RFC 4733 block announcing it.
    pub fn event(&self) -> [u8; 4] {
        TelephoneEvent {
            event: self.code,
            end: self.end,
            volume: EVENT_VOLUME,
            duration: self.duration,
        }
        .to_bytes()
        .unwrap_or([0; 4])
    }
}

/// Follows an in-band detector across packets (the ingress side).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ToneTracker {
    /// The digit being held: code and the detector's sample where it began.
    run: Option<(u8, u64)>,
}

impl ToneTracker {
    /// After the detector took a packet whose samples end at source timestamp `end_ts`:
    /// the digit the packet holds, if any.
    pub fn after_packet(&mut self, det: &DtmfDetector, end_ts: u32) -> Option<InbandTone> {
        let seen = det.samples_seen();
        let ts_of = |sample: u64| end_ts.wrapping_sub(seen.saturating_sub(sample) as u32);
        let holding = det
            .holding()
            .and_then(|d| Some((char_to_event(d.key)?, d.start_sample)));
        let tone = |(code, start): (u8, u64), until: u64, end| InbandTone {
            code,
            start_ts: ts_of(start),
            duration: until.saturating_sub(start).min(u64::from(u16::MAX)) as u16,
            end,
        };
        match (self.run, holding) {
            (Some(r), Some(h)) if r == h => Some(tone(r, seen, false)),
            (Some(r), _) => {
                self.run = None;
                Some(tone(r, det.last_end(), true))
            }
            (None, Some(h)) => {
                self.run = Some(h);
                Some(tone(h, seen, false))
            }
            (None, None) => None,
        }
    }
}

/// The event being played as a tone.
#[derive(Clone, Copy, Debug)]
struct Playing {
    key: FeedKey,
    /// The event's source timestamp.
    ts: u32,
    freqs: (f64, f64),
    /// Samples rendered so far.
    done: u32,
    /// Source timestamp where the event ended, once its end packet came.
    end: Option<u32>,
}

/// A stretch of tone to send: its first sample's source timestamp, whether it starts the
/// digit, and how many samples were rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ToneStep {
    pub ts: u32,
    pub first: bool,
    pub samples: usize,
}

/// RFC 4733 events into in-band tones (the egress side).
#[derive(Debug, Default)]
pub(crate) struct ToneOut {
    playing: Option<Playing>,
}

impl ToneOut {
    /// An event packet of feed `key` for the event starting at `ev_ts`: renders into `pcm`
    /// the part of the tone its duration adds (at most one 60 ms frame; a longer step
    /// skips ahead so the tone stays on time). `None` when there is nothing new to send (a
    /// retransmitted end, an event that is not a DTMF digit, a malformed payload).
    pub fn event(
        &mut self,
        key: FeedKey,
        ev_ts: u32,
        payload: &[u8],
        pcm: &mut [i16; MAX_FRAME],
    ) -> Option<ToneStep> {
        let ev = TelephoneEvent::parse(payload).ok()?;
        let freqs = dtmf_freqs(ev.digit()?)?;
        if !matches!(&self.playing, Some(p) if p.key == key && p.ts == ev_ts) {
            self.playing = Some(Playing {
                key,
                ts: ev_ts,
                freqs,
                done: 0,
                end: None,
            });
        }
        let p = self.playing.as_mut()?;
        if p.end.is_some() {
            return None;
        }
        let target = u32::from(ev.duration);
        if ev.end {
            p.end = Some(ev_ts.wrapping_add(target));
        }
        if target <= p.done {
            return None;
        }
        let from = p.done.max(target.saturating_sub(MAX_FRAME as u32));
        let samples = (target - from) as usize;
        render(p.freqs, from, &mut pcm[..samples]);
        let first = p.done == 0;
        p.done = target;
        Some(ToneStep {
            ts: ev_ts.wrapping_add(from),
            first,
            samples,
        })
    }

    /// Whether the source's audio packet of feed `key` at `ts` falls within the digit being
    /// played (the tone replaces it). Forgets a digit that ended or went stale.
    pub fn covers(&mut self, key: FeedKey, ts: u32) -> bool {
        let Some(p) = self.playing else {
            return false;
        };
        let after = |mark: u32| ts.wrapping_sub(mark) as i32 >= 0;
        if p.key != key {
            self.playing = None;
            return false;
        }
        if !after(p.ts) {
            return false;
        }
        let until = p
            .end
            .unwrap_or_else(|| p.ts.wrapping_add(p.done).wrapping_add(STALE));
        if after(until) {
            self.playing = None;
            return false;
        }
        true
    }
}

/// The digit's two tones from sample `from` of the digit on.
fn render((low, high): (f64, f64), from: u32, out: &mut [i16]) {
    let a = amplitude_for_dbm0(TONE_DBM0);
    let (wl, wh) = (TAU * low / 8000.0, TAU * high / 8000.0);
    for (i, s) in out.iter_mut().enumerate() {
        let n = f64::from(from) + i as f64;
        *s = (a * ((wl * n).sin() + (wh * n).sin())).round() as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_codecs::dtmf::DtmfConfig;

    const K: FeedKey = FeedKey {
        source: 3,
        epoch: 0,
    };

    fn ev(digit: char, end: bool, duration: u16) -> [u8; 4] {
        let mut e = TelephoneEvent::from_char(digit, 10).unwrap();
        e.end = end;
        e.duration = duration;
        e.to_bytes().unwrap()
    }

    #[test]
    fn an_event_becomes_a_tone_the_detector_hears_for_its_duration() {
        let mut out = ToneOut::default();
        let mut pcm = [0i16; MAX_FRAME];
        let mut audio = Vec::new();
        // 100 ms of '7' in 20 ms updates, the end sent three times.
        for k in 1..=5u16 {
            let step = out
                .event(K, 8000, &ev('7', k == 5, k * 160), &mut pcm)
                .unwrap();
            assert_eq!(step.ts, 8000 + u32::from(k - 1) * 160);
            assert_eq!(step.first, k == 1);
            audio.extend_from_slice(&pcm[..step.samples]);
        }
        assert!(out.event(K, 8000, &ev('7', true, 800), &mut pcm).is_none());
        assert_eq!(audio.len(), 800);
        audio.extend_from_slice(&[0; 800]);
        let mut det = DtmfDetector::new(DtmfConfig::default());
        let keys: Vec<char> = det.detect(&audio).iter().map(|d| d.key).collect();
        assert_eq!(keys, vec!['7']);
        // Audio inside the digit is replaced; from its end on, it passes again.
        assert!(out.covers(K, 8000 + 400));
        assert!(!out.covers(K, 8000 + 800));
        assert!(!out.covers(K, 8000 + 400));
    }

    #[test]
    fn tones_are_at_the_stated_level() {
        let mut pcm = [0i16; MAX_FRAME];
        render((697.0, 697.0 * 3.0), 0, &mut pcm);
        // Two tones of equal amplitude: RMS = amplitude (each contributes a²/2).
        let rms = (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / 480.0).sqrt();
        let a = amplitude_for_dbm0(TONE_DBM0);
        assert!((rms / a - 1.0).abs() < 0.02, "rms {rms}, amplitude {a}");
    }

    #[test]
    fn the_tracker_marks_start_updates_and_end_on_the_source_timeline() {
        let mut det = DtmfDetector::new(DtmfConfig::default());
        let mut tr = ToneTracker::default();
        let a = amplitude_for_dbm0(TONE_DBM0);
        let mut pcm = vec![0i16; 160 * 4];
        let tone: Vec<i16> = (0..800)
            .map(|n| {
                let n = f64::from(n);
                (a * ((TAU * 852.0 * n / 8000.0).sin() + (TAU * 1477.0 * n / 8000.0).sin())) as i16
            })
            .collect();
        pcm.extend_from_slice(&tone); // 9 from sample 640 to 1440
        pcm.extend_from_slice(&[0; 800]);
        let mut marks = Vec::new();
        for (i, chunk) in pcm.chunks(160).enumerate() {
            det.process(chunk, |_| {});
            let end_ts = 50_000 + (i as u32 + 1) * 160;
            marks.extend(tr.after_packet(&det, end_ts));
        }
        assert!(marks.iter().all(|m| m.code == 9));
        let start = marks[0].start_ts;
        assert!(start.abs_diff(50_640) <= 106, "start {start}");
        assert!(marks.iter().all(|m| m.start_ts == start));
        let end = marks.last().unwrap();
        assert!(end.end);
        assert_eq!(marks.iter().filter(|m| m.end).count(), 1);
        assert!(
            end.duration.abs_diff(800) <= 240,
            "duration {}",
            end.duration
        );
    }
}
