//! Caller lists: VIP, VIP → set agent, blacklist, and the sticky-agent memory.
//!
//! Caller numbers are `u64`s. The sets use a multiplicative hash instead of SipHash: the keys
//! are phone numbers from the network, not attacker-chosen strings, and each lookup sits on
//! the arrival path. Empty lists are never consulted, so a centre without lists pays nothing.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::types::AgentId;

/// A hasher for `u64` keys: one multiply by a large odd constant, high bits folded down.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NumberHasher(u64);

impl Hasher for NumberHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

type Build = BuildHasherDefault<NumberHasher>;

/// The caller lists the ACD consults on arrival.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallerLists {
    vip: HashSet<u64, Build>,
    vip_agent: HashMap<u64, AgentId, Build>,
    blacklist: HashSet<u64, Build>,
    last_agent: HashMap<u64, AgentId, Build>,
}

impl CallerLists {
    /// Lists from configuration.
    pub fn new(vip: &[u64], vip_agent: &[(u64, AgentId)], blacklist: &[u64]) -> CallerLists {
        CallerLists {
            vip: vip.iter().copied().collect(),
            vip_agent: vip_agent.iter().copied().collect(),
            blacklist: blacklist.iter().copied().collect(),
            last_agent: HashMap::default(),
        }
    }

    /// Whether any VIP, VIP-agent or blacklist entry exists (the sticky memory aside).
    pub fn active(&self) -> bool {
        !(self.vip.is_empty() && self.vip_agent.is_empty() && self.blacklist.is_empty())
    }

    /// Whether `caller` is a VIP.
    pub fn is_vip(&self, caller: u64) -> bool {
        !self.vip.is_empty() && self.vip.contains(&caller)
    }

    /// Whether `caller` is blacklisted.
    pub fn is_blacklisted(&self, caller: u64) -> bool {
        !self.blacklist.is_empty() && self.blacklist.contains(&caller)
    }

    /// The set agent of a VIP caller.
    pub fn vip_agent(&self, caller: u64) -> Option<AgentId> {
        if self.vip_agent.is_empty() {
            return None;
        }
        self.vip_agent.get(&caller).copied()
    }

    /// The agent who last served `caller`.
    pub fn last_agent(&self, caller: u64) -> Option<AgentId> {
        if self.last_agent.is_empty() {
            return None;
        }
        self.last_agent.get(&caller).copied()
    }

    /// Remembers that `agent` served `caller`.
    pub fn served(&mut self, caller: u64, agent: AgentId) {
        self.last_agent.insert(caller, agent);
    }

    /// Adds or removes a VIP at run time.
    pub fn set_vip(&mut self, caller: u64, vip: bool) {
        if vip {
            self.vip.insert(caller);
        } else {
            self.vip.remove(&caller);
        }
    }

    /// Adds or removes a blacklisted number at run time.
    pub fn set_blacklisted(&mut self, caller: u64, listed: bool) {
        if listed {
            self.blacklist.insert(caller);
        } else {
            self.blacklist.remove(&caller);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_answer_membership() {
        let mut l = CallerLists::new(&[5, 7], &[(7, AgentId(2))], &[9]);
        assert!(l.is_vip(5) && l.is_vip(7) && !l.is_vip(9));
        assert!(l.is_blacklisted(9) && !l.is_blacklisted(5));
        assert_eq!(l.vip_agent(7), Some(AgentId(2)));
        assert_eq!(l.vip_agent(5), None);
        assert_eq!(l.last_agent(1), None);
        l.served(1, AgentId(3));
        l.served(1, AgentId(4));
        assert_eq!(l.last_agent(1), Some(AgentId(4)));
        l.set_vip(5, false);
        l.set_blacklisted(5, true);
        assert!(!l.is_vip(5) && l.is_blacklisted(5));
    }
}
