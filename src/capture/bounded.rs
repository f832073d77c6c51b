//! A map with a bound on its entries: when full, the entry inserted longest ago is evicted
//! (first in, first out), and evictions are counted. The per-flow state of a capture
//! analysis (TCP directions, SDP media endpoints, STUN flows, SCTP reassembly) lives in
//! these, so no capture can make it grow without limit.

use std::collections::VecDeque;
use std::hash::Hash;

use super::FastMap;

/// A `FastMap` (a `HashMap` with ahash) of at most `CAP` (≥ 1) entries, evicting the oldest insertion when full.
#[derive(Debug)]
pub struct BoundedMap<K, V, const CAP: usize> {
    map: FastMap<K, V>,
    /// Keys in insertion order; may hold keys removed since (skipped when evicting,
    /// compacted when it grows to twice the bound).
    order: VecDeque<K>,
    /// Entries evicted to make room.
    pub evicted: u64,
    /// Bumped by every change (insert, replace, remove, eviction, mutable access): what a
    /// cache of lookups checks to know it is still right.
    generation: u64,
}

impl<K, V, const CAP: usize> Default for BoundedMap<K, V, CAP> {
    fn default() -> Self {
        BoundedMap {
            map: FastMap::default(),
            order: VecDeque::new(),
            evicted: 0,
            generation: 0,
        }
    }
}

impl<K: Hash + Eq + Clone, V, const CAP: usize> BoundedMap<K, V, CAP> {
    const CAP: usize = if CAP == 0 { 1 } else { CAP };

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.generation += 1;
        self.map.get_mut(key)
    }

    /// The count of changes so far (see the field).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Inserts or replaces; a new key may evict the oldest entry. Returns the old value.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.generation += 1;
        if let Some(v) = self.map.get_mut(&key) {
            return Some(std::mem::replace(v, value));
        }
        self.make_room(key.clone());
        self.map.insert(key, value)
    }

    /// The value of `key`, inserted with `make` when absent (which may evict the oldest).
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        self.generation += 1;
        if !self.map.contains_key(&key) {
            self.make_room(key.clone());
        }
        self.map.entry(key).or_insert_with(make)
    }

    /// Evicts until a new entry fits and queues `key` as the newest.
    fn make_room(&mut self, key: K) {
        while self.map.len() >= Self::CAP && self.evict_oldest().is_some() {}
        if self.order.len() >= 2 * Self::CAP {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
        self.order.push_back(key);
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.generation += 1;
        self.map.remove(key)
    }

    /// Evicts the entry inserted longest ago (counted); its key and value.
    pub fn evict_oldest(&mut self) -> Option<(K, V)> {
        self.generation += 1;
        while let Some(k) = self.order.pop_front() {
            if let Some(v) = self.map.remove(&k) {
                self.evicted += 1;
                return Some((k, v));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_first_and_counts() {
        let mut m = BoundedMap::<u32, u32, 3>::default();
        for i in 0..3 {
            m.insert(i, i * 10);
        }
        m.remove(&1);
        m.insert(3, 30);
        assert_eq!(m.len(), 3);
        assert_eq!(m.evicted, 0, "room was freed by the removal");
        m.insert(4, 40);
        assert_eq!(m.evicted, 1);
        assert!(!m.contains_key(&0), "the oldest went first");
        assert_eq!(*m.get_or_insert_with(5, || 50), 50);
        assert!(!m.contains_key(&2));
        assert_eq!(m.len(), 3);
        // Replacing a value does not evict.
        m.insert(5, 51);
        assert_eq!(m.evicted, 2);
        // Many insert/remove cycles keep the order queue bounded.
        for i in 100..10_000 {
            m.insert(i, 0);
            m.remove(&i);
        }
        assert!(m.order.len() <= 6, "{}", m.order.len());
    }

    /// Every change moves the generation a cache of lookups checks; reads do not.
    #[test]
    fn generation_moves_on_every_change() {
        let mut m = BoundedMap::<u32, u32, 2>::default();
        let mut last = m.generation();
        let mut changed = |m: &BoundedMap<u32, u32, 2>| {
            let moved = m.generation() != last;
            last = m.generation();
            moved
        };
        m.insert(1, 1);
        assert!(changed(&m), "insert");
        m.insert(1, 2);
        assert!(changed(&m), "replace");
        let _ = m.get(&1);
        assert!(!m.contains_key(&9) && !changed(&m), "reads");
        if let Some(v) = m.get_mut(&1) {
            *v = 3;
        }
        assert!(changed(&m), "mutable access");
        m.get_or_insert_with(2, || 2);
        assert!(changed(&m), "insert with");
        m.insert(3, 3); // evicts 1
        assert!(changed(&m), "eviction");
        m.remove(&2);
        assert!(changed(&m), "remove");
    }
}
