//! Local UDP port allocation: even RTP ports with the odd port above each kept for RTCP
//! (RFC 3550 §11), handed out round-robin so a just-freed port is not reused at once
//! (late packets of the old call would land in the new one).
//!
//! [`MediaAddresses`] is the engine's address and port range; [`OwnSockets`] says which of
//! those ports it holds a socket on right now, so that a remote naming one of them (a loop)
//! is refused and a packet coming from one is dropped. Ports of the range that another
//! program holds (a phone on the same host with an ephemeral port) are not the engine's.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The engine's own media sockets: every port of its range on its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaAddresses {
    /// Address the sockets bind to.
    pub ip: IpAddr,
    /// Lowest port of the range.
    pub port_min: u16,
    /// Highest port of the range.
    pub port_max: u16,
}

impl MediaAddresses {
    /// Whether `addr` is (or reaches) one of these sockets. A loopback or wildcard address
    /// stands for any loopback or wildcard address: a socket bound to `0.0.0.0` receives
    /// what is sent to `127.0.0.1`, and a datagram sent to `0.0.0.0` is delivered to this
    /// host.
    pub fn contains(&self, addr: SocketAddr) -> bool {
        if !(self.port_min..=self.port_max).contains(&addr.port()) {
            return false;
        }
        MediaAddresses::same_host(self.ip, addr.ip())
    }

    /// Whether a socket bound to `bound` receives what is sent to `ip`: the same address,
    /// or both loopback or wildcard (which stand for any loopback or wildcard address).
    pub fn same_host(bound: IpAddr, ip: IpAddr) -> bool {
        bound == ip || this_host(bound) && this_host(ip)
    }
}

/// The ports the engine holds a socket on, on its media address: set by the handle when it
/// binds, cleared by a shard thread once it has closed the socket. One bit per port, read
/// without locks (only on the rare path of a packet from an unknown source).
#[derive(Clone)]
pub(crate) struct OwnSockets {
    addresses: MediaAddresses,
    held: Arc<[AtomicU64]>,
}

impl std::fmt::Debug for OwnSockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnSockets")
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

impl OwnSockets {
    /// None held yet, on `addresses`.
    pub fn new(addresses: MediaAddresses) -> OwnSockets {
        OwnSockets {
            addresses,
            held: (0..1024).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The address and port range.
    pub fn addresses(&self) -> MediaAddresses {
        self.addresses
    }

    /// Whether `addr` reaches a socket the engine holds now.
    pub fn contains(&self, addr: SocketAddr) -> bool {
        self.addresses.contains(addr) && self.holds(addr.port())
    }

    /// Whether the engine holds a socket on `port` now.
    pub fn holds(&self, port: u16) -> bool {
        let p = usize::from(port);
        self.held[p / 64].load(Ordering::Relaxed) & (1 << (p % 64)) != 0
    }

    /// Marks `port` as held (its socket is bound).
    pub fn hold(&self, port: u16) {
        let p = usize::from(port);
        self.held[p / 64].fetch_or(1 << (p % 64), Ordering::Relaxed);
    }

    /// Marks `port` as free (its socket is closed).
    pub fn release(&self, port: u16) {
        let p = usize::from(port);
        self.held[p / 64].fetch_and(!(1 << (p % 64)), Ordering::Relaxed);
    }
}

/// A loopback or wildcard address: one that means "this host" whatever its interfaces.
fn this_host(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified()
}

/// Allocates RTP/RTCP port pairs from a range.
#[derive(Clone, Debug)]
pub(crate) struct PortAllocator {
    first: u16,
    used: Vec<bool>,
    next: usize,
    free: usize,
}

impl PortAllocator {
    /// Pairs from `min..=max` (rounded inwards to whole even/odd pairs). `None` when that
    /// leaves no pair.
    pub fn new(min: u16, max: u16) -> Option<PortAllocator> {
        let first = min.checked_add(min % 2)?;
        if max < first.checked_add(1)? {
            return None;
        }
        let pairs = usize::from(max - first).div_ceil(2);
        Some(PortAllocator {
            first,
            used: vec![false; pairs],
            next: 0,
            free: pairs,
        })
    }

    /// Number of pairs still free.
    pub fn free_pairs(&self) -> usize {
        self.free
    }

    /// Number of pairs in the range, free or not.
    pub fn pairs(&self) -> usize {
        self.used.len()
    }

    /// The next free RTP port (its RTCP port is the one above), or `None` when exhausted.
    pub fn allocate(&mut self) -> Option<u16> {
        if self.free == 0 {
            return None;
        }
        let n = self.used.len();
        for i in 0..n {
            let idx = (self.next + i) % n;
            if !self.used[idx] {
                self.used[idx] = true;
                self.free -= 1;
                self.next = (idx + 1) % n;
                return Some(self.first + 2 * idx as u16);
            }
        }
        None
    }

    /// Returns `port` (an RTP port from [`allocate`](Self::allocate)) and its RTCP port to
    /// the pool. Anything else is ignored.
    pub fn release(&mut self, port: u16) {
        if let Some(idx) = self.index(port) {
            if self.used[idx] {
                self.used[idx] = false;
                self.free += 1;
            }
        }
    }

    /// Whether `port` (RTP or RTCP) lies in this allocator's range.
    pub fn contains(&self, port: u16) -> bool {
        port >= self.first && usize::from(port - self.first) < 2 * self.used.len()
    }

    fn index(&self, port: u16) -> Option<usize> {
        let off = port.checked_sub(self.first)?;
        let idx = usize::from(off / 2);
        (off % 2 == 0 && idx < self.used.len()).then_some(idx)
    }
}

/// The shard that owns `port` when the threaded engine splits `min..=max` over `shards`
/// shards (each takes an equal, even-sized part), or `None` when no shard does.
///
/// ```
/// assert_eq!(tandem_engine::shard_of_port(30_000, 30_399, 2, 30_200), Some(1));
/// assert_eq!(tandem_engine::shard_of_port(30_000, 30_399, 2, 29_999), None);
/// ```
pub fn shard_of_port(min: u16, max: u16, shards: usize, port: u16) -> Option<usize> {
    split(min, max, shards)?
        .iter()
        .position(|a| a.contains(port))
}

/// Splits `min..=max` into `shards` disjoint allocators.
pub(crate) fn split(min: u16, max: u16, shards: usize) -> Option<Vec<PortAllocator>> {
    let span = (usize::from(max.checked_sub(min)?) + 1) / shards.max(1);
    let span = span - span % 2;
    if span < 2 {
        return None;
    }
    (0..shards)
        .map(|i| {
            let lo = usize::from(min) + i * span;
            PortAllocator::new(lo as u16, (lo + span - 1) as u16)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_round_robin_until_exhausted() {
        let mut a = PortAllocator::new(10_001, 10_008).unwrap();
        // 10001 rounds up to 10002: pairs 10002, 10004, 10006 (10008 has no odd partner).
        assert_eq!((a.free_pairs(), a.pairs()), (3, 3));
        assert_eq!(a.allocate(), Some(10_002));
        assert_eq!(a.allocate(), Some(10_004));
        a.release(10_002);
        assert_eq!(a.allocate(), Some(10_006));
        assert_eq!(a.allocate(), Some(10_002));
        assert_eq!(a.allocate(), None);
        a.release(10_003); // not an RTP port: ignored
        a.release(9_000);
        assert_eq!(a.free_pairs(), 0);
    }

    #[test]
    fn own_addresses_cover_the_range_with_loopback_and_wildcard_equivalence() {
        let own = MediaAddresses {
            ip: "127.0.0.1".parse().unwrap(),
            port_min: 30_000,
            port_max: 30_099,
        };
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(own.contains(a("127.0.0.1:30000")));
        assert!(own.contains(a("127.0.0.1:30099")));
        assert!(!own.contains(a("127.0.0.1:30100")));
        assert!(
            own.contains(a("0.0.0.0:30050")),
            "0.0.0.0 reaches this host"
        );
        assert!(own.contains(a("127.0.0.2:30050")));
        assert!(!own.contains(a("192.0.2.1:30050")));
        let wild = MediaAddresses {
            ip: "0.0.0.0".parse().unwrap(),
            ..own
        };
        assert!(wild.contains(a("127.0.0.1:30001")));
        assert!(wild.contains(a("[::1]:30001")));
        let public = MediaAddresses {
            ip: "203.0.113.5".parse().unwrap(),
            ..own
        };
        assert!(public.contains(a("203.0.113.5:30001")));
        assert!(!public.contains(a("127.0.0.1:30001")));
    }

    #[test]
    fn own_sockets_are_the_ports_held_now() {
        let own = OwnSockets::new(MediaAddresses {
            ip: "127.0.0.1".parse().unwrap(),
            port_min: 30_000,
            port_max: 30_099,
        });
        let a: SocketAddr = "127.0.0.1:30064".parse().unwrap();
        assert!(
            !own.contains(a),
            "in the range but not bound: a phone may hold it"
        );
        own.hold(30_064);
        own.hold(30_065);
        assert!(own.contains(a));
        assert!(own.contains("0.0.0.0:30064".parse().unwrap()));
        own.release(30_064);
        assert!(!own.contains(a));
        assert!(own.holds(30_065));
    }

    #[test]
    fn splits_into_disjoint_ranges() {
        let parts = split(20_000, 20_099, 3).unwrap();
        let mut all = vec![];
        for mut p in parts {
            while let Some(port) = p.allocate() {
                all.push(port);
            }
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(n, 48);
        assert!(split(20_000, 20_001, 2).is_none());
        assert!(PortAllocator::new(65_535, 65_535).is_none());
    }
}
