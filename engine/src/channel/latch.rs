//! Source learning: where a channel's remote party sends from, and when another source may
//! take the stream over.
//!
//! A relay cannot tell a phone that moved (a NAT rebinding, an endpoint behind NAT whose SDP
//! names its private address) from a stranger who found the port: both are packets from a
//! new address. The rules follow rtpengine's endpoint learning (the address signalled in
//! the SDP is preferred; `strict source` fixes the source once learnt), made stricter so
//! that a stranger never reaches the other party:
//!
//! 1. Packets from the current remote are accepted.
//! 2. Packets from the address signalling named are accepted, and it becomes the remote at
//!    once: signalling is believed.
//! 3. Packets from one of the engine's own media sockets are dropped (a loop).
//! 4. With no remote at all (nothing signalled, nothing heard yet) the first valid packet
//!    latches its source (symmetric RTP).
//! 5. With `strict source`, once a source has been heard nothing else can take over.
//! 6. Otherwise a new source takes over only after it has sent [`Latching::packets`]
//!    consecutive packets (one SSRC, sequence numbers in order, each within
//!    [`Latching::idle_ms`] of the one before), and only while the current remote is not
//!    live (silent for at least `idle_ms`). Until then its packets are dropped, never
//!    forwarded.
//!
//! So two packets from a stranger, an SSRC flood or a spoof of the live SSRC change
//! nothing while the real party talks; a party that really moves (its old source stops)
//! is followed within `idle_ms` plus a few packets. Candidates are kept in a small fixed
//! table, so a flood from many addresses costs no memory.
//!
//! [`Latching::packets`]: crate::spec::Latching::packets
//! [`Latching::idle_ms`]: crate::spec::Latching::idle_ms

use std::net::SocketAddr;

use tandem_codecs::seq::seq_diff;

use crate::time::Micros;

/// New sources tracked at once; the one heard least recently gives way.
const SLOTS: usize = 4;
/// Largest forward sequence step that still counts as in order (one or two losses).
const MAX_STEP: i16 = 3;

#[derive(Clone, Copy, Debug)]
struct Candidate {
    from: SocketAddr,
    ssrc: u32,
    seq: u16,
    count: u8,
    last: Micros,
}

/// Sources other than the current remote, with how many consistent packets each has sent.
#[derive(Clone, Debug, Default)]
pub(crate) struct Candidates {
    slots: [Option<Candidate>; SLOTS],
}

impl Candidates {
    /// Records a packet from `from`; returns how many consistent packets in a row that
    /// source has now sent. A packet that breaks the run (another SSRC, a sequence number
    /// out of order, a pause of `gap` or more) starts a new run of one.
    pub fn observe(
        &mut self,
        now: Micros,
        from: SocketAddr,
        ssrc: u32,
        seq: u16,
        gap: Micros,
    ) -> u8 {
        if let Some(c) = self.slots.iter_mut().flatten().find(|c| c.from == from) {
            let step = seq_diff(seq, c.seq);
            let consistent = c.ssrc == ssrc
                && (1..=MAX_STEP).contains(&step)
                && now.saturating_sub(c.last) < gap;
            c.count = if consistent {
                c.count.saturating_add(1)
            } else {
                1
            };
            c.ssrc = ssrc;
            c.seq = seq;
            c.last = now;
            return c.count;
        }
        let i = self
            .slots
            .iter()
            .position(Option::is_none)
            .or_else(|| (0..SLOTS).min_by_key(|&i| self.slots[i].map_or(Micros::ZERO, |c| c.last)))
            .unwrap_or(0);
        self.slots[i] = Some(Candidate {
            from,
            ssrc,
            seq,
            count: 1,
            last: now,
        });
        1
    }

    /// Forgets every candidate (the remote changed).
    pub fn clear(&mut self) {
        self.slots = [None; SLOTS];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Micros {
        Micros::from_us(n)
    }

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_run_needs_one_ssrc_in_order_sequence_and_no_pause() {
        let mut c = Candidates::default();
        let x = a("198.51.100.1:7000");
        assert_eq!(c.observe(us(0), x, 5, 100, us(500_000)), 1);
        assert_eq!(c.observe(us(20_000), x, 5, 101, us(500_000)), 2);
        assert_eq!(
            c.observe(us(40_000), x, 5, 103, us(500_000)),
            3,
            "one loss is in order"
        );
        assert_eq!(
            c.observe(us(60_000), x, 6, 104, us(500_000)),
            1,
            "another SSRC restarts"
        );
        assert_eq!(c.observe(us(80_000), x, 6, 105, us(500_000)), 2);
        assert_eq!(
            c.observe(us(100_000), x, 6, 105, us(500_000)),
            1,
            "a duplicate restarts"
        );
        assert_eq!(
            c.observe(us(120_000), x, 6, 90, us(500_000)),
            1,
            "going back restarts"
        );
        assert_eq!(c.observe(us(140_000), x, 6, 91, us(500_000)), 2);
        assert_eq!(
            c.observe(us(900_000), x, 6, 92, us(500_000)),
            1,
            "a pause restarts"
        );
    }

    #[test]
    fn a_flood_from_many_addresses_uses_a_fixed_table() {
        let mut c = Candidates::default();
        let x = a("198.51.100.1:7000");
        c.observe(us(0), x, 5, 1, us(500_000));
        c.observe(us(1), x, 5, 2, us(500_000));
        for p in 0..100u16 {
            let s = SocketAddr::new(a("203.0.113.9:1").ip(), 10_000 + p);
            assert_eq!(c.observe(us(2 + u64::from(p)), s, 9, p, us(500_000)), 1);
        }
        // The oldest entry gave way: x starts over.
        assert_eq!(c.observe(us(200), x, 5, 3, us(500_000)), 1);
    }
}
