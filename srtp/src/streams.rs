//! Per-SSRC state of a context: the SRTP and SRTCP replay windows (which also carry the
//! rollover counter and the next SRTCP index), in a table of bounded size allocated once.

use crate::replay::ReplayWindow;

/// State of one SSRC.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stream {
    pub(crate) ssrc: u32,
    /// SRTP: `None` until the first packet.
    pub(crate) rtp: Option<ReplayWindow>,
    /// SRTCP: `None` until the first packet.
    pub(crate) rtcp: Option<ReplayWindow>,
    last_used: u64,
}

/// A table of at most `max` SSRCs, searched linearly (a call leg has one or a few).
#[derive(Clone, Debug)]
pub(crate) struct Streams {
    list: Vec<Stream>,
    max: usize,
    clock: u64,
    evicted: u64,
}

impl Streams {
    pub(crate) fn new(max: usize) -> Streams {
        let max = max.max(1);
        Streams {
            list: Vec::with_capacity(max),
            max,
            clock: 0,
            evicted: 0,
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    pub(crate) fn get(&self, ssrc: u32) -> Option<&Stream> {
        self.list.iter().find(|s| s.ssrc == ssrc)
    }

    /// Whether `ssrc` is known or there is room to add it without evicting another.
    pub(crate) fn can_hold(&self, ssrc: u32) -> bool {
        self.list.len() < self.max || self.get(ssrc).is_some()
    }

    /// The state of `ssrc`, added if new. When the table is full, the least recently used
    /// SSRC is forgotten to make room (callers that must not forget check
    /// [`can_hold`](Self::can_hold) first).
    pub(crate) fn entry(&mut self, ssrc: u32) -> &mut Stream {
        self.clock += 1;
        let clock = self.clock;
        let at = match self.list.iter().position(|s| s.ssrc == ssrc) {
            Some(i) => i,
            None => {
                if self.list.len() >= self.max
                    && let Some(lru) = (0..self.list.len()).min_by_key(|&i| self.list[i].last_used)
                {
                    self.list.swap_remove(lru);
                    self.evicted += 1;
                }
                self.list.push(Stream {
                    ssrc,
                    rtp: None,
                    rtcp: None,
                    last_used: clock,
                });
                self.list.len() - 1
            }
        };
        let s = &mut self.list[at];
        s.last_used = clock;
        s
    }

    /// Forgets `ssrc`; returns whether it was known.
    pub(crate) fn remove(&mut self, ssrc: u32) -> bool {
        match self.list.iter().position(|s| s.ssrc == ssrc) {
            Some(i) => {
                self.list.swap_remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_forgets_the_least_recently_used() {
        let mut t = Streams::new(2);
        t.entry(1);
        t.entry(2);
        t.entry(1);
        assert!(t.can_hold(1));
        assert!(!t.can_hold(3));
        t.entry(3);
        assert!(t.get(2).is_none(), "2 was the least recently used");
        assert!(t.get(1).is_some() && t.get(3).is_some());
        assert_eq!((t.len(), t.evicted()), (2, 1));
        assert!(t.remove(1));
        assert!(!t.remove(1));
        assert!(t.can_hold(9));
    }
}
