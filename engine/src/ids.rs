//! Identifiers: channels, rooms, recordings (taps), command requests, and the call-group key
//! that places related channels on one shard.

use std::fmt;

/// A channel (one RTP endpoint). The shard that owns it is encoded in the top 16 bits, so any
/// thread can route a command for it without a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u64);

impl ChannelId {
    /// Builds an id from its shard and a per-engine serial number.
    pub fn new(shard: u16, serial: u64) -> ChannelId {
        ChannelId(((shard as u64) << 48) | (serial & ((1 << 48) - 1)))
    }

    /// The shard that owns this channel.
    pub fn shard(self) -> usize {
        (self.0 >> 48) as usize
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ch{}.{}", self.shard(), self.0 & ((1 << 48) - 1))
    }
}

/// A conference room. Like a channel id, it carries its shard in the top 16 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub u64);

impl RoomId {
    /// Builds an id from its shard and a per-engine serial number.
    pub fn new(shard: u16, serial: u64) -> RoomId {
        RoomId(ChannelId::new(shard, serial).0)
    }

    /// The shard that owns this room.
    pub fn shard(self) -> usize {
        (self.0 >> 48) as usize
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "room{}.{}", self.shard(), self.0 & ((1 << 48) - 1))
    }
}

/// A recording tap. Like channel ids, it carries its shard in the top 16 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TapId(pub u64);

impl TapId {
    /// Builds an id from its shard and a serial number.
    pub fn new(shard: u16, serial: u64) -> TapId {
        TapId(ChannelId::new(shard, serial).0)
    }

    /// The shard that owns the tap.
    pub fn shard(self) -> usize {
        (self.0 >> 48) as usize
    }
}

impl fmt::Display for TapId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tap{}.{}", self.shard(), self.0 & ((1 << 48) - 1))
    }
}

/// Names one command given to an engine (returned by `command`), so the
/// `Event::CommandFailed` it may cause can be matched to it. Each engine numbers its
/// commands from 1 in the order given; a sans-I/O embedder numbers its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request {}", self.0)
    }
}

/// The object a command is about: the one whose shard carries it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Object {
    /// A channel.
    Channel(ChannelId),
    /// A room.
    Room(RoomId),
    /// A recording.
    Tap(TapId),
}

impl Object {
    /// The shard that owns it.
    pub fn shard(self) -> usize {
        match self {
            Object::Channel(c) => c.shard(),
            Object::Room(r) => r.shard(),
            Object::Tap(t) => t.shard(),
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Channel(c) => c.fmt(f),
            Object::Room(r) => r.fmt(f),
            Object::Tap(t) => t.fmt(f),
        }
    }
}

/// Groups channels that exchange media (the legs of one call, the members of one room).
/// Every channel of a group lives on the same shard, so media never crosses shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey(pub u64);

impl GroupKey {
    /// The shard this group lives on among `shards`. The key is mixed first (SplitMix64's
    /// finaliser) so sequential call numbers spread evenly.
    pub fn shard(self, shards: usize) -> usize {
        let mut z = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % shards.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_id_carries_its_shard() {
        let id = ChannelId::new(3, 12345);
        assert_eq!(id.shard(), 3);
        assert_eq!(id.0 & 0xFFFF_FFFF_FFFF, 12345);
    }

    #[test]
    fn group_keys_spread_over_shards() {
        let mut counts = [0u32; 4];
        for k in 0..4000 {
            counts[GroupKey(k).shard(4)] += 1;
        }
        for c in counts {
            assert!((900..=1100).contains(&c), "{counts:?}");
        }
        assert_eq!(GroupKey(7).shard(1), 0);
    }
}
