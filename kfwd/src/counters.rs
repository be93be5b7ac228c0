//! What the kernel counted for a stream, read back for `query`, RTCP, media timeouts and the
//! hand-back to userspace.

use crate::layout::{self, DROP_MAX, PASS_MAX, STATE_OUT, STATE_SRC};
use crate::rule::{OutputPosition, SourcePosition};

/// Packets of a stream dropped in the kernel, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dropped {
    /// From a source other than the strict one.
    pub wrong_source: u64,
}

/// Packets of a stream passed up to userspace unchanged, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Passed {
    /// RTCP multiplexed on the RTP port.
    pub rtcp: u64,
    /// RFC 4733 telephone events.
    pub telephone_event: u64,
    /// Another payload type.
    pub other_payload_type: u64,
    /// Another SSRC than the pinned one.
    pub ssrc: u64,
    /// A sequence or timestamp jump.
    pub discontinuity: u64,
    /// CSRCs, a header extension, padding or IP options.
    pub unsupported_header: u64,
    /// A payload too long to transcode in the kernel.
    pub too_long: u64,
    /// Not RTP version 2, or lengths that disagree.
    pub malformed: u64,
    /// From a source other than the latched one.
    pub wrong_source: u64,
    /// No route to the peer (left to the stack).
    pub no_route: u64,
    /// An IP fragment.
    pub fragment: u64,
    /// For a peer on this host, from another interface, while loopback refuses local
    /// sources (`net.ipv4.conf.lo.accept_local` = 0).
    pub local_peer: u64,
}

impl Passed {
    /// All packets passed up.
    pub fn total(&self) -> u64 {
        self.rtcp
            + self.telephone_event
            + self.other_payload_type
            + self.ssrc
            + self.discontinuity
            + self.unsupported_header
            + self.too_long
            + self.malformed
            + self.wrong_source
            + self.no_route
            + self.fragment
            + self.local_peer
    }
}

/// One stream's counters and positions as the kernel left them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamCounters {
    /// Packets forwarded by the kernel.
    pub packets: u64,
    /// RTP payload octets forwarded (the SR's octet count).
    pub octets: u64,
    /// When the last packet was forwarded ([`crate::monotonic_ns`] clock), if any was.
    pub last_forwarded_ns: Option<u64>,
    /// The incoming stream's position (as handed over, advanced by what the kernel saw).
    pub source: Option<SourcePosition>,
    /// The output stream's position (as handed over, advanced by what the kernel sent).
    pub output: Option<OutputPosition>,
    /// RFC 3550 interarrival jitter, timestamp units × 16.
    pub jitter_q4: u32,
    /// Dropped in the kernel.
    pub dropped: Dropped,
    /// Passed up to userspace.
    pub passed: Passed,
}

impl StreamCounters {
    #[cfg_attr(not(kfwd_bpf), allow(dead_code))]
    pub(crate) fn from_stats(s: &layout::Stats) -> StreamCounters {
        let d: [u64; DROP_MAX] = s.dropped;
        let p: [u64; PASS_MAX] = s.passed;
        StreamCounters {
            packets: s.packets,
            octets: s.octets,
            last_forwarded_ns: (s.packets > 0).then_some(s.last_seen_ns),
            source: (s.state & STATE_SRC != 0).then_some(SourcePosition {
                max_seq: s.src_max_seq,
                cycles: s.src_cycles,
                last_seq: s.src_last_seq,
                last_ts: s.src_last_ts,
            }),
            output: (s.state & STATE_OUT != 0).then_some(OutputPosition {
                seq: s.out_last_seq,
                ts: s.out_last_ts,
                at_ns: s.out_last_ns,
            }),
            jitter_q4: s.jitter_q4,
            dropped: Dropped { wrong_source: d[0] },
            // The indices are `enum kfwd_pass` in bpf/kfwd.bpf.c.
            passed: Passed {
                rtcp: p[0],
                telephone_event: p[1],
                other_payload_type: p[2],
                ssrc: p[3],
                discontinuity: p[4],
                unsupported_header: p[5],
                too_long: p[6],
                malformed: p[7],
                wrong_source: p[8],
                no_route: p[9],
                fragment: p[10],
                local_peer: p[11],
            },
        }
    }

    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1).
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }
}

/// Counters over all streams (summed over CPUs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GlobalCounters {
    /// Packets whose destination matched a stream.
    pub matched: u64,
    /// Packets that met a stream being replaced in its slot (passed up).
    pub stale: u64,
    /// Packets forwarded out of another interface.
    pub redirected: u64,
    /// Packets forwarded to a peer on this host.
    pub local: u64,
}

/// The kernel's accounting of the program's own runs (every packet on the attached
/// interfaces). Counted only while BPF run-time statistics are enabled: the
/// `kernel.bpf_stats_enabled` sysctl, or `BPF_ENABLE_STATS` held by some process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgramStats {
    /// Runs counted.
    pub runs: u64,
    /// Time spent in the program over those runs.
    pub run_time: std::time::Duration,
}
