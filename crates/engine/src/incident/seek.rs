//! Replay seeking: the state as of any event without refolding from the start each time.
//! A snapshot of the folded Incident is kept every `every` events; seeking clones the nearest
//! earlier snapshot and applies at most `every - 1` events.
use super::event::Entry;
use super::fold::Incident;

pub const DEFAULT_CHECKPOINT_EVERY: usize = 1000;

#[derive(Debug, Clone)]
pub struct Replay {
    entries: Vec<Entry>,
    every: usize,
    /// snapshots[k] = state after the first k * every entries.
    snapshots: Vec<Incident>,
    last: Incident,
}

impl Replay {
    pub fn new(entries: Vec<Entry>, every: usize) -> Self {
        let every = every.max(1);
        let mut snapshots = vec![Incident::default()];
        let mut inc = Incident::default();
        for (i, e) in entries.iter().enumerate() {
            inc.apply(e);
            if (i + 1) % every == 0 {
                snapshots.push(inc.clone());
            }
        }
        Replay {
            entries,
            every,
            snapshots,
            last: inc,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The state after the whole journal.
    pub fn last(&self) -> &Incident {
        &self.last
    }

    /// The state after the first `n` entries (clamped to the journal's length).
    pub fn state_at(&self, n: usize) -> Incident {
        let n = n.min(self.entries.len());
        if n == self.entries.len() {
            return self.last.clone();
        }
        let k = (n / self.every).min(self.snapshots.len() - 1);
        let mut inc = self.snapshots[k].clone();
        for e in &self.entries[k * self.every..n] {
            inc.apply(e);
        }
        inc
    }

    /// Appends a live entry (the replay view of a journal that is still growing).
    pub fn push(&mut self, e: Entry) {
        self.last.apply(&e);
        self.entries.push(e);
        if self.entries.len() % self.every == 0 {
            self.snapshots.push(self.last.clone());
        }
    }

    /// Moves a replay cursor to "after the first `n` entries". Stepping forward applies only the
    /// new events (no clone); a jump back or far ahead restarts from the nearest snapshot.
    pub fn seek(&self, cursor: &mut Cursor, n: usize) {
        let n = n.min(self.entries.len());
        if n >= cursor.pos && n - cursor.pos < self.every {
            for e in &self.entries[cursor.pos..n] {
                cursor.state.apply(e);
            }
        } else {
            cursor.state = self.state_at(n);
        }
        cursor.pos = n;
    }
}

/// A position in a replay and the incident state there (what the replay UI shows).
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    pos: usize,
    state: Incident,
}

impl Cursor {
    /// Number of entries applied.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn state(&self) -> &Incident {
        &self.state
    }
}
