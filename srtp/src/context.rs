//! The cryptographic contexts of RFC 3711 §3.2, one per direction: the session keys derived
//! from one master key and the per-SSRC state (rollover counter, replay windows, SRTCP
//! index), protecting or unprotecting packets in the caller's buffer. The crate documentation
//! describes how SSRCs are kept.
//!
//! Nothing here allocates per packet, reads a clock or touches a socket.

use subtle::ConstantTimeEq;

use crate::error::SrtpError;
use crate::kdf::SessionKeys;
use crate::key::{Keying, MAX_LIFETIME, Mki};
use crate::replay::{MAX_RTCP_INDEX, ReplayWindow, estimate_rtp_index};
use crate::streams::Streams;
use crate::suite::Suite;

/// SSRCs a context holds unless told otherwise.
pub const DEFAULT_MAX_SSRCS: usize = 16;

/// Length of the fixed RTP header.
const RTP_HEADER_LEN: usize = 12;

/// Length of the RTCP header plus the sender's SSRC, which SRTCP leaves unencrypted.
const RTCP_CLEAR_LEN: usize = 8;

/// Length of SRTCP's E flag and index word.
const SRTCP_INDEX_LEN: usize = 4;

/// What both directions share.
#[derive(Clone)]
struct Core {
    suite: Suite,
    rtp: SessionKeys,
    rtcp: SessionKeys,
    mki: Option<Mki>,
    packets_left: u64,
    streams: Streams,
}

/// Length of an RTP header (with CSRCs and extension) at the start of `body`, the packet
/// without its SRTP trailer.
fn rtp_header_len(body: &[u8]) -> Result<usize, SrtpError> {
    let b0 = body[0];
    if b0 >> 6 != 2 {
        return Err(SrtpError::BadVersion(b0 >> 6));
    }
    let mut len = RTP_HEADER_LEN + 4 * usize::from(b0 & 0x0F);
    if b0 & 0x10 != 0 {
        let ext = body.get(len..len + 4).ok_or(SrtpError::HeaderOverrun)?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([ext[2], ext[3]]));
    }
    if len > body.len() {
        return Err(SrtpError::HeaderOverrun);
    }
    Ok(len)
}

/// Compares the tag in constant time with the leading bytes of the full MAC.
fn verify(mac: &[u8; 20], tag: &[u8]) -> Result<(), SrtpError> {
    if bool::from(mac[..tag.len()].ct_eq(tag)) {
        Ok(())
    } else {
        Err(SrtpError::AuthFailed)
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl Core {
    fn new(keying: &Keying, max_ssrcs: usize) -> Core {
        let suite = keying.suite();
        Core {
            suite,
            rtp: SessionKeys::derive(keying.master(), false, suite.rtp_tag_len()),
            rtcp: SessionKeys::derive(keying.master(), true, suite.rtcp_tag_len()),
            mki: keying.mki(),
            packets_left: keying.lifetime().unwrap_or(MAX_LIFETIME),
            streams: Streams::new(max_ssrcs),
        }
    }

    fn mki_len(&self) -> usize {
        self.mki.map_or(0, |m| m.len())
    }

    fn rtp_overhead(&self) -> usize {
        self.mki_len() + self.rtp.tag_len()
    }

    fn rtcp_overhead(&self) -> usize {
        SRTCP_INDEX_LEN + self.mki_len() + self.rtcp.tag_len()
    }

    fn check_lifetime(&self) -> Result<(), SrtpError> {
        if self.packets_left == 0 {
            return Err(SrtpError::KeyExpired);
        }
        Ok(())
    }

    /// Checks the packet length against the buffer and the room for the trailer.
    fn check_room(buf: &[u8], len: usize, min: usize, trailer: usize) -> Result<(), SrtpError> {
        if len > buf.len() {
            return Err(SrtpError::LengthOverrun {
                len,
                have: buf.len(),
            });
        }
        if len < min {
            return Err(SrtpError::TooShort { len, min });
        }
        if buf.len() - len < trailer {
            return Err(SrtpError::BufferTooSmall {
                need: len + trailer,
                have: buf.len(),
            });
        }
        Ok(())
    }

    fn write_trailer(&self, out: &mut [u8], mac: &[u8; 20]) {
        let (mki, tag) = out.split_at_mut(self.mki_len());
        if let Some(m) = self.mki {
            m.write(mki);
        }
        tag.copy_from_slice(&mac[..tag.len()]);
    }

    /// The SSRC of the RTP packet `pkt` and its index, estimated from the sequence number and
    /// checked against the replay window.
    fn rtp_index(&self, pkt: &[u8]) -> Result<(u32, u64), SrtpError> {
        let seq = u16::from_be_bytes([pkt[2], pkt[3]]);
        let ssrc = be_u32(&pkt[8..12]);
        let window = self.streams.get(ssrc).and_then(|s| s.rtp);
        let index = estimate_rtp_index(window.map(|w| w.highest()), seq)?;
        if let Some(w) = window {
            w.check(index)?;
        }
        Ok((ssrc, index))
    }

    fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let trailer = self.rtp_overhead();
        Core::check_room(buf, len, RTP_HEADER_LEN, trailer)?;
        let hdr = rtp_header_len(&buf[..len])?;
        self.check_lifetime()?;
        let (ssrc, index) = self.rtp_index(buf)?;
        if !self.streams.can_hold(ssrc) {
            return Err(SrtpError::TooManySsrcs(self.streams.max()));
        }
        self.rtp.crypt(ssrc, index, &mut buf[hdr..len]);
        let roc = (index >> 16) as u32;
        let mac = self.rtp.mac(&buf[..len], &roc.to_be_bytes());
        self.write_trailer(&mut buf[len..len + trailer], &mac);
        self.commit(ssrc, index, false);
        Ok(len + trailer)
    }

    fn unprotect_rtp(&mut self, pkt: &mut [u8]) -> Result<usize, SrtpError> {
        let (len, tag_len, mki_len) = (pkt.len(), self.rtp.tag_len(), self.mki_len());
        let min = RTP_HEADER_LEN + mki_len + tag_len;
        if len < min {
            return Err(SrtpError::TooShort { len, min });
        }
        let body = len - tag_len - mki_len;
        let hdr = rtp_header_len(&pkt[..body])?;
        if let Some(m) = self.mki
            && !m.matches(&pkt[body..body + mki_len])
        {
            return Err(SrtpError::UnknownMki);
        }
        self.check_lifetime()?;
        let (ssrc, index) = self.rtp_index(pkt)?;
        let roc = (index >> 16) as u32;
        let mac = self.rtp.mac(&pkt[..body], &roc.to_be_bytes());
        verify(&mac, &pkt[len - tag_len..])?;
        self.rtp.crypt(ssrc, index, &mut pkt[hdr..body]);
        self.commit(ssrc, index, false);
        Ok(body)
    }

    fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let trailer = self.rtcp_overhead();
        Core::check_room(buf, len, RTCP_CLEAR_LEN, trailer)?;
        if buf[0] >> 6 != 2 {
            return Err(SrtpError::BadVersion(buf[0] >> 6));
        }
        self.check_lifetime()?;
        let ssrc = be_u32(&buf[4..8]);
        let index = match self.streams.get(ssrc).and_then(|s| s.rtcp) {
            Some(w) => w.highest() + 1,
            None => 0,
        };
        if index > MAX_RTCP_INDEX {
            return Err(SrtpError::IndexExhausted);
        }
        if !self.streams.can_hold(ssrc) {
            return Err(SrtpError::TooManySsrcs(self.streams.max()));
        }
        self.rtcp.crypt(ssrc, index, &mut buf[RTCP_CLEAR_LEN..len]);
        // E flag set: the packet is encrypted.
        let e_index = 0x8000_0000 | index as u32;
        buf[len..len + SRTCP_INDEX_LEN].copy_from_slice(&e_index.to_be_bytes());
        let authenticated = len + SRTCP_INDEX_LEN;
        let mac = self.rtcp.mac(&buf[..authenticated], &[]);
        self.write_trailer(&mut buf[authenticated..len + trailer], &mac);
        self.commit(ssrc, index, true);
        Ok(len + trailer)
    }

    fn unprotect_rtcp(&mut self, pkt: &mut [u8]) -> Result<usize, SrtpError> {
        let (len, tag_len, mki_len) = (pkt.len(), self.rtcp.tag_len(), self.mki_len());
        let min = RTCP_CLEAR_LEN + SRTCP_INDEX_LEN + mki_len + tag_len;
        if len < min {
            return Err(SrtpError::TooShort { len, min });
        }
        if pkt[0] >> 6 != 2 {
            return Err(SrtpError::BadVersion(pkt[0] >> 6));
        }
        let authenticated = len - tag_len - mki_len;
        let body = authenticated - SRTCP_INDEX_LEN;
        if let Some(m) = self.mki
            && !m.matches(&pkt[authenticated..authenticated + mki_len])
        {
            return Err(SrtpError::UnknownMki);
        }
        self.check_lifetime()?;
        let e_index = be_u32(&pkt[body..authenticated]);
        let encrypted = e_index >> 31 == 1;
        let index = u64::from(e_index & 0x7FFF_FFFF);
        let ssrc = be_u32(&pkt[4..8]);
        if let Some(w) = self.streams.get(ssrc).and_then(|s| s.rtcp) {
            w.check(index)?;
        }
        let mac = self.rtcp.mac(&pkt[..authenticated], &[]);
        verify(&mac, &pkt[len - tag_len..])?;
        // An authenticated packet whose sender chose not to encrypt (E = 0) is delivered as
        // it came, as RFC 3711 §3.4 describes.
        if encrypted {
            self.rtcp.crypt(ssrc, index, &mut pkt[RTCP_CLEAR_LEN..body]);
        }
        self.commit(ssrc, index, true);
        Ok(body)
    }

    /// Records an accepted (or sent) packet: its index in the SSRC's SRTP or SRTCP window, one
    /// packet off the key's lifetime.
    fn commit(&mut self, ssrc: u32, index: u64, rtcp: bool) {
        let s = self.streams.entry(ssrc);
        let window = if rtcp { &mut s.rtcp } else { &mut s.rtp };
        match window {
            Some(w) => w.accept(index),
            None => *window = Some(ReplayWindow::new(index)),
        }
        self.packets_left -= 1;
    }

    fn roc(&self, ssrc: u32) -> Option<u32> {
        self.streams
            .get(ssrc)
            .and_then(|s| s.rtp)
            .map(|w| (w.highest() >> 16) as u32)
    }
}

macro_rules! common_accessors {
    () => {
        /// The crypto suite.
        pub fn suite(&self) -> Suite {
            self.core.suite
        }

        /// Bytes protecting adds to an RTP packet (MKI and tag).
        pub fn rtp_overhead(&self) -> usize {
            self.core.rtp_overhead()
        }

        /// Bytes protecting adds to an RTCP packet (E flag and index, MKI, tag).
        pub fn rtcp_overhead(&self) -> usize {
            self.core.rtcp_overhead()
        }

        /// The rollover counter of `ssrc`'s SRTP stream, once it has a packet.
        pub fn roc(&self, ssrc: u32) -> Option<u32> {
            self.core.roc(ssrc)
        }

        /// How many SSRCs the context holds state for.
        pub fn ssrc_count(&self) -> usize {
            self.core.streams.len()
        }

        /// Forgets `ssrc` (its stream ended, for instance on an RTCP BYE). Returns whether it
        /// was known.
        pub fn remove_ssrc(&mut self, ssrc: u32) -> bool {
            self.core.streams.remove(ssrc)
        }

        /// Packets the master key may still protect or accept, SRTP and SRTCP together.
        pub fn packets_left(&self) -> u64 {
            self.core.packets_left
        }
    };
}

/// Protects what one endpoint sends. See the [crate documentation](crate) for how SSRCs are
/// kept.
#[derive(Clone)]
pub struct SendContext {
    core: Core,
}

impl SendContext {
    /// A context keyed by `keying`, for up to [`DEFAULT_MAX_SSRCS`] SSRCs.
    pub fn new(keying: &Keying) -> SendContext {
        SendContext::with_max_ssrcs(keying, DEFAULT_MAX_SSRCS)
    }

    /// A context for up to `max_ssrcs` SSRCs (at least 1).
    pub fn with_max_ssrcs(keying: &Keying, max_ssrcs: usize) -> SendContext {
        SendContext {
            core: Core::new(keying, max_ssrcs),
        }
    }

    /// Protects the RTP packet in `buf[..len]` in place: encrypts its payload and appends the
    /// MKI and authentication tag, which need [`rtp_overhead`](Self::rtp_overhead) bytes of
    /// room after `len`. Returns the SRTP packet's length. The packet index comes from the
    /// sequence number and this SSRC's rollover counter, which advances when the sequence
    /// number wraps. Refuses, changing nothing, an index already protected (that would reuse
    /// key stream) and everything [`SrtpError`] lists.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        self.core.protect_rtp(buf, len)
    }

    /// Protects the RTCP compound packet in `buf[..len]` in place: encrypts everything after
    /// the first 8 bytes and appends the E flag, the SRTCP index (0, 1, 2, … per SSRC), the MKI
    /// and the tag, which need [`rtcp_overhead`](Self::rtcp_overhead) bytes of room. Returns
    /// the SRTCP packet's length.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        self.core.protect_rtcp(buf, len)
    }

    common_accessors!();
}

/// Unprotects what one endpoint receives. See the [crate documentation](crate) for how SSRCs
/// are kept.
#[derive(Clone)]
pub struct RecvContext {
    core: Core,
}

impl RecvContext {
    /// A context keyed by `keying`, for up to [`DEFAULT_MAX_SSRCS`] SSRCs.
    pub fn new(keying: &Keying) -> RecvContext {
        RecvContext::with_max_ssrcs(keying, DEFAULT_MAX_SSRCS)
    }

    /// A context for up to `max_ssrcs` SSRCs (at least 1).
    pub fn with_max_ssrcs(keying: &Keying, max_ssrcs: usize) -> RecvContext {
        RecvContext {
            core: Core::new(keying, max_ssrcs),
        }
    }

    /// Unprotects the SRTP packet `pkt` in place: checks its MKI, that its index is neither
    /// replayed nor behind the window, and its tag (in constant time), then decrypts the
    /// payload. Returns the RTP packet's length (the MKI and tag are left after it). The
    /// packet's index is estimated from its sequence number and the SSRC's rollover counter
    /// (RFC 3711 Appendix A), so late packets from before a wrap are accepted. On error `pkt`
    /// is unchanged.
    pub fn unprotect_rtp(&mut self, pkt: &mut [u8]) -> Result<usize, SrtpError> {
        self.core.unprotect_rtp(pkt)
    }

    /// Unprotects the SRTCP packet `pkt` in place, with the same checks against its explicit
    /// index. Returns the RTCP packet's length. On error `pkt` is unchanged.
    pub fn unprotect_rtcp(&mut self, pkt: &mut [u8]) -> Result<usize, SrtpError> {
        self.core.unprotect_rtcp(pkt)
    }

    /// SSRCs forgotten to make room for new ones.
    pub fn evicted_ssrcs(&self) -> u64 {
        self.core.streams.evicted()
    }

    common_accessors!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::MasterKey;

    fn keying() -> Keying {
        let master = MasterKey::new(&[3; 16], &[4; 14]).unwrap();
        Keying::new(Suite::AesCm128HmacSha1_80, master, None, None).unwrap()
    }

    /// An SRTCP packet whose sender chose not to encrypt (E = 0) is authenticated and passed
    /// through as it came.
    #[test]
    fn unencrypted_srtcp_is_authenticated_and_passed_through() {
        let k = keying();
        let keys = SessionKeys::derive(k.master(), true, 10);
        let mut pkt = vec![0x80, 201, 0, 1, 0, 0, 0, 9];
        pkt.extend_from_slice(&[0, 0, 0, 5]); // E = 0, index 5
        let mac = keys.mac(&pkt, &[]);
        pkt.extend_from_slice(&mac[..10]);
        let mut rx = RecvContext::new(&k);
        let mut copy = pkt.clone();
        assert_eq!(rx.unprotect_rtcp(&mut copy), Ok(8));
        assert_eq!(copy[..8], pkt[..8]);
        assert_eq!(rx.unprotect_rtcp(&mut pkt), Err(SrtpError::Replay(5)));
    }

    #[test]
    fn the_srtcp_index_does_not_wrap() {
        let mut tx = SendContext::new(&keying());
        tx.core.streams.entry(9).rtcp = Some(ReplayWindow::new(MAX_RTCP_INDEX - 1));
        let mut buf = [0u8; 64];
        buf[..8].copy_from_slice(&[0x80, 201, 0, 1, 0, 0, 0, 9]);
        let n = tx.protect_rtcp(&mut buf, 8).unwrap();
        assert_eq!(
            buf[8..12],
            [0xFF, 0xFF, 0xFF, 0xFF],
            "E flag and index 2^31 - 1"
        );
        buf[..8].copy_from_slice(&[0x80, 201, 0, 1, 0, 0, 0, 9]);
        assert_eq!(tx.protect_rtcp(&mut buf, 8), Err(SrtpError::IndexExhausted));
        assert_eq!(n, 8 + 4 + 10);
    }
}
