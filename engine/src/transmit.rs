//! Outgoing datagrams of one shard turn, packed into one reusable arena.
//!
//! The shard writes every packet it sends into `buf` and records where it lies. The driver
//! takes them one at a time ([`TransmitQueue::poll`]) or hands the whole batch to the kernel
//! (`sendmmsg`, an io_uring submission batch, or the in-memory network) and clears it. Both
//! vectors keep their capacity, so a warm shard allocates nothing per packet.

use std::net::SocketAddr;

/// One datagram to send: from the shard's socket on `local_port` to `dest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// Local port to send from (the channel's RTP or RTCP port).
    pub local_port: u16,
    /// Destination.
    pub dest: SocketAddr,
    /// Datagram bytes.
    pub payload: &'a [u8],
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    local_port: u16,
    dest: SocketAddr,
    start: u32,
    len: u32,
}

/// The pending datagrams of a shard.
#[derive(Debug, Default)]
pub(crate) struct TransmitQueue {
    buf: Vec<u8>,
    slots: Vec<Slot>,
    /// Datagrams already taken with `poll`.
    polled: usize,
}

impl TransmitQueue {
    /// An empty queue with room for `packets` datagrams of up to 256 bytes before it grows.
    pub fn with_capacity(packets: usize) -> TransmitQueue {
        TransmitQueue {
            buf: Vec::with_capacity(packets * 256),
            slots: Vec::with_capacity(packets),
            polled: 0,
        }
    }

    /// Appends a datagram whose bytes `write` appends to the given vector.
    pub fn push_with(
        &mut self,
        local_port: u16,
        dest: SocketAddr,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let start = self.buf.len();
        write(&mut self.buf);
        let len = self.buf.len() - start;
        self.slots.push(Slot {
            local_port,
            dest,
            start: start as u32,
            len: len as u32,
        });
    }

    /// Rewrites the last datagram queued in place: `seal` gets the arena and where the
    /// datagram starts, and may grow or shrink it from there (SRTP appends its tag). When
    /// `seal` returns false the datagram is dropped. Returns what `seal` returned.
    pub fn seal_last(&mut self, seal: impl FnOnce(&mut Vec<u8>, usize) -> bool) -> bool {
        let Some(slot) = self.slots.last_mut() else {
            return false;
        };
        let start = slot.start as usize;
        self.buf.truncate(start + slot.len as usize);
        if seal(&mut self.buf, start) && self.buf.len() > start {
            slot.len = (self.buf.len() - start) as u32;
            true
        } else {
            self.buf.truncate(start);
            self.slots.pop();
            false
        }
    }

    /// Number of datagrams pending.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is pending.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The `i`th pending datagram.
    pub fn get(&self, i: usize) -> Transmit<'_> {
        let s = self.slots[i];
        Transmit {
            local_port: s.local_port,
            dest: s.dest,
            payload: &self.buf[s.start as usize..(s.start + s.len) as usize],
        }
    }

    /// The pending datagrams in order (those not taken with `poll`).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Transmit<'_>> + '_ {
        (self.polled..self.slots.len()).map(|i| self.get(i))
    }

    /// Takes the next pending datagram; the call that finds none left forgets them all
    /// (keeping the memory).
    pub fn poll(&mut self) -> Option<Transmit<'_>> {
        if self.polled == self.slots.len() {
            self.clear();
            return None;
        }
        self.polled += 1;
        Some(self.get(self.polled - 1))
    }

    /// Forgets everything pending, keeping the memory.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.slots.clear();
        self.polled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_last_rewrites_or_drops_the_last_datagram() {
        let mut q = TransmitQueue::with_capacity(2);
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        q.push_with(10, a, |b| b.extend_from_slice(b"one"));
        q.push_with(12, a, |b| b.extend_from_slice(b"two"));
        assert!(q.seal_last(|b, start| {
            assert_eq!(&b[start..], b"two");
            b.extend_from_slice(b"+tag");
            true
        }));
        assert_eq!(q.get(1).payload, b"two+tag");
        assert!(!q.seal_last(|b, _| {
            b.push(0);
            false
        }));
        assert_eq!(q.len(), 1, "a refused datagram is dropped");
        assert_eq!(q.get(0).payload, b"one");
        q.push_with(14, a, |b| b.extend_from_slice(b"three"));
        assert_eq!(q.get(1).payload, b"three", "the arena was cut back");
        q.clear();
        assert!(!q.seal_last(|_, _| true), "nothing to seal");
    }

    #[test]
    fn datagrams_come_back_in_order_with_their_bytes() {
        let mut q = TransmitQueue::with_capacity(2);
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        q.push_with(10, a, |b| b.extend_from_slice(b"one"));
        q.push_with(12, a, |b| b.extend_from_slice(b"three"));
        let got: Vec<_> = q
            .iter()
            .map(|t| (t.local_port, t.payload.to_vec()))
            .collect();
        assert_eq!(got, vec![(10, b"one".to_vec()), (12, b"three".to_vec())]);
        q.clear();
        assert!(q.is_empty());
        q.push_with(14, a, |b| b.extend_from_slice(b"four"));
        q.push_with(16, a, |b| b.extend_from_slice(b"five"));
        assert_eq!(q.poll().map(|t| t.local_port), Some(14));
        assert_eq!(q.iter().len(), 1, "a polled datagram is no longer pending");
        assert_eq!(q.poll().map(|t| t.payload.to_vec()), Some(b"five".to_vec()));
        assert!(q.poll().is_none());
        assert!(q.is_empty(), "polled to the end: forgotten");
    }
}
