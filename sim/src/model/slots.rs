//! Small containers of a run: values named by slot in the kernel's events, and maps by
//! number with a fixed hash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};

/// A map by number with a fixed hash: a run does the same work every time.
pub(super) type FixedMap<V> = HashMap<u64, V, BuildHasherDefault<DefaultHasher>>;

/// Values the kernel's events name by slot (a `u32` in the event); a slot is reused once
/// its value is taken.
#[derive(Debug)]
pub(super) struct Slots<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T: Copy> Slots<T> {
    pub(super) fn new() -> Slots<T> {
        Slots {
            items: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Keeps `v` and returns its slot.
    #[inline]
    pub(super) fn insert(&mut self, v: T) -> u32 {
        match self.free.pop() {
            Some(s) => {
                self.items[s as usize] = v;
                s
            }
            None => {
                self.items.push(v);
                (self.items.len() - 1) as u32
            }
        }
    }

    /// The value in `slot`, whose slot is free from now on.
    #[inline]
    pub(super) fn take(&mut self, slot: u32) -> T {
        self.free.push(slot);
        self.items[slot as usize]
    }
}

impl<T> std::ops::Index<u32> for Slots<T> {
    type Output = T;
    fn index(&self, slot: u32) -> &T {
        &self.items[slot as usize]
    }
}

impl<T> std::ops::IndexMut<u32> for Slots<T> {
    fn index_mut(&mut self, slot: u32) -> &mut T {
        &mut self.items[slot as usize]
    }
}
