//! The first packet of a new SSRC, kept until the stream's next packet says whether the
//! new SSRC takes over.
//!
//! While an SSRC is live, a newcomer needs two packets in a row to replace it (so a flood
//! of random SSRCs never displaces the real stream; see [`super::rx`]). A sender that
//! really switches streams (a phone that starts a digit on a stream of its own, a
//! gateway that restarts) would lose its first packet to that rule, and the first packet
//! is the one that matters most: the start of an RFC 4733 event, with its marker. So the
//! packet is kept (one per channel, in a buffer allocated once) and handed back when the
//! next packet from the same source and SSRC confirms it, to go through ahead of it. Any
//! other packet forgets it.

use std::net::SocketAddr;

use tandem_codecs::rtp::RtpPacket;

/// Longest packet kept (a full Ethernet payload).
pub(crate) const MAX_HELD: usize = 1500;

/// A kept packet: the bytes (as received, after SRTP), where it came from, its SSRC.
#[derive(Debug)]
pub(crate) struct Held {
    buf: Box<[u8; MAX_HELD]>,
    len: usize,
    from: SocketAddr,
    ssrc: u32,
}

impl Held {
    /// The packet's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Where it came from.
    pub fn from(&self) -> SocketAddr {
        self.from
    }
}

/// The held-packet slot of a channel: empty, or one packet; the buffer stays for reuse.
#[derive(Debug, Default)]
pub(crate) struct HeldSlot {
    held: Option<Held>,
    full: bool,
}

impl HeldSlot {
    /// Keeps `data` (from `from`, of SSRC `ssrc`) in place of whatever was kept.
    pub fn hold(&mut self, from: SocketAddr, ssrc: u32, data: &[u8]) {
        if data.len() > MAX_HELD {
            self.full = false;
            return;
        }
        let h = self.held.get_or_insert_with(|| Held {
            buf: Box::new([0; MAX_HELD]),
            len: 0,
            from,
            ssrc,
        });
        h.buf[..data.len()].copy_from_slice(data);
        h.len = data.len();
        h.from = from;
        h.ssrc = ssrc;
        self.full = true;
    }

    /// Whether a packet is kept.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The kept packet if `data`, just received from `from`, confirms its SSRC (same source,
    /// same SSRC); it is then no longer kept. Any other packet forgets it.
    #[inline]
    pub fn release(&mut self, from: SocketAddr, data: &[u8]) -> Option<Held> {
        if !self.full {
            return None;
        }
        self.full = false;
        let h = self.held.as_ref()?;
        let ssrc = RtpPacket::parse(data).ok()?.ssrc();
        (h.from == from && h.ssrc == ssrc)
            .then(|| self.held.take())
            .flatten()
    }

    /// Gives the buffer back for the next packet kept.
    pub fn restore(&mut self, held: Held) {
        if self.held.is_none() {
            self.held = Some(held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_codecs::rtp::RtpHeader;

    fn rtp(ssrc: u32, seq: u16) -> Vec<u8> {
        let mut out = Vec::new();
        RtpHeader {
            ssrc,
            sequence: seq,
            ..RtpHeader::default()
        }
        .write(&mut out, &[1, 2, 3])
        .unwrap();
        out
    }

    #[test]
    fn only_the_same_source_and_ssrc_release_the_packet() {
        let x: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let y: SocketAddr = "192.0.2.2:4000".parse().unwrap();
        let mut s = HeldSlot::default();
        assert!(s.release(x, &rtp(7, 1)).is_none(), "nothing kept");
        s.hold(x, 7, &rtp(7, 1));
        assert!(s.release(y, &rtp(7, 2)).is_none(), "another source");
        assert!(s.release(x, &rtp(7, 2)).is_none(), "forgotten by then");
        s.hold(x, 7, &rtp(7, 1));
        assert!(s.release(x, &rtp(8, 2)).is_none(), "another SSRC");
        s.hold(x, 7, &rtp(7, 1));
        let h = s.release(x, &rtp(7, 2)).expect("confirmed");
        assert_eq!((h.bytes(), h.from()), (&rtp(7, 1)[..], x));
        s.restore(h);
        assert!(s.release(x, &rtp(7, 3)).is_none(), "released once");
        s.hold(x, 9, &[0; MAX_HELD + 1]);
        assert!(s.release(x, &rtp(9, 2)).is_none(), "too long to keep");
    }
}
