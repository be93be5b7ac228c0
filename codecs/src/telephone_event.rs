//! RFC 4733 telephone-event payloads (DTMF digits as named events).
//!
//! A payload is one or more 4-byte event blocks. Senders normally put one block in a packet;
//! RFC 4733 §2.5.1.5 allows several (redundancy), so [`parse_all`] yields each.

use bytes::BufMut;
use thiserror::Error;

/// Why a payload is not a valid telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TelephoneEventError {
    /// The payload length is not a positive multiple of 4.
    #[error("telephone-event payload is {0} bytes, not a positive multiple of 4")]
    BadLength(usize),
    /// A volume above 63 (only when building).
    #[error("volume {0} is above 63")]
    BadVolume(u8),
}

/// One RFC 4733 event block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// Event code: 0–9 digits, 10 `*`, 11 `#`, 12–15 `A`–`D` (other codes pass through).
    pub event: u8,
    /// End of the event.
    pub end: bool,
    /// Power level in −dBm0, 0..=63.
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses exactly one 4-byte block (the first block if the payload has more).
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, TelephoneEventError> {
        if payload.is_empty() || payload.len() % 4 != 0 {
            return Err(TelephoneEventError::BadLength(payload.len()));
        }
        Ok(Self::from_block([
            payload[0], payload[1], payload[2], payload[3],
        ]))
    }

    fn from_block(b: [u8; 4]) -> TelephoneEvent {
        TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        }
    }

    /// Writes the 4-byte block.
    pub fn write(&self, buf: &mut impl BufMut) -> Result<(), TelephoneEventError> {
        if self.volume > 63 {
            return Err(TelephoneEventError::BadVolume(self.volume));
        }
        buf.put_u8(self.event);
        buf.put_u8(if self.end { 0x80 } else { 0 } | self.volume);
        buf.put_u16(self.duration);
        Ok(())
    }

    /// The block as 4 bytes.
    pub fn to_bytes(&self) -> Result<[u8; 4], TelephoneEventError> {
        let mut b = [0u8; 4];
        self.write(&mut &mut b[..])?;
        Ok(b)
    }

    /// The DTMF character for this event, if it is one of 0–15.
    pub fn digit(&self) -> Option<char> {
        event_to_char(self.event)
    }

    /// The DTMF character for this event (`0`–`9`, `*`, `#`, `A`–`D`), if it is one of 0–15.
    pub fn to_char(&self) -> Option<char> {
        event_to_char(self.event)
    }

    /// The first block of a new DTMF event for character `c` (not ended, duration 0), or
    /// `None` for a character that is not a DTMF digit.
    pub fn from_char(c: char, volume: u8) -> Option<TelephoneEvent> {
        Some(TelephoneEvent {
            event: char_to_event(c)?,
            end: false,
            volume,
            duration: 0,
        })
    }
}

/// Every block of a payload.
pub fn parse_all(
    payload: &[u8],
) -> Result<impl Iterator<Item = TelephoneEvent> + '_, TelephoneEventError> {
    if payload.is_empty() || payload.len() % 4 != 0 {
        return Err(TelephoneEventError::BadLength(payload.len()));
    }
    Ok(payload
        .chunks_exact(4)
        .map(|c| TelephoneEvent::from_block([c[0], c[1], c[2], c[3]])))
}

/// DTMF character of an event code 0–15.
pub fn event_to_char(event: u8) -> Option<char> {
    const CHARS: &[u8; 16] = b"0123456789*#ABCD";
    CHARS.get(event as usize).map(|&c| c as char)
}

/// Event code of a DTMF character (`0`–`9`, `*`, `#`, `A`–`D`, case-insensitive).
pub fn char_to_event(c: char) -> Option<u8> {
    match c.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        l @ 'A'..='D' => Some(l as u8 - b'A' + 12),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_layout() {
        // Event 5, end bit, volume 10, duration 800 (100 ms at 8 kHz), as laid out in
        // RFC 4733 §2.3: event | E R volume | duration.
        let e = TelephoneEvent::parse(&[5, 0x8A, 0x03, 0x20]).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.to_bytes().unwrap(), [5, 0x8A, 0x03, 0x20]);
        assert_eq!(e.digit(), Some('5'));
    }

    #[test]
    fn reserved_bit_ignored_and_lengths_checked() {
        let e = TelephoneEvent::parse(&[11, 0x40 | 7, 0, 160]).unwrap();
        assert!(!e.end);
        assert_eq!(e.volume, 7);
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(TelephoneEventError::BadLength(3))
        );
        assert!(parse_all(&[]).is_err());
        assert_eq!(parse_all(&[1, 0, 0, 1, 2, 0, 0, 2]).unwrap().count(), 2);
    }

    #[test]
    fn chars() {
        for (i, c) in "0123456789*#ABCD".chars().enumerate() {
            assert_eq!(char_to_event(c), Some(i as u8));
            assert_eq!(event_to_char(i as u8), Some(c));
        }
        assert_eq!(char_to_event('x'), None);
        assert_eq!(event_to_char(16), None);
        let e = TelephoneEvent::from_char('#', 10).unwrap();
        assert_eq!((e.event, e.end, e.volume, e.duration), (11, false, 10, 0));
        assert_eq!(e.to_char(), Some('#'));
        assert_eq!(TelephoneEvent::from_char('E', 10), None);
    }
}
