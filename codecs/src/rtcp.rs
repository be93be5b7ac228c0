//! RTCP (RFC 3550 §6): parse and build compound packets of SR, RR, SDES, BYE and APP.
//!
//! [`Compound::parse`] validates a compound packet per RFC 3550 Appendix A.2 and then yields
//! zero-copy views of its packets. Packet types other than the five above (RTPFB, PSFB, XR …)
//! are passed through as [`RtcpPacket::Unknown`], since a relay must not reject what it does
//! not interpret.

use bytes::BufMut;
use thiserror::Error;

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of application-defined.
pub const PT_APP: u8 = 204;

/// SDES item type of the canonical name.
pub const SDES_CNAME: u8 = 1;

/// Why a byte string is not a valid RTCP compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    /// Empty, or shorter than one 4-byte header.
    #[error("RTCP packet too short ({0} bytes)")]
    TooShort(usize),
    /// A version field is not 2.
    #[error("RTCP version is {0}, expected 2")]
    BadVersion(u8),
    /// The first packet is neither SR nor RR.
    #[error("compound packet starts with type {0}, not SR or RR")]
    FirstNotReport(u8),
    /// A length field runs past the end of the datagram.
    #[error("packet length field runs past the end of the datagram")]
    LengthOverrun,
    /// Padding on a packet other than the last, or an invalid padding count.
    #[error("invalid padding")]
    BadPadding,
    /// A packet body is shorter than its type requires for its count field.
    #[error("packet type {0} body is too short for its count")]
    Truncated(u8),
    /// Too many items for the 5-bit count field, or an oversized field when building.
    #[error("value out of range for the RTCP field")]
    OutOfRange,
}

/// One report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received (0 if none).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    const LEN: usize = 24;

    fn parse(b: &[u8]) -> ReportBlock {
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let lost24 = word(4) & 0x00FF_FFFF;
        // Sign-extend the 24-bit cumulative loss.
        let cumulative_lost = ((lost24 << 8) as i32) >> 8;
        ReportBlock {
            ssrc: word(0),
            fraction_lost: b[4],
            cumulative_lost,
            highest_seq: word(8),
            jitter: word(12),
            last_sr: word(16),
            delay_since_last_sr: word(20),
        }
    }

    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u32(self.ssrc);
        let lost = self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32 & 0x00FF_FFFF;
        buf.put_u32((u32::from(self.fraction_lost) << 24) | lost);
        buf.put_u32(self.highest_seq);
        buf.put_u32(self.jitter);
        buf.put_u32(self.last_sr);
        buf.put_u32(self.delay_since_last_sr);
    }

    /// Round-trip time in 1/65536 s from this block, given the arrival time `now_ntp_mid`
    /// (middle 32 bits of NTP time): `A - LSR - DLSR` (RFC 3550 §6.4.1). `None` if the peer
    /// has not received a sender report yet.
    pub fn round_trip(&self, now_ntp_mid: u32) -> Option<u32> {
        if self.last_sr == 0 {
            return None;
        }
        Some(
            now_ntp_mid
                .wrapping_sub(self.last_sr)
                .wrapping_sub(self.delay_since_last_sr),
        )
    }
}

/// Iterator over report blocks.
#[derive(Clone, Debug)]
pub struct ReportBlocks<'a> {
    data: &'a [u8],
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;
    fn next(&mut self) -> Option<ReportBlock> {
        if self.data.len() < ReportBlock::LEN {
            return None;
        }
        let (b, rest) = self.data.split_at(ReportBlock::LEN);
        self.data = rest;
        Some(ReportBlock::parse(b))
    }
}

/// Sender info of a sender report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// NTP timestamp (64-bit fixed point, seconds since 1900).
    pub ntp: u64,
    /// RTP timestamp corresponding to `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
}

/// A parsed SR.
#[derive(Clone, Debug)]
pub struct SenderReport<'a> {
    /// Sender's SSRC.
    pub ssrc: u32,
    /// Sender info.
    pub info: SenderInfo,
    blocks: &'a [u8],
}

impl<'a> SenderReport<'a> {
    /// The report blocks.
    pub fn blocks(&self) -> ReportBlocks<'a> {
        ReportBlocks { data: self.blocks }
    }
}

/// A parsed RR.
#[derive(Clone, Debug)]
pub struct ReceiverReport<'a> {
    /// Reporter's SSRC.
    pub ssrc: u32,
    blocks: &'a [u8],
}

impl<'a> ReceiverReport<'a> {
    /// The report blocks.
    pub fn blocks(&self) -> ReportBlocks<'a> {
        ReportBlocks { data: self.blocks }
    }
}

/// A parsed SDES packet.
#[derive(Clone, Debug)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    /// The chunks, each an SSRC with its items. Yields an `Err` and stops if malformed.
    pub fn chunks(&self) -> SdesChunks<'a> {
        SdesChunks {
            data: self.body,
            left: self.count,
        }
    }
}

/// One SDES chunk.
#[derive(Clone, Debug)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The items as `(type, value)`.
    pub fn items(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut d = self.items;
        std::iter::from_fn(move || {
            let (&t, rest) = d.split_first()?;
            if t == 0 {
                return None;
            }
            let (&len, rest) = rest.split_first()?;
            let v = rest.get(..len as usize)?;
            d = &rest[len as usize..];
            Some((t, v))
        })
    }

    /// The CNAME item, if any.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items().find(|(t, _)| *t == SDES_CNAME).map(|(_, v)| v)
    }
}

/// Iterator over SDES chunks.
#[derive(Clone, Debug)]
pub struct SdesChunks<'a> {
    data: &'a [u8],
    left: u8,
}

impl<'a> Iterator for SdesChunks<'a> {
    type Item = Result<SdesChunk<'a>, RtcpError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let fail = |s: &mut Self| {
            s.left = 0;
            Some(Err(RtcpError::Truncated(PT_SDES)))
        };
        if self.data.len() < 4 {
            return fail(self);
        }
        let ssrc = u32::from_be_bytes([self.data[0], self.data[1], self.data[2], self.data[3]]);
        // Items run to a null type byte; the chunk is then padded to a 32-bit boundary.
        let mut i = 4;
        loop {
            match self.data.get(i) {
                None => return fail(self),
                Some(0) => break,
                Some(_) => match self.data.get(i + 1) {
                    None => return fail(self),
                    Some(&len) => i += 2 + len as usize,
                },
            }
        }
        let items = match self.data.get(4..i) {
            Some(x) => x,
            None => return fail(self),
        };
        let end = (i + 1).div_ceil(4) * 4;
        if end > self.data.len() {
            return fail(self);
        }
        self.data = &self.data[end..];
        Some(Ok(SdesChunk { ssrc, items }))
    }
}

/// A parsed BYE.
#[derive(Clone, Debug)]
pub struct Bye<'a> {
    ssrcs: &'a [u8],
    /// Optional reason for leaving.
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// The sources leaving.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.ssrcs
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// A parsed APP packet.
#[derive(Clone, Debug)]
pub struct App<'a> {
    /// Subtype (the 5-bit count field).
    pub subtype: u8,
    /// Sender SSRC.
    pub ssrc: u32,
    /// Four ASCII name bytes.
    pub name: [u8; 4],
    /// Application data.
    pub data: &'a [u8],
}

/// One packet of a compound packet.
#[derive(Clone, Debug)]
pub enum RtcpPacket<'a> {
    /// Sender report.
    SenderReport(SenderReport<'a>),
    /// Receiver report.
    ReceiverReport(ReceiverReport<'a>),
    /// Source description.
    Sdes(Sdes<'a>),
    /// Goodbye.
    Bye(Bye<'a>),
    /// Application-defined.
    App(App<'a>),
    /// Any other type, uninterpreted.
    Unknown {
        /// Packet type.
        pt: u8,
        /// Count / format field.
        count: u8,
        /// Body after the 4-byte header, padding removed.
        body: &'a [u8],
    },
}

/// A validated compound RTCP packet.
#[derive(Clone, Copy, Debug)]
pub struct Compound<'a> {
    buf: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Validates `buf` per RFC 3550 A.2: version 2 everywhere, the first packet SR or RR,
    /// padding only on the last packet, and lengths that add up to the datagram. Each
    /// packet's body is also checked against its type. Never panics.
    pub fn parse(buf: &'a [u8]) -> Result<Compound<'a>, RtcpError> {
        if buf.len() < 4 {
            return Err(RtcpError::TooShort(buf.len()));
        }
        if buf[1] != PT_SR && buf[1] != PT_RR {
            if buf[0] >> 6 != 2 {
                return Err(RtcpError::BadVersion(buf[0] >> 6));
            }
            return Err(RtcpError::FirstNotReport(buf[1]));
        }
        let c = Compound { buf };
        let mut it = c.raw();
        while let Some(p) = it.next_raw() {
            let (b0, pt, body) = p?;
            parse_one(b0, pt, body)?;
        }
        Ok(c)
    }

    fn raw(&self) -> RawIter<'a> {
        RawIter { data: self.buf }
    }

    /// The packets.
    pub fn packets(&self) -> impl Iterator<Item = RtcpPacket<'a>> + 'a {
        let mut it = self.raw();
        std::iter::from_fn(move || {
            let (b0, pt, body) = it.next_raw()?.ok()?;
            parse_one(b0, pt, body).ok()
        })
    }
}

struct RawIter<'a> {
    data: &'a [u8],
}

impl<'a> RawIter<'a> {
    #[allow(clippy::type_complexity)]
    fn next_raw(&mut self) -> Option<Result<(u8, u8, &'a [u8]), RtcpError>> {
        if self.data.is_empty() {
            return None;
        }
        let r = self.split();
        if r.is_err() {
            self.data = &[];
        }
        Some(r)
    }

    fn split(&mut self) -> Result<(u8, u8, &'a [u8]), RtcpError> {
        let d = self.data;
        if d.len() < 4 {
            return Err(RtcpError::TooShort(d.len()));
        }
        if d[0] >> 6 != 2 {
            return Err(RtcpError::BadVersion(d[0] >> 6));
        }
        let len = (u16::from_be_bytes([d[2], d[3]]) as usize + 1) * 4;
        if len > d.len() {
            return Err(RtcpError::LengthOverrun);
        }
        let mut body = &d[4..len];
        let last = len == d.len();
        if d[0] & 0x20 != 0 {
            if !last {
                return Err(RtcpError::BadPadding);
            }
            let pad = *body.last().ok_or(RtcpError::BadPadding)? as usize;
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::BadPadding);
            }
            body = &body[..body.len() - pad];
        }
        self.data = &d[len..];
        Ok((d[0], d[1], body))
    }
}

fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn parse_one(b0: u8, pt: u8, body: &[u8]) -> Result<RtcpPacket<'_>, RtcpError> {
    let count = b0 & 0x1F;
    let need = |n: usize| {
        if body.len() < n {
            Err(RtcpError::Truncated(pt))
        } else {
            Ok(())
        }
    };
    Ok(match pt {
        PT_SR => {
            let blocks = 24 + ReportBlock::LEN * count as usize;
            need(blocks)?;
            RtcpPacket::SenderReport(SenderReport {
                ssrc: be32(body, 0),
                info: SenderInfo {
                    ntp: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                    rtp_timestamp: be32(body, 12),
                    packet_count: be32(body, 16),
                    octet_count: be32(body, 20),
                },
                blocks: &body[24..blocks],
            })
        }
        PT_RR => {
            let blocks = 4 + ReportBlock::LEN * count as usize;
            need(blocks)?;
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: be32(body, 0),
                blocks: &body[4..blocks],
            })
        }
        PT_SDES => {
            let s = Sdes { count, body };
            for c in s.chunks() {
                c?;
            }
            RtcpPacket::Sdes(s)
        }
        PT_BYE => {
            let n = 4 * count as usize;
            need(n)?;
            let reason = match body.get(n) {
                None => None,
                Some(&len) => Some(
                    body.get(n + 1..n + 1 + len as usize)
                        .ok_or(RtcpError::Truncated(pt))?,
                ),
            };
            RtcpPacket::Bye(Bye {
                ssrcs: &body[..n],
                reason,
            })
        }
        PT_APP => {
            need(8)?;
            RtcpPacket::App(App {
                subtype: count,
                ssrc: be32(body, 0),
                name: [body[4], body[5], body[6], body[7]],
                data: &body[8..],
            })
        }
        _ => RtcpPacket::Unknown { pt, count, body },
    })
}

/// Writes an RTCP header for a packet whose body is `body_len` bytes (a multiple of 4).
fn put_header(buf: &mut impl BufMut, count: u8, pt: u8, body_len: usize) {
    buf.put_u8(0x80 | count);
    buf.put_u8(pt);
    buf.put_u16((body_len / 4) as u16);
}

/// Writes a sender report.
pub fn write_sr(
    buf: &mut impl BufMut,
    ssrc: u32,
    info: &SenderInfo,
    blocks: &[ReportBlock],
) -> Result<(), RtcpError> {
    if blocks.len() > 31 {
        return Err(RtcpError::OutOfRange);
    }
    put_header(buf, blocks.len() as u8, PT_SR, 24 + 24 * blocks.len());
    buf.put_u32(ssrc);
    buf.put_u64(info.ntp);
    buf.put_u32(info.rtp_timestamp);
    buf.put_u32(info.packet_count);
    buf.put_u32(info.octet_count);
    for b in blocks {
        b.write(buf);
    }
    Ok(())
}

/// Writes a receiver report.
pub fn write_rr(buf: &mut impl BufMut, ssrc: u32, blocks: &[ReportBlock]) -> Result<(), RtcpError> {
    if blocks.len() > 31 {
        return Err(RtcpError::OutOfRange);
    }
    put_header(buf, blocks.len() as u8, PT_RR, 4 + 24 * blocks.len());
    buf.put_u32(ssrc);
    for b in blocks {
        b.write(buf);
    }
    Ok(())
}

/// SDES items of one chunk as `(type, value)`.
pub type SdesItems<'a> = &'a [(u8, &'a [u8])];

/// Writes an SDES packet with one chunk per `(ssrc, items)`.
pub fn write_sdes(buf: &mut impl BufMut, chunks: &[(u32, SdesItems<'_>)]) -> Result<(), RtcpError> {
    if chunks.len() > 31 {
        return Err(RtcpError::OutOfRange);
    }
    let mut body = 0;
    for (_, items) in chunks {
        let mut n = 4;
        for (t, v) in *items {
            if *t == 0 || v.len() > 255 {
                return Err(RtcpError::OutOfRange);
            }
            n += 2 + v.len();
        }
        body += (n + 1).div_ceil(4) * 4;
    }
    if body / 4 > usize::from(u16::MAX) {
        return Err(RtcpError::OutOfRange);
    }
    put_header(buf, chunks.len() as u8, PT_SDES, body);
    for (ssrc, items) in chunks {
        buf.put_u32(*ssrc);
        let mut n = 4;
        for (t, v) in *items {
            buf.put_u8(*t);
            buf.put_u8(v.len() as u8);
            buf.put_slice(v);
            n += 2 + v.len();
        }
        // A null item ends the list, then zeros to the next 32-bit boundary.
        let end = (n + 1).div_ceil(4) * 4;
        buf.put_bytes(0, end - n);
    }
    Ok(())
}

/// Writes a BYE for `ssrcs` with an optional reason.
pub fn write_bye(
    buf: &mut impl BufMut,
    ssrcs: &[u32],
    reason: Option<&[u8]>,
) -> Result<(), RtcpError> {
    if ssrcs.len() > 31 || reason.is_some_and(|r| r.len() > 255) {
        return Err(RtcpError::OutOfRange);
    }
    let reason_len = reason.map_or(0, |r| (1 + r.len()).div_ceil(4) * 4);
    put_header(buf, ssrcs.len() as u8, PT_BYE, 4 * ssrcs.len() + reason_len);
    for s in ssrcs {
        buf.put_u32(*s);
    }
    if let Some(r) = reason {
        buf.put_u8(r.len() as u8);
        buf.put_slice(r);
        buf.put_bytes(0, reason_len - 1 - r.len());
    }
    Ok(())
}

/// Writes an APP packet. `data` must be a multiple of 4 bytes.
pub fn write_app(
    buf: &mut impl BufMut,
    subtype: u8,
    ssrc: u32,
    name: [u8; 4],
    data: &[u8],
) -> Result<(), RtcpError> {
    if subtype > 31 || data.len() % 4 != 0 || data.len() > 4 * (u16::MAX as usize - 2) {
        return Err(RtcpError::OutOfRange);
    }
    put_header(buf, subtype, PT_APP, 8 + data.len());
    buf.put_u32(ssrc);
    buf.put_slice(&name);
    buf.put_slice(data);
    Ok(())
}

/// The middle 32 bits of a 64-bit NTP timestamp, as used in LSR and RTT.
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// Fraction lost in 1/256 from packets expected and lost in an interval (RFC 3550 A.3).
pub fn fraction_lost(expected_interval: u64, lost_interval: i64) -> u8 {
    if expected_interval == 0 || lost_interval <= 0 {
        0
    } else {
        ((lost_interval as u64 * 256) / expected_interval).min(255) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_rr_parses() {
        // RR from SSRC 0x01020304 with one block about 0x0A0B0C0D: 25/256 lost, 3 total.
        let pkt: [u8; 32] = [
            0x81, 201, 0, 7, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D, 25, 0, 0, 3, 0, 1, 0, 5, 0, 0, 0,
            40, 0x12, 0x34, 0x56, 0x78, 0, 1, 0, 0,
        ];
        let c = Compound::parse(&pkt).unwrap();
        let p: Vec<_> = c.packets().collect();
        let RtcpPacket::ReceiverReport(rr) = &p[0] else {
            panic!("not an RR")
        };
        assert_eq!(rr.ssrc, 0x0102_0304);
        let b: Vec<_> = rr.blocks().collect();
        assert_eq!(b[0].ssrc, 0x0A0B_0C0D);
        assert_eq!(b[0].fraction_lost, 25);
        assert_eq!(b[0].cumulative_lost, 3);
        assert_eq!(b[0].highest_seq, 65541);
        assert_eq!(b[0].jitter, 40);
        // RTT: A = LSR + DLSR + 0.5 s → 32768 units.
        assert_eq!(b[0].round_trip(0x1235_5678 + 0x8000), Some(0x8000));
    }

    #[test]
    fn validation_rules_of_appendix_a2() {
        let mut sr = Vec::new();
        write_sr(&mut sr, 1, &SenderInfo::default(), &[]).unwrap();
        let mut bye = Vec::new();
        write_bye(&mut bye, &[1], None).unwrap();
        // BYE first: rejected.
        assert_eq!(
            Compound::parse(&bye).unwrap_err(),
            RtcpError::FirstNotReport(PT_BYE)
        );
        // SR + BYE: fine.
        let mut both = sr.clone();
        both.extend_from_slice(&bye);
        assert!(Compound::parse(&both).is_ok());
        // Padding bit on the first of two packets: rejected.
        let mut padded = both.clone();
        padded[0] |= 0x20;
        assert!(Compound::parse(&padded).is_err());
        // Lengths that overrun: rejected.
        let mut long = both.clone();
        long[3] += 1;
        assert!(Compound::parse(&long).is_err());
    }

    #[test]
    fn hand_written_sr_sdes_bye_compound() {
        // RFC 3550 §6.4.1 SR with no blocks, §6.5 SDES with CNAME "ab" (4 + 2 + 2 bytes, a null
        // item, then zeros to 12 bytes), §6.6 BYE with reason "x".
        let pkt: [u8; 56] = [
            0x80, 200, 0, 6, 0, 0, 0, 7, // SR, length 6 words, SSRC 7
            0x83, 0xAA, 0xBB, 0xCC, 0x40, 0, 0, 0, // NTP 0x83AABBCC.40000000
            0, 0, 0x03, 0xE8, 0, 0, 0, 5, 0, 0, 0, 0xA0, // ts 1000, 5 packets, 160 octets
            0x81, 202, 0, 3, 0, 0, 0, 7, // SDES, 1 chunk, length 3 words
            1, 2, b'a', b'b', 0, 0, 0, 0, // CNAME "ab", null item, padding
            0x81, 203, 0, 2, 0, 0, 0, 7, // BYE, 1 SSRC, length 2 words
            1, b'x', 0, 0, // reason "x"
        ];
        let c = Compound::parse(&pkt).unwrap();
        let p: Vec<_> = c.packets().collect();
        assert_eq!(p.len(), 3);
        let RtcpPacket::SenderReport(sr) = &p[0] else {
            panic!("not an SR")
        };
        assert_eq!(sr.ssrc, 7);
        assert_eq!(sr.info.ntp, 0x83AA_BBCC_4000_0000);
        assert_eq!(ntp_middle(sr.info.ntp), 0xBBCC_4000);
        assert_eq!(
            (
                sr.info.rtp_timestamp,
                sr.info.packet_count,
                sr.info.octet_count
            ),
            (1000, 5, 160)
        );
        assert_eq!(sr.blocks().count(), 0);
        let RtcpPacket::Sdes(sdes) = &p[1] else {
            panic!("not SDES")
        };
        let chunks: Vec<_> = sdes.chunks().map(|c| c.unwrap()).collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].ssrc, 7);
        assert_eq!(chunks[0].cname(), Some(&b"ab"[..]));
        let RtcpPacket::Bye(bye) = &p[2] else {
            panic!("not BYE")
        };
        assert_eq!(bye.ssrcs().collect::<Vec<_>>(), vec![7]);
        assert_eq!(bye.reason, Some(&b"x"[..]));

        // The builders produce the same bytes.
        let mut built = Vec::new();
        let info = SenderInfo {
            ntp: 0x83AA_BBCC_4000_0000,
            rtp_timestamp: 1000,
            packet_count: 5,
            octet_count: 160,
        };
        write_sr(&mut built, 7, &info, &[]).unwrap();
        write_sdes(&mut built, &[(7, &[(SDES_CNAME, &b"ab"[..])])]).unwrap();
        write_bye(&mut built, &[7], Some(b"x")).unwrap();
        assert_eq!(built, pkt);
    }

    #[test]
    fn unknown_types_pass_through() {
        // RR (no blocks) followed by an RTPFB generic NACK (RFC 4585, PT 205, FMT 1).
        let pkt = [
            0x80, 201, 0, 1, 0, 0, 0, 1, // RR
            0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x10, 0x00, 0x03,
        ];
        let c = Compound::parse(&pkt).unwrap();
        let p: Vec<_> = c.packets().collect();
        assert_eq!(p.len(), 2);
        let RtcpPacket::Unknown { pt, count, body } = &p[1] else {
            panic!("NACK should pass through as Unknown")
        };
        assert_eq!((*pt, *count, body.len()), (205, 1, 12));
    }

    #[test]
    fn negative_cumulative_loss_round_trips() {
        let b = ReportBlock {
            cumulative_lost: -5,
            ..Default::default()
        };
        let mut v = Vec::new();
        write_rr(&mut v, 9, &[b]).unwrap();
        let c = Compound::parse(&v).unwrap();
        let Some(RtcpPacket::ReceiverReport(rr)) = c.packets().next() else {
            panic!()
        };
        assert_eq!(rr.blocks().next().unwrap().cumulative_lost, -5);
    }

    #[test]
    fn fraction_lost_matches_rfc_formula() {
        assert_eq!(fraction_lost(100, 10), 25); // 10/100*256 = 25.6 → 25
        assert_eq!(fraction_lost(100, -3), 0);
        assert_eq!(fraction_lost(0, 0), 0);
    }
}
