//! Turns a stream of RFC 4733 packets into one report per digit.
//!
//! A sender repeats the packet of an event while the key is held and sends its end packet
//! three times (RFC 4733 §2.5.1.4). All packets of one event share its start timestamp, so
//! the digit is reported at the first end packet and every later packet with that timestamp
//! is ignored. If the end packets are all lost, the event is reported when the next event
//! (a new timestamp) begins.

use tandem_codecs::telephone_event::TelephoneEvent;

/// A completed digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Digit {
    /// The digit.
    pub digit: char,
    /// Duration in milliseconds (from the event's duration field at 8 kHz).
    pub duration_ms: u32,
}

/// De-duplicating state for one received stream.
#[derive(Clone, Debug, Default)]
pub(crate) struct DtmfTracker {
    /// Start timestamp and latest packet of the event in progress.
    open: Option<(u32, TelephoneEvent)>,
    /// Start timestamp of the last event reported.
    reported: Option<u32>,
}

impl DtmfTracker {
    /// Feeds one telephone-event packet (its payload and RTP timestamp). Returns up to two
    /// digits: an unterminated previous event, then this one if it just ended.
    pub fn packet(&mut self, ts: u32, payload: &[u8]) -> [Option<Digit>; 2] {
        let mut out = [None, None];
        let Ok(ev) = TelephoneEvent::parse(payload) else {
            return out;
        };
        if self.reported == Some(ts) {
            return out;
        }
        if let Some((open_ts, open_ev)) = self.open {
            if open_ts != ts {
                out[0] = digit(&open_ev);
                self.reported = Some(open_ts);
                self.open = None;
            }
        }
        if ev.end {
            out[1] = digit(&ev);
            self.reported = Some(ts);
            self.open = None;
        } else {
            self.open = Some((ts, ev));
        }
        out
    }
}

fn digit(ev: &TelephoneEvent) -> Option<Digit> {
    ev.to_char().map(|digit| Digit {
        digit,
        duration_ms: u32::from(ev.duration) / 8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(event: u8, end: bool, duration: u16) -> [u8; 4] {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
        .unwrap()
    }

    #[test]
    fn three_end_packets_make_one_digit() {
        let mut t = DtmfTracker::default();
        let mut digits = vec![];
        for (end, d) in [
            (false, 160),
            (false, 320),
            (false, 480),
            (true, 640),
            (true, 640),
            (true, 640),
        ] {
            digits.extend(t.packet(1000, &pkt(5, end, d)).into_iter().flatten());
        }
        assert_eq!(
            digits,
            vec![Digit {
                digit: '5',
                duration_ms: 80
            }]
        );
    }

    #[test]
    fn a_lost_end_is_reported_when_the_next_digit_starts() {
        let mut t = DtmfTracker::default();
        assert_eq!(t.packet(1000, &pkt(1, false, 400)), [None, None]);
        let got = t.packet(5000, &pkt(2, false, 160));
        assert_eq!(
            got[0],
            Some(Digit {
                digit: '1',
                duration_ms: 50
            })
        );
        let got = t.packet(5000, &pkt(2, true, 800));
        assert_eq!(
            got,
            [
                None,
                Some(Digit {
                    digit: '2',
                    duration_ms: 100
                })
            ]
        );
    }

    #[test]
    fn garbage_is_ignored() {
        let mut t = DtmfTracker::default();
        assert_eq!(t.packet(0, &[1, 2]), [None, None]);
    }
}
