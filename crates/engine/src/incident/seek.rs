//! Replay seeking: the state as of any event without refolding from the start each time, and
//! without holding every event in memory. What stays in memory per event is a small [`Mark`]
//! (time, byte offset, kind, what the timeline strip needs); events themselves come from a
//! [`Source`] on demand (the journal file, or a Vec in tests and for dumps). A snapshot of the
//! folded Incident is kept every `every` events; seeking clones the nearest earlier snapshot and
//! applies at most `every - 1` events read from the source.
use super::event::{Entry, Event, Ts};
use super::fold::Incident;
use std::collections::{BTreeMap, HashMap};

/// Sized so a seek (read + decode + apply up to `every - 1` events, one clone) stays well under
/// 5 ms on a 1M-event journal (BENCHMARKS.md).
pub const DEFAULT_CHECKPOINT_EVERY: usize = 256;

/// What navigation and the timeline strip need to know about an event without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The incident's opening.
    Opened,
    /// A PM2 reading (process list or daemon state): before the first, nothing is known.
    Observation,
    Step,
    SeverityProposed,
    SeverityDecided,
    Command,
    Refused,
    Other,
}

impl Kind {
    pub fn of(e: &Event) -> Kind {
        match e {
            Event::IncidentOpened(_) => Kind::Opened,
            Event::Pm2Observation(_) | Event::DaemonState(_) => Kind::Observation,
            Event::StepEntered(_) => Kind::Step,
            Event::SeverityProposed(_) => Kind::SeverityProposed,
            Event::SeverityDecided(_) => Kind::SeverityDecided,
            Event::CommandStarted(_) => Kind::Command,
            Event::GuardRefused(_) => Kind::Refused,
            _ => Kind::Other,
        }
    }
}

/// One event's entry in the in-memory index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub ts: Ts,
    /// Byte offset of the event's line in its file (0 for in-memory sources).
    pub offset: u64,
    pub kind: Kind,
    /// Processes online as of this event (last observation).
    pub online: u32,
    /// Some health endpoint failing as of this event.
    pub down: bool,
}

/// Running state that turns events into [`Mark`]s (the strip's online count and failing set).
#[derive(Debug, Clone, Default)]
pub struct Marker {
    online: u32,
    failing: HashMap<String, bool>,
    down: usize,
}

impl Marker {
    pub fn mark(&mut self, e: &Entry, offset: u64) -> Mark {
        match &e.event {
            Event::Pm2Observation(o) => {
                self.online = o.processes.iter().filter(|p| p.is_online()).count() as u32
            }
            Event::HealthResult(h) => {
                let was = self.failing.insert(h.url.clone(), !h.up).unwrap_or(false);
                self.down = self.down + usize::from(!h.up) - usize::from(was);
            }
            _ => {}
        }
        Mark {
            ts: e.ts,
            offset,
            kind: Kind::of(&e.event),
            online: self.online,
            down: self.down > 0,
        }
    }
}

/// Where replayed events come from. `read` returns the entries `from..to` (indices among the
/// readable events), given the byte offset of entry `from`.
pub trait Source: Send {
    fn read(&self, from: usize, to: usize, offset: u64) -> Vec<Entry>;
    /// The events themselves when they are held in memory (they can then grow one by one).
    fn memory(&mut self) -> Option<&mut Vec<Entry>> {
        None
    }
}

impl Source for Vec<Entry> {
    fn read(&self, from: usize, to: usize, _offset: u64) -> Vec<Entry> {
        self[from.min(self.len())..to.min(self.len())].to_vec()
    }
    fn memory(&mut self) -> Option<&mut Vec<Entry>> {
        Some(self)
    }
}

/// A piece of index, built off the UI thread: marks for the next events, the snapshots that
/// fall in them, and the state after the last of them.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub marks: Vec<Mark>,
    /// (index of the event, step id) for every `step_entered` in the chunk.
    pub steps: Vec<(usize, String)>,
    /// State after `k * every` events, for the k reached in this chunk, in order.
    pub snapshots: Vec<Incident>,
    pub last: Incident,
}

/// Builds [`Chunk`]s from entries in order (used by the file indexer and by [`Replay::new`]).
#[derive(Debug, Clone)]
pub struct Builder {
    every: usize,
    count: usize,
    inc: Incident,
    marker: Marker,
    pending: Chunk,
}

impl Builder {
    pub fn new(every: usize) -> Builder {
        Builder {
            every: every.max(1),
            count: 0,
            inc: Incident::default(),
            marker: Marker::default(),
            pending: Chunk {
                marks: Vec::new(),
                steps: Vec::new(),
                snapshots: Vec::new(),
                last: Incident::default(),
            },
        }
    }

    pub fn every(&self) -> usize {
        self.every
    }

    /// Events added so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Events added since the last [`Builder::take`].
    pub fn pending(&self) -> usize {
        self.pending.marks.len()
    }

    pub fn push(&mut self, e: &Entry, offset: u64) {
        self.inc.apply(e);
        self.pending.marks.push(self.marker.mark(e, offset));
        if let Event::StepEntered(s) = &e.event {
            self.pending.steps.push((self.count, s.step.clone()));
        }
        self.count += 1;
        if self.count.is_multiple_of(self.every) {
            self.pending.snapshots.push(self.inc.clone());
        }
    }

    /// The chunk of events pushed since the last take.
    pub fn take(&mut self) -> Chunk {
        let mut c = std::mem::replace(
            &mut self.pending,
            Chunk {
                marks: Vec::new(),
                steps: Vec::new(),
                snapshots: Vec::new(),
                last: Incident::default(),
            },
        );
        c.last = self.inc.clone();
        c
    }
}

pub struct Replay {
    source: Box<dyn Source>,
    every: usize,
    marks: Vec<Mark>,
    steps: BTreeMap<usize, String>,
    /// snapshots[k] = state after the first k * every entries.
    snapshots: Vec<Incident>,
    last: Incident,
    /// For in-memory replays that grow (push), the builder continues there.
    builder: Option<Builder>,
}

impl Replay {
    /// A replay of events held in memory (tests, dumps, small journals).
    pub fn new(entries: Vec<Entry>, every: usize) -> Self {
        let mut b = Builder::new(every);
        for e in &entries {
            b.push(e, 0);
        }
        let chunk = b.take();
        let mut r = Replay::from_source(Box::new(entries), b.every());
        r.extend(chunk);
        r.builder = Some(b);
        r
    }

    /// An empty replay over `source`; the index arrives in [`Chunk`]s via [`Replay::extend`].
    pub fn from_source(source: Box<dyn Source>, every: usize) -> Self {
        Replay {
            source,
            every: every.max(1),
            marks: Vec::new(),
            steps: BTreeMap::new(),
            snapshots: vec![Incident::default()],
            last: Incident::default(),
            builder: None,
        }
    }

    /// Adds the next piece of index (built by a [`Builder`] with the same spacing).
    pub fn extend(&mut self, c: Chunk) {
        self.marks.extend(c.marks);
        self.steps.extend(c.steps);
        self.snapshots.extend(c.snapshots);
        self.last = c.last;
        debug_assert_eq!(self.snapshots.len(), self.marks.len() / self.every + 1);
    }

    pub fn every(&self) -> usize {
        self.every
    }

    /// Events indexed so far.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// Step id entered by event `i`, when it is a `step_entered`.
    pub fn step_at(&self, i: usize) -> Option<&str> {
        self.steps.get(&i).map(String::as_str)
    }

    /// Every `step_entered`: (event index, step id), in order.
    pub fn steps(&self) -> impl DoubleEndedIterator<Item = (usize, &str)> {
        self.steps.iter().map(|(i, s)| (*i, s.as_str()))
    }

    /// Entries `from..to`, read from the source.
    pub fn read(&self, from: usize, to: usize) -> Vec<Entry> {
        let to = to.min(self.marks.len());
        if from >= to {
            return Vec::new();
        }
        self.source.read(from, to, self.marks[from].offset)
    }

    /// The state after everything indexed.
    pub fn last(&self) -> &Incident {
        &self.last
    }

    /// The state after the first `n` entries (clamped to what is indexed).
    pub fn state_at(&self, n: usize) -> Incident {
        let n = n.min(self.marks.len());
        if n == self.marks.len() {
            return self.last.clone();
        }
        let k = (n / self.every).min(self.snapshots.len() - 1);
        let mut inc = self.snapshots[k].clone();
        for e in self.read(k * self.every, n) {
            inc.apply(&e);
        }
        inc
    }

    /// Appends an entry to an in-memory replay (tests; a file-backed replay grows by chunks).
    pub fn push(&mut self, e: Entry) {
        let (Some(b), Some(v)) = (self.builder.as_mut(), self.source.memory()) else {
            return;
        };
        b.push(&e, 0);
        v.push(e);
        let chunk = b.take();
        self.extend(chunk);
    }

    /// Moves a replay cursor to "after the first `n` entries". Stepping forward applies only the
    /// new events (no clone); a jump back or far ahead restarts from the nearest snapshot.
    pub fn seek(&self, cursor: &mut Cursor, n: usize) {
        let n = n.min(self.marks.len());
        if n >= cursor.pos && n - cursor.pos < self.every {
            for e in self.read(cursor.pos, n) {
                cursor.state.apply(&e);
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
