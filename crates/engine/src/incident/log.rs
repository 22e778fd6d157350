//! An append-only list that is cheap to clone: a two-level persistent vector. Elements sit in
//! frozen leaves of [`LEAF`] behind `Arc`, leaves in frozen blocks of [`BRANCH`] behind `Arc`;
//! only the open leaf (< `LEAF` elements) and the open block's leaf pointers (< `BRANCH`) are
//! copied by a clone, plus one pointer per full block. Replay keeps a snapshot of the Incident
//! every N events, so a clone must cost neither O(everything recorded) nor a deep copy of a
//! large tail (measured in BENCHMARKS.md, issue #19).
use std::sync::Arc;

/// Elements per frozen leaf: the most a clone deep-copies.
const LEAF: usize = 32;
/// Leaves per frozen block.
const BRANCH: usize = 64;
const BLOCK: usize = LEAF * BRANCH;

type Leaf<T> = Arc<Vec<T>>;

#[derive(Debug, Clone, PartialEq)]
pub struct Log<T> {
    /// Full blocks of `BRANCH` full leaves.
    blocks: Vec<Arc<Vec<Leaf<T>>>>,
    /// The open block: fewer than `BRANCH` full leaves.
    leaves: Vec<Leaf<T>>,
    /// The open leaf: fewer than `LEAF` elements.
    tail: Vec<T>,
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log {
            blocks: Vec::new(),
            leaves: Vec::new(),
            tail: Vec::new(),
        }
    }
}

/// Where element `i` is: in a full block, in the open block, or in the open leaf.
enum Slot {
    Block(usize, usize, usize),
    Open(usize, usize),
    Tail(usize),
}

impl<T: Clone> Log<T> {
    pub fn push(&mut self, v: T) {
        self.tail.push(v);
        if self.tail.len() == LEAF {
            self.leaves.push(Arc::new(std::mem::take(&mut self.tail)));
            if self.leaves.len() == BRANCH {
                self.blocks.push(Arc::new(std::mem::take(&mut self.leaves)));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.blocks.len() * BLOCK + self.leaves.len() * LEAF + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, i: usize) -> Slot {
        let full = self.blocks.len() * BLOCK;
        if i < full {
            return Slot::Block(i / BLOCK, i % BLOCK / LEAF, i % LEAF);
        }
        let i = i - full;
        if i < self.leaves.len() * LEAF {
            Slot::Open(i / LEAF, i % LEAF)
        } else {
            Slot::Tail(i - self.leaves.len() * LEAF)
        }
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        match self.slot(i) {
            Slot::Block(b, l, e) => self.blocks[b][l].get(e),
            Slot::Open(l, e) => self.leaves[l].get(e),
            Slot::Tail(e) => self.tail.get(e),
        }
    }

    /// Mutable access; a frozen leaf (or block) shared with a clone is copied first (copy on
    /// write), so earlier snapshots never change.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        match self.slot(i) {
            Slot::Block(b, l, e) => {
                Arc::make_mut(&mut Arc::make_mut(&mut self.blocks[b])[l]).get_mut(e)
            }
            Slot::Open(l, e) => Arc::make_mut(&mut self.leaves[l]).get_mut(e),
            Slot::Tail(e) => self.tail.get_mut(e),
        }
    }

    pub fn last(&self) -> Option<&T> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn last_mut(&mut self) -> Option<&mut T> {
        self.len().checked_sub(1).and_then(|i| self.get_mut(i))
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.blocks
            .iter()
            .flat_map(|b| b.iter())
            .chain(self.leaves.iter())
            .flat_map(|l| l.iter())
            .chain(self.tail.iter())
    }
}

impl<'a, T: Clone> IntoIterator for &'a Log<T> {
    type Item = &'a T;
    type IntoIter = Box<dyn DoubleEndedIterator<Item = &'a T> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<T: Clone> FromIterator<T> for Log<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        let mut l = Log::default();
        for v in it {
            l.push(v);
        }
        l
    }
}

/// Segments of an [`IdIndex`]: frozen maps of `SEGMENT` insertions.
const SEGMENT: usize = 256;

/// A map from id to position that is cheap to clone, like [`Log`]: frozen segments of
/// `SEGMENT` insertions behind `Arc`, plus an open tail. Lookups search the newest first (output
/// follows the command it belongs to closely), so a hit is almost always in the tail. A later
/// insert of the same id wins, as in a plain map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdIndex {
    sealed: Log<Arc<std::collections::BTreeMap<u64, usize>>>,
    tail: std::collections::BTreeMap<u64, usize>,
}

impl IdIndex {
    pub fn insert(&mut self, id: u64, at: usize) {
        self.tail.insert(id, at);
        if self.tail.len() == SEGMENT {
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
    fn behaves_like_a_vec_across_leaves_and_blocks() {
        let mut l = Log::default();
        let mut v = Vec::new();
        // Past two full blocks, so every slot kind is exercised.
        for i in 0..(BLOCK * 2 + LEAF * 3 + 5) {
            assert_eq!(l.len(), v.len());
            assert_eq!(l.last(), v.last());
            l.push(i);
            v.push(i);
        }
        assert!(l.iter().copied().eq(v.iter().copied()));
        assert!(l.iter().rev().copied().eq(v.iter().rev().copied()));
        for i in (0..=v.len()).step_by(7).chain([v.len() - 1, v.len()]) {
            assert_eq!(l.get(i), v.get(i), "index {i}");
        }
        let collected: Log<usize> = v.iter().copied().collect();
        assert_eq!(collected, l);
    }

    #[test]
    fn clones_share_frozen_parts_and_copy_on_write() {
        let mut l: Log<usize> = (0..(BLOCK + LEAF * 2 + 3)).collect();
        let snapshot = l.clone();
        assert!(Arc::ptr_eq(&l.blocks[0], &snapshot.blocks[0]));
        assert!(Arc::ptr_eq(&l.leaves[0], &snapshot.leaves[0]));
        for i in [5, BLOCK + 1, l.len() - 1] {
            *l.get_mut(i).unwrap() = 999_999;
            assert_eq!(snapshot.get(i), Some(&i), "the snapshot keeps element {i}");
            assert_eq!(l.get(i), Some(&999_999));
        }
        *l.last_mut().unwrap() = 7;
        assert_eq!(l.last(), Some(&7));
        assert_eq!(snapshot.last(), Some(&(snapshot.len() - 1)));
        assert!(
            Arc::ptr_eq(&l.blocks[0].get(1).unwrap(), &snapshot.blocks[0][1]),
            "untouched leaves stay shared"
        );
    }
}
