//! RTP packets (RFC 3550): a zero-copy view for parsing, a header builder, and RFC 8285
//! header extensions.
//!
//! [`RtpPacket::parse`] validates the whole layout once (version, CSRC list, extension length,
//! padding) and then every accessor is a fixed-offset read, so relaying a packet costs a few
//! loads. Nothing here allocates.

use bytes::BufMut;
use thiserror::Error;

/// Length of the fixed RTP header.
pub const FIXED_HEADER_LEN: usize = 12;

/// Profile value of an RFC 8285 one-byte header extension.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// Why a byte string is not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Shorter than the 12-byte fixed header.
    #[error("packet is {0} bytes, shorter than the 12-byte RTP header")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("RTP version is {0}, expected 2")]
    BadVersion(u8),
    /// The CSRC list runs past the end of the packet.
    #[error("CSRC count {0} runs past the end of the packet")]
    CsrcOverrun(u8),
    /// The header extension runs past the end of the packet.
    #[error("header extension runs past the end of the packet")]
    ExtensionOverrun,
    /// The padding bit is set but the padding count is 0 or longer than the payload.
    #[error("invalid padding count {0}")]
    BadPadding(u8),
    /// An output buffer is too small for the packet being written.
    #[error("buffer of {have} bytes is too small for a {need}-byte packet")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A header extension element is malformed or cannot be encoded.
    #[error("malformed header extension element")]
    BadExtensionElement,
    /// More than 15 CSRCs were given to the builder (the CC field has 4 bits).
    #[error("{0} CSRCs given, at most 15 fit in an RTP header")]
    TooManyCsrcs(usize),
    /// A payload type above 127 was given to the builder (the PT field has 7 bits).
    #[error("payload type {0} is above 127")]
    BadPayloadType(u8),
}

/// A validated, borrowed view of an RTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    // The fixed header as an array, so the accessors compile to plain loads with no bounds
    // checks.
    fixed: &'a [u8; FIXED_HEADER_LEN],
    header_len: usize,
    payload_end: usize,
}

impl<'a> RtpPacket<'a> {
    /// Parses and validates `buf` as an RTP packet. Never panics.
    #[inline]
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        let Some(fixed) = buf.first_chunk::<FIXED_HEADER_LEN>() else {
            return Err(RtpError::TooShort(buf.len()));
        };
        let b0 = fixed[0];
        if b0 >> 6 != 2 {
            return Err(RtpError::BadVersion(b0 >> 6));
        }
        let cc = b0 & 0x0F;
        let mut header_len = FIXED_HEADER_LEN + 4 * cc as usize;
        if header_len > buf.len() {
            return Err(RtpError::CsrcOverrun(cc));
        }
        if b0 & 0x10 != 0 {
            let ext = buf
                .get(header_len..header_len + 4)
                .ok_or(RtpError::ExtensionOverrun)?;
            let words = u16::from_be_bytes([ext[2], ext[3]]) as usize;
            header_len += 4 + 4 * words;
            if header_len > buf.len() {
                return Err(RtpError::ExtensionOverrun);
            }
        }
        let mut payload_end = buf.len();
        if b0 & 0x20 != 0 {
            let pad = buf[buf.len() - 1];
            if pad == 0 || pad as usize > buf.len() - header_len {
                return Err(RtpError::BadPadding(pad));
            }
            payload_end -= pad as usize;
        }
        Ok(RtpPacket {
            buf,
            fixed,
            header_len,
            payload_end,
        })
    }

    /// The version field (always 2 for a parsed packet).
    pub fn version(&self) -> u8 {
        self.fixed[0] >> 6
    }

    /// Whether the padding bit is set.
    pub fn padding(&self) -> bool {
        self.fixed[0] & 0x20 != 0
    }

    /// Whether a header extension is present.
    pub fn has_extension(&self) -> bool {
        self.fixed[0] & 0x10 != 0
    }

    /// Number of CSRC identifiers.
    pub fn csrc_count(&self) -> u8 {
        self.fixed[0] & 0x0F
    }

    /// The marker bit (for audio: the first packet of a talkspurt).
    #[inline]
    pub fn marker(&self) -> bool {
        self.fixed[1] & 0x80 != 0
    }

    /// The payload type.
    #[inline]
    pub fn payload_type(&self) -> u8 {
        self.fixed[1] & 0x7F
    }

    /// The sequence number.
    #[inline]
    pub fn sequence(&self) -> u16 {
        u16::from_be_bytes([self.fixed[2], self.fixed[3]])
    }

    /// The RTP timestamp.
    #[inline]
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.fixed[4], self.fixed[5], self.fixed[6], self.fixed[7]])
    }

    /// The synchronisation source.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.fixed[8], self.fixed[9], self.fixed[10], self.fixed[11]])
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let n = usize::from(self.csrc_count());
        self.buf[FIXED_HEADER_LEN..FIXED_HEADER_LEN + 4 * n]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The header extension, if present.
    pub fn extension(&self) -> Option<HeaderExtension<'a>> {
        if !self.has_extension() {
            return None;
        }
        let at = FIXED_HEADER_LEN + 4 * self.csrc_count() as usize;
        let profile = u16::from_be_bytes([self.buf[at], self.buf[at + 1]]);
        Some(HeaderExtension {
            profile,
            data: &self.buf[at + 4..self.header_len],
        })
    }

    /// The payload, without padding.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..self.payload_end]
    }

    /// Length of the header including CSRCs and extension.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Number of padding bytes at the end (0 without padding).
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// A header extension block: its profile word and its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    /// The 16-bit profile-defined value (`0xBEDE` for one-byte, `0x100x` for two-byte).
    pub profile: u16,
    /// The extension data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

impl<'a> HeaderExtension<'a> {
    /// Iterates RFC 8285 elements as `(id, data)`. Yields one `Err` and stops on a malformed
    /// element; yields nothing for a profile that is neither one- nor two-byte.
    pub fn elements(&self) -> ExtensionElements<'a> {
        let kind = if self.profile == ONE_BYTE_PROFILE {
            ElementKind::OneByte
        } else if self.profile & 0xFFF0 == 0x1000 {
            ElementKind::TwoByte
        } else {
            ElementKind::Other
        };
        ExtensionElements {
            data: self.data,
            pos: 0,
            kind,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum ElementKind {
    OneByte,
    TwoByte,
    Other,
}

/// Iterator over RFC 8285 header extension elements.
#[derive(Clone, Debug)]
pub struct ExtensionElements<'a> {
    data: &'a [u8],
    pos: usize,
    kind: ElementKind,
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = Result<(u8, &'a [u8]), RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let b = *self.data.get(self.pos)?;
            match self.kind {
                ElementKind::Other => return None,
                ElementKind::OneByte => {
                    if b == 0 {
                        self.pos += 1; // padding
                        continue;
                    }
                    let id = b >> 4;
                    if id == 15 {
                        // Reserved: stop processing the rest (RFC 8285 §4.2).
                        self.pos = self.data.len();
                        return None;
                    }
                    let len = (b & 0x0F) as usize + 1;
                    return Some(self.take(id, self.pos + 1, len));
                }
                ElementKind::TwoByte => {
                    if b == 0 {
                        self.pos += 1;
                        continue;
                    }
                    let Some(&len) = self.data.get(self.pos + 1) else {
                        self.pos = self.data.len();
                        return Some(Err(RtpError::BadExtensionElement));
                    };
                    return Some(self.take(b, self.pos + 2, len as usize));
                }
            }
        }
    }
}

impl<'a> ExtensionElements<'a> {
    fn take(&mut self, id: u8, start: usize, len: usize) -> Result<(u8, &'a [u8]), RtpError> {
        match self.data.get(start..start + len) {
            Some(d) => {
                self.pos = start + len;
                Ok((id, d))
            }
            None => {
                self.pos = self.data.len();
                Err(RtpError::BadExtensionElement)
            }
        }
    }
}

/// The header extension to write with [`RtpHeader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionSpec<'a> {
    /// RFC 8285 one-byte elements: ids 1..=14, 1..=16 data bytes each.
    OneByte(&'a [(u8, &'a [u8])]),
    /// RFC 8285 two-byte elements: ids 1..=255, 0..=255 data bytes each.
    TwoByte(&'a [(u8, &'a [u8])]),
    /// A raw extension block: profile and data (data length must be a multiple of 4).
    Raw {
        /// Profile word.
        profile: u16,
        /// Data, a multiple of 4 bytes.
        data: &'a [u8],
    },
}

impl ExtensionSpec<'_> {
    fn body_len(&self) -> Result<usize, RtpError> {
        let n = match self {
            ExtensionSpec::OneByte(els) => {
                let mut n = 0;
                for (id, d) in *els {
                    if !(1..=14).contains(id) || d.is_empty() || d.len() > 16 {
                        return Err(RtpError::BadExtensionElement);
                    }
                    n += 1 + d.len();
                }
                n
            }
            ExtensionSpec::TwoByte(els) => {
                let mut n = 0;
                for (id, d) in *els {
                    if *id == 0 || d.len() > 255 {
                        return Err(RtpError::BadExtensionElement);
                    }
                    n += 2 + d.len();
                }
                n
            }
            ExtensionSpec::Raw { data, .. } => {
                if data.len() % 4 != 0 {
                    return Err(RtpError::BadExtensionElement);
                }
                data.len()
            }
        };
        let padded = n.div_ceil(4) * 4;
        if padded / 4 > u16::MAX as usize {
            return Err(RtpError::BadExtensionElement);
        }
        Ok(padded)
    }

    fn write(&self, buf: &mut impl BufMut, body_len: usize) {
        let written = match self {
            ExtensionSpec::OneByte(els) => {
                buf.put_u16(ONE_BYTE_PROFILE);
                buf.put_u16((body_len / 4) as u16);
                let mut n = 0;
                for (id, d) in *els {
                    buf.put_u8((id << 4) | (d.len() as u8 - 1));
                    buf.put_slice(d);
                    n += 1 + d.len();
                }
                n
            }
            ExtensionSpec::TwoByte(els) => {
                buf.put_u16(0x1000);
                buf.put_u16((body_len / 4) as u16);
                let mut n = 0;
                for (id, d) in *els {
                    buf.put_u8(*id);
                    buf.put_u8(d.len() as u8);
                    buf.put_slice(d);
                    n += 2 + d.len();
                }
                n
            }
            ExtensionSpec::Raw { profile, data } => {
                buf.put_u16(*profile);
                buf.put_u16((data.len() / 4) as u16);
                buf.put_slice(data);
                data.len()
            }
        };
        buf.put_bytes(0, body_len - written);
    }
}

/// The fields of an RTP header to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    /// Marker bit.
    pub marker: bool,
    /// Payload type (0..=127).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Contributing sources (at most 15).
    pub csrcs: &'a [u32],
    /// Optional header extension.
    pub extension: Option<ExtensionSpec<'a>>,
    /// Pad the packet to a multiple of this many bytes (0 or 1: no padding).
    pub pad_to: u8,
}

impl RtpHeader<'_> {
    /// Total packet length for `payload_len` bytes of payload.
    pub fn packet_len(&self, payload_len: usize) -> Result<usize, RtpError> {
        if self.csrcs.len() > 15 {
            return Err(RtpError::TooManyCsrcs(self.csrcs.len()));
        }
        if self.payload_type > 127 {
            return Err(RtpError::BadPayloadType(self.payload_type));
        }
        let ext = match &self.extension {
            Some(e) => 4 + e.body_len()?,
            None => 0,
        };
        let unpadded = FIXED_HEADER_LEN + 4 * self.csrcs.len() + ext + payload_len;
        Ok(unpadded + self.padding_for(unpadded))
    }

    fn padding_for(&self, unpadded: usize) -> usize {
        let m = self.pad_to as usize;
        if m <= 1 {
            return 0;
        }
        // An already aligned packet gets no padding (and no P bit).
        (m - unpadded % m) % m
    }

    /// Writes the header followed by `payload` (and padding) into `buf`. Returns the packet
    /// length. Fails, writing nothing, if the header is invalid (more than 15 CSRCs, payload
    /// type over 127, bad extension) or `buf` has too little room.
    pub fn write(&self, buf: &mut impl BufMut, payload: &[u8]) -> Result<usize, RtpError> {
        let len = self.packet_len(payload.len())?;
        if buf.remaining_mut() < len {
            return Err(RtpError::BufferTooSmall {
                need: len,
                have: buf.remaining_mut(),
            });
        }
        let ext_len = match &self.extension {
            Some(e) => Some(e.body_len()?),
            None => None,
        };
        let unpadded =
            FIXED_HEADER_LEN + 4 * self.csrcs.len() + ext_len.map_or(0, |l| l + 4) + payload.len();
        let pad = self.padding_for(unpadded);
        let b0 = 0x80
            | if pad > 0 { 0x20 } else { 0 }
            | if ext_len.is_some() { 0x10 } else { 0 }
            | self.csrcs.len() as u8;
        buf.put_u8(b0);
        buf.put_u8(if self.marker { 0x80 } else { 0 } | self.payload_type);
        buf.put_u16(self.sequence);
        buf.put_u32(self.timestamp);
        buf.put_u32(self.ssrc);
        for c in self.csrcs {
            buf.put_u32(*c);
        }
        if let (Some(e), Some(l)) = (&self.extension, ext_len) {
            e.write(buf, l);
        }
        buf.put_slice(payload);
        if pad > 0 {
            buf.put_bytes(0, pad - 1);
            buf.put_u8(pad as u8);
        }
        Ok(len)
    }

    /// Writes into a fixed slice; returns the packet length. Fails with
    /// [`RtpError::BufferTooSmall`] if `out` is too short.
    pub fn write_into(&self, out: &mut [u8], payload: &[u8]) -> Result<usize, RtpError> {
        let mut w = &mut out[..];
        self.write(&mut w, payload)
    }
}

/// Rewrites the marker, sequence, timestamp and SSRC of a packet in place, for relaying
/// without re-serialising. Fails if `buf` is shorter than the fixed header.
#[inline]
pub fn rewrite_header(
    buf: &mut [u8],
    marker: bool,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
) -> Result<(), RtpError> {
    if buf.len() < FIXED_HEADER_LEN {
        return Err(RtpError::TooShort(buf.len()));
    }
    buf[1] = (buf[1] & 0x7F) | if marker { 0x80 } else { 0 };
    buf[2..4].copy_from_slice(&sequence.to_be_bytes());
    buf[4..8].copy_from_slice(&timestamp.to_be_bytes());
    buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
    Ok(())
}

/// Whether a datagram on a multiplexed port is RTCP rather than RTP (RFC 5761 §4): RTCP packet
/// types 192..=223 appear as RTP marker+payload-type values 64..=95 in the second byte.
#[inline]
pub fn looks_like_rtcp(buf: &[u8]) -> bool {
    buf.len() >= 2 && buf[0] >> 6 == 2 && (192..=223).contains(&buf[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header written by hand from the RFC 3550 §5.1 layout.
    const HAND: [u8; 16] = [
        0x80, 0x00, 0x12, 0x34, // V=2, PT=0, seq 0x1234
        0x00, 0x00, 0x03, 0xE8, // ts 1000
        0xDE, 0xAD, 0xBE, 0xEF, // ssrc
        0xFF, 0xFF, 0x7F, 0x00, // payload
    ];

    #[test]
    fn parses_hand_written_header() {
        let p = RtpPacket::parse(&HAND).unwrap();
        assert_eq!(p.version(), 2);
        assert!(!p.marker());
        assert_eq!(p.payload_type(), 0);
        assert_eq!(p.sequence(), 0x1234);
        assert_eq!(p.timestamp(), 1000);
        assert_eq!(p.ssrc(), 0xDEAD_BEEF);
        assert_eq!(p.payload(), &[0xFF, 0xFF, 0x7F, 0x00]);
    }

    #[test]
    fn rejects_bad_layouts() {
        assert_eq!(RtpPacket::parse(&HAND[..11]), Err(RtpError::TooShort(11)));
        let mut v = HAND;
        v[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v), Err(RtpError::BadVersion(1)));
        let mut v = HAND;
        v[0] = 0x82; // two CSRCs need 8 bytes, only 4 remain
        assert_eq!(RtpPacket::parse(&v), Err(RtpError::CsrcOverrun(2)));
        let mut v = HAND;
        v[0] = 0xA0; // padding, last byte 0
        assert_eq!(RtpPacket::parse(&v), Err(RtpError::BadPadding(0)));
        let mut v = HAND;
        v[0] = 0x90;
        v[14] = 0x00;
        v[15] = 0x05; // extension of 5 words
        assert_eq!(RtpPacket::parse(&v), Err(RtpError::ExtensionOverrun));
    }

    #[test]
    fn writes_and_reads_back_extensions_and_padding() {
        let els: &[(u8, &[u8])] = &[(1, &[0xAA]), (3, &[1, 2, 3])];
        let h = RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 65535,
            timestamp: u32::MAX,
            ssrc: 7,
            csrcs: &[1, 2],
            extension: Some(ExtensionSpec::OneByte(els)),
            pad_to: 4,
        };
        let mut out = Vec::new();
        let n = h.write(&mut out, &[9, 9, 9]).unwrap();
        assert_eq!(n, out.len());
        assert_eq!(n % 4, 0);
        let p = RtpPacket::parse(&out).unwrap();
        assert!(p.marker());
        assert_eq!(p.payload(), &[9, 9, 9]);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![1, 2]);
        let got: Vec<_> = p
            .extension()
            .unwrap()
            .elements()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(got, vec![(1, &[0xAA][..]), (3, &[1, 2, 3][..])]);
    }

    #[test]
    fn builder_rejects_unencodable_headers() {
        let csrcs = [0u32; 16];
        let h = RtpHeader {
            csrcs: &csrcs,
            ..Default::default()
        };
        assert_eq!(
            h.write(&mut Vec::new(), &[]),
            Err(RtpError::TooManyCsrcs(16))
        );
        let h = RtpHeader {
            payload_type: 128,
            ..Default::default()
        };
        assert_eq!(
            h.write(&mut Vec::new(), &[]),
            Err(RtpError::BadPayloadType(128))
        );
        let mut small = [0u8; 20];
        assert_eq!(
            RtpHeader::default().write_into(&mut small, &[0; 9]),
            Err(RtpError::BufferTooSmall { need: 21, have: 20 })
        );
    }

    #[test]
    fn two_byte_extension_hand_written() {
        // RFC 8285 §4.3 layout: 0x100 | appbits, length in words, then id, len, data.
        let pkt = [
            0x90, 0x00, 0x00, 0x01, 0, 0, 0, 2, 0, 0, 0, 3, // V=2 X=1
            0x10, 0x00, 0x00, 0x02, // profile 0x1000, 2 words
            0x07, 0x00, // id 7, empty
            0x09, 0x02, 0xAB, 0xCD, // id 9, 2 bytes
            0x00, 0x00, // padding
            0x42, // payload
        ];
        let p = RtpPacket::parse(&pkt).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.payload(), &[0x42]);
        let els: Vec<_> = p.extension().unwrap().elements().collect();
        assert_eq!(els, vec![Ok((7, &[][..])), Ok((9, &[0xAB, 0xCD][..]))]);
    }

    #[test]
    fn one_byte_element_overrun_is_one_error() {
        // id 2 claims 4 bytes (L=3) but only 3 remain in the one-word block.
        let ext = HeaderExtension {
            profile: ONE_BYTE_PROFILE,
            data: &[0x23, 1, 2, 3],
        };
        let els: Vec<_> = ext.elements().collect();
        assert_eq!(els, vec![Err(RtpError::BadExtensionElement)]);
        // id 15 stops processing without an error.
        let ext = HeaderExtension {
            profile: ONE_BYTE_PROFILE,
            data: &[0x10, 0xAA, 0xF0, 0x00],
        };
        let els: Vec<_> = ext.elements().collect();
        assert_eq!(els, vec![Ok((1, &[0xAA][..]))]);
    }

    #[test]
    fn rtcp_demux() {
        assert!(looks_like_rtcp(&[0x80, 200]));
        assert!(looks_like_rtcp(&[0x81, 201]));
        assert!(!looks_like_rtcp(&[0x80, 0]));
        assert!(!looks_like_rtcp(&[0x80, 0x88])); // marker + PT 8
        assert!(!looks_like_rtcp(&[0x80]));
    }

    #[test]
    fn rewrite_in_place() {
        let mut v = HAND;
        rewrite_header(&mut v, true, 9, 10, 11).unwrap();
        let p = RtpPacket::parse(&v).unwrap();
        assert!(p.marker());
        assert_eq!((p.sequence(), p.timestamp(), p.ssrc()), (9, 10, 11));
        assert_eq!(p.payload_type(), 0);
    }
}
