//! Per-channel counters, reported on request and when a channel closes.

/// What one channel received, dropped, sent, and learnt from its peer's RTCP.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChannelStats {
    /// Valid RTP packets accepted from the remote.
    pub packets_received: u64,
    /// Payload bytes of those packets.
    pub bytes_received: u64,
    /// Datagrams that were not valid RTP or RTCP.
    pub malformed: u64,
    /// Packets from a source other than the remote, dropped in strict mode.
    pub wrong_source: u64,
    /// Packets from a source that has not taken over from the remote (not strict mode),
    /// dropped.
    pub unlatched_source: u64,
    /// Packets from one of the engine's own media sockets (a loop), dropped.
    pub own_source: u64,
    /// Times a new source took over the stream (a party that moved, or NAT rebinding).
    pub source_changes: u64,
    /// Packets with a payload type this channel did not negotiate.
    pub unknown_payload_type: u64,
    /// Packets from an SSRC that did not (yet) replace the current one.
    pub ssrc_rejected: u64,
    /// Times the remote's SSRC changed.
    pub ssrc_changes: u64,
    /// Packets dropped for a sequence jump that the next packet did not confirm.
    pub sequence_jumps: u64,
    /// Timestamp discontinuities re-based (jumps not explained by the sequence numbers).
    pub timestamp_jumps: u64,
    /// Packets lost, from the extended sequence numbers (RFC 3550 A.3; may be negative
    /// with duplicates).
    pub packets_lost: i64,
    /// Interarrival jitter (RFC 3550 §6.4.1), microseconds.
    pub jitter_us: u64,
    /// Duplicate packets discarded by the jitter buffer.
    pub duplicates: u64,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Frames concealed by packet-loss concealment with audible output: losses, late
    /// packets, frames the adaptive buffer inserts to grow, and the fade after a stream's
    /// last packet (the first 60 ms; after that, and before any audio, pops are silence).
    pub concealed_frames: u64,
    /// Frames the adaptive jitter buffer skipped to shrink.
    pub jitter_dropped_frames: u64,
    /// Frames it inserted to grow (concealment once audio has played, silence before).
    pub jitter_stretched_frames: u64,
    /// Its current target depth, ms.
    pub jitter_target_ms: u32,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// RTCP compound packets received and parsed.
    pub rtcp_received: u64,
    /// Bytes of those RTCP packets (whole datagrams, after SRTCP).
    pub rtcp_bytes_received: u64,
    /// RTCP datagrams dropped: not parseable RTCP, or from a host other than the remote's.
    pub rtcp_errors: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// Fraction lost the peer last reported for our stream, 0..=1.
    pub remote_fraction_lost: f64,
    /// Cumulative loss the peer last reported for our stream.
    pub remote_cumulative_lost: i32,
    /// Jitter the peer last reported, microseconds.
    pub remote_jitter_us: u64,
    /// Last round-trip time from RTCP (RFC 3550 §6.4.1), microseconds.
    pub round_trip_us: Option<u64>,
    /// DTMF digits received (one per digit, however many end packets carried it).
    pub dtmf_received: u64,
    /// SRTP and SRTCP packets dropped because their authentication tag did not match.
    pub srtp_auth_failures: u64,
    /// SRTP and SRTCP packets dropped as replays (already seen, or behind the window).
    pub srtp_replays: u64,
    /// SRTP and SRTCP packets dropped for another reason (too short, unknown MKI, key
    /// expired), and packets that could not be protected (so were not sent).
    pub srtp_errors: u64,
}
