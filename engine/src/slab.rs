//! The one container of a shard's objects (channels, rooms, recordings): values in numbered
//! slots, found by slot on the media path and by id on the control path.
//!
//! A slot number stays valid while its value lives, so objects refer to each other by slot
//! (a channel's peer, a room's participants) without lookups. Freed slots are reused last
//! in, first out. Hand-written rather than the `slab` crate because every entry must also be
//! found by its id, which that crate does not index.

use std::collections::HashMap;
use std::hash::Hash;

/// Values of type `T` named by ids of type `K`.
#[derive(Debug)]
pub(crate) struct Slab<K, T> {
    entries: Vec<Option<(K, T)>>,
    free: Vec<u32>,
    by_id: HashMap<K, u32>,
}

impl<K: Copy + Eq + Hash, T> Default for Slab<K, T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
        }
    }
}

impl<K: Copy + Eq + Hash, T> Slab<K, T> {
    /// Number of live values.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// One past the highest slot ever used (for visiting every slot).
    pub fn slot_bound(&self) -> u32 {
        self.entries.len() as u32
    }

    /// Whether a value has this id.
    pub fn contains(&self, id: K) -> bool {
        self.by_id.contains_key(&id)
    }

    /// The slot of `id`.
    pub fn slot(&self, id: K) -> Option<u32> {
        self.by_id.get(&id).copied()
    }

    /// Stores `value` under `id` (which the caller checked is new); returns its slot.
    pub fn insert(&mut self, id: K, value: T) -> u32 {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.entries.push(None);
            (self.entries.len() - 1) as u32
        });
        self.entries[slot as usize] = Some((id, value));
        self.by_id.insert(id, slot);
        slot
    }

    /// Takes the value out of `slot`, freeing the slot.
    pub fn remove(&mut self, slot: u32) -> Option<T> {
        let (id, value) = self.entries.get_mut(slot as usize)?.take()?;
        self.by_id.remove(&id);
        self.free.push(slot);
        Some(value)
    }

    /// The value in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> Option<&T> {
        self.entries.get(slot as usize)?.as_ref().map(|(_, v)| v)
    }

    /// The value in `slot`, mutably.
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.entries
            .get_mut(slot as usize)?
            .as_mut()
            .map(|(_, v)| v)
    }

    /// The value named `id`.
    pub fn by_id(&self, id: K) -> Option<&T> {
        self.get(self.slot(id)?)
    }

    /// Every live value, in slot order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.entries.iter_mut().flatten().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_last_in_first_out_and_ids_follow_them() {
        let mut s: Slab<u64, &str> = Slab::default();
        let a = s.insert(10, "a");
        let b = s.insert(11, "b");
        let c = s.insert(12, "c");
        assert_eq!((a, b, c, s.len()), (0, 1, 2, 3));
        assert_eq!(s.remove(a), Some("a"));
        assert_eq!(s.remove(b), Some("b"));
        assert_eq!(s.remove(b), None, "a slot is freed once");
        assert!(!s.contains(10) && s.slot(12) == Some(2));
        assert_eq!(s.insert(13, "d"), b, "the last freed slot first");
        assert_eq!(s.insert(14, "e"), a);
        assert_eq!(s.by_id(14), Some(&"e"));
        assert_eq!(s.slot_bound(), 3);
        assert_eq!(
            s.values_mut().map(|v| *v).collect::<Vec<_>>(),
            ["e", "d", "c"]
        );
    }
}
