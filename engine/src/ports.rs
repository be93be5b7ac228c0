//! Local UDP port allocation: even RTP ports with the odd port above each kept for RTCP
//! (RFC 3550 §11), handed out round-robin so a just-freed port is not reused at once
//! (late packets of the old call would land in the new one).

/// Allocates RTP/RTCP port pairs from a range.
#[derive(Clone, Debug)]
pub struct PortAllocator {
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

/// Splits `min..=max` into `shards` disjoint allocators.
pub fn split(min: u16, max: u16, shards: usize) -> Option<Vec<PortAllocator>> {
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
