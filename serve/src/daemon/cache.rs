//! The reply cache: a proxy that lost a reply sends the same request again (same source,
//! same cookie, same bytes) and must get the same reply, not a second execution.
//!
//! An entry is keyed by the request's source address and cookie and remembers the request
//! bytes: a different request under a cookie already seen, or the same cookie from another
//! source, is carried out, never answered from here. Entries live for a window (30 s by
//! default, as rtpengine keeps them) and the whole cache is bounded in bytes; beyond the
//! bound the oldest entries go first.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What an entry costs besides its bytes (map slots, order index, allocation headers).
const ENTRY_OVERHEAD: usize = 160;

type Key = (SocketAddr, Vec<u8>);

struct Entry {
    request: Vec<u8>,
    reply: Vec<u8>,
    at: Instant,
    serial: u64,
}

impl Entry {
    fn cost(key: &Key, request: &[u8], reply: &[u8]) -> usize {
        // The cookie is held twice: in the map and in the order index.
        2 * key.1.len() + request.len() + reply.len() + ENTRY_OVERHEAD
    }
}

/// Counters of a cache since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Entries dropped to keep the cache within its byte bound.
    pub evictions: u64,
    /// Entries dropped because their window ended.
    pub expirations: u64,
}

/// A byte-bounded cache of ng replies keyed by (source, cookie), checked against the
/// request bytes.
pub struct ReplyCache {
    max_bytes: usize,
    window: Duration,
    entries: HashMap<Key, Entry>,
    /// Insertion order: serial → key. The first entry is the oldest.
    order: BTreeMap<u64, Key>,
    bytes: usize,
    next_serial: u64,
    counters: CacheCounters,
}

impl ReplyCache {
    /// A cache holding at most `max_bytes` (0: nothing is cached) for `window`.
    pub fn new(max_bytes: usize, window: Duration) -> ReplyCache {
        ReplyCache {
            max_bytes,
            window,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            bytes: 0,
            next_serial: 0,
            counters: CacheCounters::default(),
        }
    }

    /// The cached reply to exactly this request from this source, if any.
    pub fn get(
        &mut self,
        source: SocketAddr,
        cookie: &[u8],
        request: &[u8],
        now: Instant,
    ) -> Option<&[u8]> {
        self.expire(now);
        let key = (source, cookie.to_vec());
        let e = self.entries.get(&key)?;
        if e.request != request {
            return None;
        }
        self.counters.hits += 1;
        Some(&e.reply)
    }

    /// Remembers the reply to a request that was carried out. A request under a cookie
    /// this source used before replaces the old entry. A reply larger than the whole
    /// bound is not kept.
    pub fn insert(
        &mut self,
        source: SocketAddr,
        cookie: &[u8],
        request: &[u8],
        reply: &[u8],
        now: Instant,
    ) {
        self.expire(now);
        let key = (source, cookie.to_vec());
        self.remove(&key);
        let cost = Entry::cost(&key, request, reply);
        if cost > self.max_bytes {
            return;
        }
        while self.bytes + cost > self.max_bytes {
            let Some((_, oldest)) = self.order.first_key_value() else {
                break;
            };
            let oldest = oldest.clone();
            self.remove(&oldest);
            self.counters.evictions += 1;
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        self.bytes += cost;
        self.order.insert(serial, key.clone());
        self.entries.insert(
            key,
            Entry {
                request: request.to_vec(),
                reply: reply.to_vec(),
                at: now,
                serial,
            },
        );
    }

    /// Drops entries older than the window.
    pub fn expire(&mut self, now: Instant) {
        while let Some((_, key)) = self.order.first_key_value() {
            let fresh = self
                .entries
                .get(key)
                .is_some_and(|e| now.saturating_duration_since(e.at) < self.window);
            if fresh {
                break;
            }
            let key = key.clone();
            self.remove(&key);
            self.counters.expirations += 1;
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some(e) = self.entries.remove(key) {
            self.order.remove(&e.serial);
            self.bytes -= Entry::cost(key, &e.request, &e.reply);
        }
    }

    /// Bytes held (requests, replies and bookkeeping), never above the bound.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The byte bound.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Counters since the cache was made.
    pub fn counters(&self) -> CacheCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WINDOW: Duration = Duration::from_secs(30);

    fn src(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn a_retransmission_is_answered_and_nothing_else_is() {
        let mut c = ReplyCache::new(1 << 20, WINDOW);
        let t = Instant::now();
        c.insert(src(1), b"c1", b"c1 d7:command4:pinge", b"c1 pong", t);
        assert_eq!(
            c.get(src(1), b"c1", b"c1 d7:command4:pinge", t),
            Some(&b"c1 pong"[..])
        );
        // Another source with the same cookie is another client.
        assert_eq!(c.get(src(2), b"c1", b"c1 d7:command4:pinge", t), None);
        // The same source reusing the cookie for another request is a new request.
        assert_eq!(c.get(src(1), b"c1", b"c1 d7:command6:deletee", t), None);
        assert_eq!(c.counters().hits, 1);
        // Its reply replaces the old entry.
        c.insert(src(1), b"c1", b"c1 d7:command6:deletee", b"c1 ok", t);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(src(1), b"c1", b"c1 d7:command4:pinge", t), None);
        assert_eq!(
            c.get(src(1), b"c1", b"c1 d7:command6:deletee", t),
            Some(&b"c1 ok"[..])
        );
    }

    #[test]
    fn entries_expire_after_the_window() {
        let mut c = ReplyCache::new(1 << 20, WINDOW);
        let t = Instant::now();
        c.insert(src(1), b"a", b"a x", b"a y", t);
        c.insert(src(1), b"b", b"b x", b"b y", t + Duration::from_secs(20));
        assert!(
            c.get(src(1), b"a", b"a x", t + Duration::from_secs(29))
                .is_some()
        );
        assert!(c.get(src(1), b"a", b"a x", t + WINDOW).is_none());
        assert!(c.get(src(1), b"b", b"b x", t + WINDOW).is_some());
        assert_eq!(c.len(), 1);
        assert_eq!(c.counters().expirations, 1);
        c.expire(t + Duration::from_secs(60));
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn the_byte_bound_evicts_oldest_first() {
        let reply = vec![b'r'; 1000];
        let one = Entry::cost(&(src(1), b"00".to_vec()), b"req", &reply);
        let mut c = ReplyCache::new(3 * one, WINDOW);
        let t = Instant::now();
        for i in 0..5u8 {
            let cookie = format!("{i:02}");
            c.insert(src(1), cookie.as_bytes(), b"req", &reply, t);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.bytes(), 3 * one);
        assert_eq!(c.counters().evictions, 2);
        assert!(c.get(src(1), b"00", b"req", t).is_none());
        assert!(c.get(src(1), b"01", b"req", t).is_none());
        assert!(c.get(src(1), b"04", b"req", t).is_some());
        // A reply bigger than the whole cache is not kept and evicts nothing.
        c.insert(src(1), b"big", b"req", &vec![0; 4 * one], t);
        assert_eq!((c.len(), c.counters().evictions), (3, 2));
        // Zero bytes: no cache.
        let mut off = ReplyCache::new(0, WINDOW);
        off.insert(src(1), b"a", b"a", b"a", t);
        assert!(off.get(src(1), b"a", b"a", t).is_none());
    }

    proptest! {
        #[test]
        fn bytes_match_the_entries_and_stay_bounded(
            ops in proptest::collection::vec((0u16..4, 0u8..20, 0usize..3000, 0u64..50), 1..200),
            max in 0usize..20_000,
        ) {
            let mut c = ReplyCache::new(max, WINDOW);
            let t0 = Instant::now();
            for (port, cookie, len, secs) in ops {
                let cookie = [cookie];
                let now = t0 + Duration::from_secs(secs);
                if c.get(src(port), &cookie, &cookie, now).is_none() {
                    c.insert(src(port), &cookie, &cookie, &vec![1; len], now);
                }
                prop_assert!(c.bytes() <= max);
                let sum: usize = c
                    .entries
                    .iter()
                    .map(|(k, e)| Entry::cost(k, &e.request, &e.reply))
                    .sum();
                prop_assert_eq!(sum, c.bytes());
                prop_assert_eq!(c.order.len(), c.entries.len());
            }
        }
    }
}
