//! An append-only list that is cheap to clone: full chunks are frozen behind `Arc` and shared
//! between clones; only the open tail is copied. Replay keeps a snapshot of the Incident every
//! N events, so cloning must not cost O(everything recorded so far).
use std::sync::Arc;

const CHUNK: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub struct Log<T> {
    sealed: Vec<Arc<Vec<T>>>,
    tail: Vec<T>,
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log {
            sealed: Vec::new(),
            tail: Vec::new(),
        }
    }
}

impl<T: Clone> Log<T> {
    pub fn push(&mut self, v: T) {
        self.tail.push(v);
        if self.tail.len() == CHUNK {
            self.sealed.push(Arc::new(std::mem::take(&mut self.tail)));
        }
    }

    pub fn len(&self) -> usize {
        self.sealed.len() * CHUNK + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        match self.sealed.get(i / CHUNK) {
            Some(chunk) => chunk.get(i % CHUNK),
            None => self.tail.get(i - self.sealed.len() * CHUNK),
        }
    }

    /// Mutable access; a frozen chunk shared with a snapshot is copied first (copy on write).
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        let sealed_len = self.sealed.len() * CHUNK;
        match self.sealed.get_mut(i / CHUNK) {
            Some(chunk) => Arc::make_mut(chunk).get_mut(i % CHUNK),
            None => self.tail.get_mut(i - sealed_len),
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.sealed
            .iter()
            .flat_map(|c| c.iter())
            .chain(self.tail.iter())
    }

    pub fn last(&self) -> Option<&T> {
        self.tail
            .last()
            .or_else(|| self.sealed.last().and_then(|c| c.last()))
    }
}

impl<'a, T: Clone> IntoIterator for &'a Log<T> {
    type Item = &'a T;
    type IntoIter = Box<dyn DoubleEndedIterator<Item = &'a T> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// A map from id to position that is cheap to clone, like [`Log`]: frozen segments of `CHUNK`
/// insertions behind `Arc`, plus an open tail. Lookups search the newest first (output follows
/// the command it belongs to closely), so a hit is almost always in the tail. A later insert of
/// the same id wins, as in a plain map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdIndex {
    sealed: Vec<Arc<std::collections::BTreeMap<u64, usize>>>,
    tail: std::collections::BTreeMap<u64, usize>,
}

impl IdIndex {
    pub fn insert(&mut self, id: u64, at: usize) {
        self.tail.insert(id, at);
        if self.tail.len() == CHUNK {
            self.sealed.push(Arc::new(std::mem::take(&mut self.tail)));
        }
    }

    pub fn get(&self, id: &u64) -> Option<&usize> {
        self.tail
            .get(id)
            .or_else(|| self.sealed.iter().rev().find_map(|m| m.get(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_index_answers_like_a_map_across_segments_and_clones() {
        let mut ix = IdIndex::default();
        let mut map = std::collections::BTreeMap::new();
        for i in 0..2_000u64 {
            let id = (i * 7919) % 1_500; // repeats: later inserts win
            ix.insert(id, i as usize);
            map.insert(id, i as usize);
        }
        let snapshot = ix.clone();
        ix.insert(3, 99_999);
        for id in 0..1_600u64 {
            assert_eq!(snapshot.get(&id), map.get(&id), "id {id}");
        }
        assert_eq!(ix.get(&3), Some(&99_999));
    }

    #[test]
    fn behaves_like_a_vec_and_clones_share_frozen_chunks() {
        let mut l = Log::default();
        let mut v = Vec::new();
        for i in 0..(CHUNK * 3 + 10) {
            l.push(i);
            v.push(i);
        }
        assert_eq!(l.len(), v.len());
        assert!(l.iter().copied().eq(v.iter().copied()));
        assert_eq!(l.get(CHUNK + 1), Some(&(CHUNK + 1)));
        assert_eq!(l.get(l.len()), None);
        assert_eq!(l.last(), v.last());
        let snapshot = l.clone();
        assert!(Arc::ptr_eq(&l.sealed[0], &snapshot.sealed[0]));
        *l.get_mut(5).unwrap() = 999;
        assert_eq!(
            snapshot.get(5),
            Some(&5),
            "copy on write leaves the snapshot alone"
        );
        assert_eq!(l.get(5), Some(&999));
        *l.get_mut(l.len() - 1).unwrap() = 7;
        assert_eq!(l.last(), Some(&7));
    }
}
