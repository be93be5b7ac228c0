//! A channel's SRTP (RFC 3711, keyed by SDES): what its party sends is unprotected before
//! ingress sees it, and what it sends is protected as it is queued.
//!
//! Both work in place: an SRTP datagram is copied into the shard's scratch buffer and
//! unprotected there; a packet to send is written into the transmit arena and protected
//! where it lies (its trailer appended). A channel without SRTP pays one branch.

use tandem_codecs::rtp::looks_like_rtcp;
use tandem_srtp::{RecvContext, SendContext, SrtpError};

use super::Channel;
use crate::spec::{RtcpMode, SrtpKeys};
use crate::stats::ChannelStats;
use crate::transmit::TransmitQueue;

/// Longest SRTP datagram unprotected (a UDP payload on an Ethernet path; anything longer
/// is not audio this engine relays).
pub(crate) const MAX_SRTP_DATAGRAM: usize = 1500;

/// The two contexts of a channel with SRTP.
pub(crate) struct Crypto {
    recv: RecvContext,
    send: SendContext,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypto")
            .field("suite", &self.send.suite())
            .finish_non_exhaustive()
    }
}

impl Crypto {
    /// Contexts for `keys`.
    pub(crate) fn new(keys: &SrtpKeys) -> Crypto {
        Crypto {
            recv: RecvContext::new(&keys.inbound),
            send: SendContext::new(&keys.outbound),
        }
    }
}

/// Counts a refused packet in the channel's counters.
fn count(stats: &mut ChannelStats, e: SrtpError) {
    match e {
        SrtpError::AuthFailed => stats.srtp_auth_failures += 1,
        SrtpError::Replay(_) | SrtpError::TooOld(_) => stats.srtp_replays += 1,
        _ => stats.srtp_errors += 1,
    }
}

impl Channel {
    /// Keys the channel afresh, or turns SRTP off.
    pub fn set_srtp(&mut self, keys: Option<&SrtpKeys>) {
        self.crypto = keys.map(|k| Box::new(Crypto::new(k)));
        self.spec.srtp = keys.cloned().map(Box::new);
    }

    /// The datagram as ingress must see it: `data` itself on a plain channel; on an SRTP
    /// channel, the packet unprotected into `scratch`, or `None` (dropped and counted) when
    /// it does not authenticate, is a replay or cannot be SRTP.
    #[inline(always)]
    pub fn unprotect<'a>(
        &mut self,
        rtcp_port: bool,
        data: &'a [u8],
        scratch: &'a mut [u8],
    ) -> Option<&'a [u8]> {
        if self.crypto.is_none() {
            return Some(data);
        }
        self.unprotect_srtp(rtcp_port, data, scratch)
    }

    #[inline(never)]
    fn unprotect_srtp<'a>(
        &mut self,
        rtcp_port: bool,
        data: &'a [u8],
        scratch: &'a mut [u8],
    ) -> Option<&'a [u8]> {
        let c = self.crypto.as_deref_mut()?;
        let Some(buf) = scratch.get_mut(..data.len()) else {
            self.stats.srtp_errors += 1;
            return None;
        };
        buf.copy_from_slice(data);
        let rtcp = rtcp_port || (self.spec.rtcp == RtcpMode::Mux && looks_like_rtcp(data));
        let done = if rtcp {
            c.recv.unprotect_rtcp(buf)
        } else {
            c.recv.unprotect_rtp(buf)
        };
        match done {
            Ok(n) => Some(&buf[..n]),
            Err(e) => {
                count(&mut self.stats, e);
                None
            }
        }
    }

    /// Protects the packet last queued on `transmits` (SRTP, or SRTCP when `rtcp`) in place;
    /// false (and the packet dropped, and counted) when it cannot be.
    #[inline(never)]
    pub(super) fn protect_last(&mut self, transmits: &mut TransmitQueue, rtcp: bool) -> bool {
        let Some(c) = self.crypto.as_deref_mut() else {
            return true;
        };
        let stats = &mut self.stats;
        transmits.seal_last(|buf, start| {
            let len = buf.len() - start;
            let room = if rtcp {
                c.send.rtcp_overhead()
            } else {
                c.send.rtp_overhead()
            };
            buf.resize(buf.len() + room, 0);
            let done = if rtcp {
                c.send.protect_rtcp(&mut buf[start..], len)
            } else {
                c.send.protect_rtp(&mut buf[start..], len)
            };
            match done {
                Ok(n) => {
                    buf.truncate(start + n);
                    true
                }
                Err(e) => {
                    count(stats, e);
                    false
                }
            }
        })
    }
}
