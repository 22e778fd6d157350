//! An append-only list that is cheap to clone: a two-level persistent vector. Elements sit in
//! frozen leaves (at most [`LEAF`]) behind `Arc`, leaves in frozen blocks of [`BRANCH`] behind
//! `Arc`; a clone copies one pointer per block, the open block's leaf pointers and the open
//! leaf. [`Log::seal`] freezes the open leaf as it is, so a clone right after it deep-copies
//! nothing: replay seals before each snapshot of the Incident, and a snapshot then costs a few
//! pointers per list rather than O(everything recorded) or a copy of the newest elements
//! (measured in BENCHMARKS.md, issue #19). Leaves may be short, so positions are found by
//! binary search over the leaves' starting indices.
use std::sync::Arc;

/// Elements per leaf at most: the most a clone deep-copies (of a list not sealed before it).
const LEAF: usize = 32;
/// Leaves per frozen block.
const BRANCH: usize = 64;

/// Frozen leaves and the index of each one's first element (relative to the block).
#[derive(Debug)]
struct Block<T> {
    leaves: Vec<Arc<Vec<T>>>,
    starts: Vec<usize>,
    len: usize,
}

impl<T: Clone> Clone for Block<T> {
    fn clone(&self) -> Self {
        Block {
            leaves: self.leaves.clone(),
            starts: self.starts.clone(),
            len: self.len,
        }
    }
}

impl<T> Default for Block<T> {
    fn default() -> Self {
        Block {
            leaves: Vec::new(),
            starts: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Block<T> {
    fn push_leaf(&mut self, leaf: Vec<T>) {
        self.starts.push(self.len);
        self.len += leaf.len();
        self.leaves.push(Arc::new(leaf));
    }

    /// (leaf, index in it) of element `i` of the block.
    fn find(&self, i: usize) -> (usize, usize) {
        let l = self.starts.partition_point(|&s| s <= i) - 1;
        (l, i - self.starts[l])
    }

    fn get(&self, i: usize) -> Option<&T> {
        let (l, e) = self.find(i);
        self.leaves[l].get(e)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        let (l, e) = self.find(i);
        Arc::make_mut(&mut self.leaves[l]).get_mut(e)
    }
}

#[derive(Debug, Clone)]
pub struct Log<T: Clone> {
    /// Full blocks, and the index of each one's first element.
    blocks: Vec<Arc<Block<T>>>,
    block_starts: Vec<usize>,
    /// Elements in the full blocks.
    frozen: usize,
    /// The open block: fewer than `BRANCH` leaves.
    open: Block<T>,
    /// The open leaf: fewer than `LEAF` elements.
    tail: Vec<T>,
}

impl<T: Clone> Default for Log<T> {
    fn default() -> Self {
        Log {
            blocks: Vec::new(),
            block_starts: Vec::new(),
            frozen: 0,
            open: Block::default(),
            tail: Vec::new(),
        }
    }
}

impl<T: Clone> Log<T> {
    pub fn push(&mut self, v: T) {
        self.tail.push(v);
        if self.tail.len() == LEAF {
            self.seal();
        }
    }

    /// Freezes the open leaf (short or not): a clone made now shares every element.
    pub fn seal(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        self.open.push_leaf(std::mem::take(&mut self.tail));
        if self.open.leaves.len() == BRANCH {
            let block = std::mem::take(&mut self.open);
            self.block_starts.push(self.frozen);
            self.frozen += block.len;
            self.blocks.push(Arc::new(block));
        }
    }

    pub fn len(&self) -> usize {
        self.frozen + self.open.len + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        if i < self.frozen {
            let b = self.block_starts.partition_point(|&s| s <= i) - 1;
            self.blocks[b].get(i - self.block_starts[b])
        } else if i - self.frozen < self.open.len {
            self.open.get(i - self.frozen)
        } else {
            self.tail.get(i - self.frozen - self.open.len)
        }
    }

    /// Mutable access; a frozen leaf (or block) shared with a clone is copied first (copy on
    /// write), so earlier snapshots never change.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i < self.frozen {
            let b = self.block_starts.partition_point(|&s| s <= i) - 1;
            Arc::make_mut(&mut self.blocks[b]).get_mut(i - self.block_starts[b])
        } else if i - self.frozen < self.open.len {
            self.open.get_mut(i - self.frozen)
        } else {
            self.tail.get_mut(i - self.frozen - self.open.len)
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
            .flat_map(|b| b.leaves.iter())
            .chain(self.open.leaves.iter())
            .flat_map(|l| l.iter())
            .chain(self.tail.iter())
    }
}

/// Equal when the elements are: where the leaves were sealed is not part of the value.
impl<T: Clone + PartialEq> PartialEq for Log<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
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

/// Segments of an [`IdIndex`]: frozen maps of `SEGMENT` insertions at most.
const SEGMENT: usize = 256;

/// A frozen segment and the range of its ids: a lookup skips a segment by its range, so an id
/// that is nowhere (output of a command whose start was lost) costs two comparisons per
/// segment, not a map search in each.
#[derive(Debug)]
struct Segment {
    map: std::collections::BTreeMap<u64, usize>,
    lo: u64,
    hi: u64,
}

/// A map from id to position that is cheap to clone, like [`Log`]: frozen segments behind
/// `Arc`, plus an open tail. Lookups search the newest first (output follows the command it
/// belongs to closely), so a hit is almost always in the tail or the last segment. A later
/// insert of the same id wins, as in a plain map.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    sealed: Log<Arc<Segment>>,
    tail: std::collections::BTreeMap<u64, usize>,
}

impl IdIndex {
    pub fn insert(&mut self, id: u64, at: usize) {
        self.tail.insert(id, at);
        if self.tail.len() == SEGMENT {
            self.freeze_tail();
        }
    }

    pub fn get(&self, id: &u64) -> Option<&usize> {
        self.tail.get(id).or_else(|| {
            self.sealed
                .iter()
                .rev()
                .filter(|s| s.lo <= *id && *id <= s.hi)
                .find_map(|s| s.map.get(id))
        })
    }

    fn freeze_tail(&mut self) {
        let map = std::mem::take(&mut self.tail);
        if let (Some((&lo, _)), Some((&hi, _))) = (map.first_key_value(), map.last_key_value()) {
            self.sealed.push(Arc::new(Segment { map, lo, hi }));
        }
    }

    /// The mapping as one map (later inserts win): what two indexes are compared by.
    fn merged(&self) -> std::collections::BTreeMap<u64, usize> {
        let mut m = std::collections::BTreeMap::new();
        for seg in self.sealed.iter().map(|s| &s.map).chain([&self.tail]) {
            m.extend(seg.iter().map(|(k, v)| (*k, *v)));
        }
        m
    }

    /// Freezes the open segment (see [`Log::seal`]).
    pub fn seal(&mut self) {
        self.freeze_tail();
        self.sealed.seal();
    }
}

/// Equal when they map the same ids to the same positions (segment boundaries aside).
impl PartialEq for IdIndex {
    fn eq(&self, other: &Self) -> bool {
        self.merged() == other.merged()
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
    fn behaves_like_a_vec_across_leaves_blocks_and_seals() {
        // Sealed at irregular points (short leaves), past several full blocks.
        for seal_every in [0, 1, 5, 31, 33] {
            let mut l = Log::default();
            let mut v = Vec::new();
            for i in 0..(LEAF * BRANCH * 2 + LEAF * 3 + 5) {
                assert_eq!(l.len(), v.len());
                assert_eq!(l.last(), v.last());
                l.push(i);
                v.push(i);
                if seal_every > 0 && i % seal_every == 0 {
                    l.seal();
                }
            }
            assert!(l.iter().copied().eq(v.iter().copied()));
            assert!(l.iter().rev().copied().eq(v.iter().rev().copied()));
            for i in (0..=v.len()).step_by(7).chain([v.len() - 1, v.len()]) {
                assert_eq!(l.get(i), v.get(i), "index {i}, sealed every {seal_every}");
            }
        }
        let a: Log<usize> = (0..100).collect();
        let b: Log<usize> = (0..100).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn clones_share_frozen_parts_and_copy_on_write() {
        let mut l: Log<usize> = (0..(LEAF * BRANCH + LEAF * 2 + 3)).collect();
        l.seal();
        let snapshot = l.clone();
        assert!(
            snapshot.tail.is_empty(),
            "a clone after a seal copies no element"
        );
        assert!(Arc::ptr_eq(&l.blocks[0], &snapshot.blocks[0]));
        assert!(Arc::ptr_eq(&l.open.leaves[0], &snapshot.open.leaves[0]));
        for i in [5, LEAF * BRANCH + 1, l.len() - 1] {
            *l.get_mut(i).unwrap() = 999_999;
            assert_eq!(snapshot.get(i), Some(&i), "the snapshot keeps element {i}");
            assert_eq!(l.get(i), Some(&999_999));
        }
        l.push(1);
        *l.last_mut().unwrap() = 7;
        assert_eq!(l.last(), Some(&7));
        assert_eq!(snapshot.last(), Some(&(snapshot.len() - 1)));
        assert!(
            Arc::ptr_eq(&l.blocks[0].leaves[1], &snapshot.blocks[0].leaves[1]),
            "untouched leaves stay shared"
        );
    }
}
