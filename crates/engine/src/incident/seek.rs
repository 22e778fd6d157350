//! Replay seeking: the state as of any event without refolding from the start each time, and
//! without holding every event in memory. What stays in memory per event is a small [`Mark`]
//! (time, byte offset, kind, what the timeline strip needs); events themselves come from a
//! [`Source`] on demand (the journal file, or a Vec in tests and for dumps). A snapshot of the
//! folded Incident is kept every `every` events; seeking clones the nearest earlier snapshot and
//! applies at most `every - 1` events read from the source. The number of snapshots is bounded
//! ([`MAX_SNAPSHOTS`]): past it the spacing doubles and every other snapshot is dropped, so
//! memory stays flat however long the journal while a seek reads a few thousand events at most.
use super::event::{Entry, Event, Ts};
use super::fold::{CommandRecord, Incident, OutputAt, OutputLine};
use std::collections::{BTreeMap, HashMap};

/// The spacing a replay starts with: a seek applies at most this many events minus one.
pub const DEFAULT_CHECKPOINT_EVERY: usize = 256;
/// Snapshots kept at most. Each costs a few KB (its Incident shares everything frozen with the
/// others, see `incident::log`), so this bounds the index's memory; at 1M events the spacing
/// is then 1024 and a seek still stays under 5 ms (BENCHMARKS.md, issue #19).
pub const MAX_SNAPSHOTS: usize = 1024;

/// Output of a file's entry stays in the file; of an in-memory entry, in memory.
fn output_at(located: bool, offset: u64) -> OutputAt {
    if located {
        OutputAt::Journal(offset)
    } else {
        OutputAt::Memory
    }
}

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

/// One event's entry in the in-memory index: 16 bytes, 16 MB at 1M events (its fields are
/// packed; read them with the methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// Milliseconds since the epoch (the journal stores times to the millisecond).
    ms: i64,
    /// Byte offset of the event's line in its file, 40 bits (see [`MAX_OFFSET`]).
    offset_lo: u32,
    offset_hi: u8,
    pub kind: Kind,
    /// Processes online as of this event (low 15 bits, saturating) and whether some health
    /// endpoint is failing (high bit).
    state: u16,
}

/// Journals are indexed up to this size (1 TiB): a mark's offset has 40 bits.
pub const MAX_OFFSET: u64 = 1 << 40;

const DOWN: u16 = 1 << 15;

impl Mark {
    pub fn new(ts: Ts, offset: u64, kind: Kind, online: usize, down: bool) -> Mark {
        debug_assert!(offset < MAX_OFFSET);
        let online = online.min(usize::from(DOWN - 1)) as u16;
        Mark {
            ms: ts.timestamp_millis(),
            offset_lo: offset as u32,
            offset_hi: (offset >> 32) as u8,
            kind,
            state: online | if down { DOWN } else { 0 },
        }
    }

    /// The event's time, to the millisecond.
    pub fn ts(&self) -> Ts {
        chrono::DateTime::from_timestamp_millis(self.ms).unwrap_or_default()
    }

    /// Byte offset of the event's line in its file (0 for in-memory sources).
    pub fn offset(&self) -> u64 {
        u64::from(self.offset_hi) << 32 | u64::from(self.offset_lo)
    }

    /// Processes online as of this event (last observation).
    pub fn online(&self) -> u16 {
        self.state & !DOWN
    }

    /// Some health endpoint failing as of this event.
    pub fn down(&self) -> bool {
        self.state & DOWN != 0
    }
}

/// Running state that turns events into [`Mark`]s (the strip's online count and failing set).
#[derive(Debug, Clone, Default)]
pub struct Marker {
    online: usize,
    failing: HashMap<String, bool>,
    down: usize,
}

impl Marker {
    pub fn mark(&mut self, e: &Entry, offset: u64) -> Mark {
        match &e.event {
            Event::Pm2Observation(o) => {
                self.online = o.processes.iter().filter(|p| p.is_online()).count()
            }
            Event::HealthResult(h) => {
                // Looked up first: the same few URLs come back at every health round.
                let was = match self.failing.get_mut(&h.url) {
                    Some(f) => std::mem::replace(f, !h.up),
                    None => self.failing.insert(h.url.clone(), !h.up).unwrap_or(false),
                };
                self.down = self.down + usize::from(!h.up) - usize::from(was);
            }
            _ => {}
        }
        Mark::new(e.ts, offset, Kind::of(&e.event), self.online, self.down > 0)
    }
}

/// Where replayed events come from. `read` returns the entries `from..to` (indices among the
/// readable events), given the byte offset of entry `from`.
pub trait Source: Send {
    fn read(&self, from: usize, to: usize, offset: u64) -> Vec<Entry>;
    /// The entries whose lines start at these byte offsets, in order (`None` where a line can no
    /// longer be read). Only file sources are asked: in-memory folds keep output in place.
    fn read_at(&self, offsets: &[u64]) -> Vec<Option<Entry>> {
        vec![None; offsets.len()]
    }
    /// True for a journal file: entries are folded with their offsets (output stays in the
    /// file), here and by the [`Builder`] that indexes it (`Builder::located`).
    fn located(&self) -> bool {
        false
    }
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
    /// The snapshot spacing as of the end of this chunk: the replay thins the snapshots it
    /// already has to it (it only ever doubles).
    pub every: usize,
    /// (n, state after the first n events) for the multiples n of `every` reached in this
    /// chunk, in order.
    pub snapshots: Vec<(usize, Incident)>,
    pub last: Incident,
}

impl Chunk {
    fn empty(every: usize) -> Chunk {
        Chunk {
            marks: Vec::new(),
            steps: Vec::new(),
            every,
            snapshots: Vec::new(),
            last: Incident::default(),
        }
    }
}

/// Builds [`Chunk`]s from entries in order (used by the file indexer and by [`Replay::new`]).
#[derive(Debug, Clone)]
pub struct Builder {
    every: usize,
    max_snapshots: usize,
    /// Entries come with their byte offsets in a journal file: command output is kept as those
    /// offsets, read back when shown (see [`Incident::apply_at`]).
    located: bool,
    count: usize,
    inc: Incident,
    marker: Marker,
    pending: Chunk,
}

impl Builder {
    /// A builder for entries held in memory (offsets are not meaningful).
    pub fn new(every: usize) -> Builder {
        let every = every.max(1);
        Builder {
            every,
            max_snapshots: MAX_SNAPSHOTS,
            located: false,
            count: 0,
            inc: Incident::default(),
            marker: Marker::default(),
            pending: Chunk::empty(every),
        }
    }

    /// Entries pushed with their real byte offsets in the journal file.
    pub fn located(mut self) -> Builder {
        self.located = true;
        self
    }

    /// At most `n` snapshots (at least 2: the start and one more).
    pub fn max_snapshots(mut self, n: usize) -> Builder {
        self.max_snapshots = n.max(2);
        self
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
        self.inc.apply_at(e, output_at(self.located, offset));
        self.pending.marks.push(self.marker.mark(e, offset));
        if let Event::StepEntered(s) = &e.event {
            self.pending.steps.push((self.count, s.step.clone()));
        }
        self.count += 1;
        if self.count.is_multiple_of(self.every) {
            // Sealed first: the snapshot shares every list whole, copying no element.
            self.inc.seal();
            self.pending.snapshots.push((self.count, self.inc.clone()));
            // Snapshots held so far (the start's included): past the budget, double the
            // spacing; the replay drops the snapshots in between when it gets this chunk.
            if self.count / self.every + 1 > self.max_snapshots {
                self.every *= 2;
                let every = self.every;
                self.pending.snapshots.retain(|(n, _)| n % every == 0);
            }
        }
    }

    /// The chunk of events pushed since the last take.
    pub fn take(&mut self) -> Chunk {
        let mut c = std::mem::replace(&mut self.pending, Chunk::empty(self.every));
        c.every = self.every;
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
        Replay::built(entries, Builder::new(every))
    }

    /// [`Replay::new`] with a builder of one's own (a snapshot budget, in tests).
    pub fn built(entries: Vec<Entry>, mut b: Builder) -> Self {
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

    /// Adds the next piece of index (built by a [`Builder`] that started with the same spacing).
    pub fn extend(&mut self, c: Chunk) {
        if c.every > self.every {
            // The builder doubled its spacing: keep the snapshots at multiples of the new one.
            let ratio = c.every / self.every;
            let mut k = 0;
            self.snapshots.retain(|_| {
                k += 1;
                (k - 1) % ratio == 0
            });
            self.every = c.every;
        }
        self.marks.extend(c.marks);
        self.steps.extend(c.steps);
        let every = self.every;
        self.snapshots.extend(
            c.snapshots
                .into_iter()
                .filter(|(n, _)| n % every == 0)
                .map(|(_, inc)| inc),
        );
        self.last = c.last;
        debug_assert_eq!(self.snapshots.len(), self.marks.len() / self.every + 1);
    }

    /// Snapshots held (the start's included).
    pub fn snapshots(&self) -> usize {
        self.snapshots.len()
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
        self.source.read(from, to, self.marks[from].offset())
    }

    /// Applies entries `from..to` to `inc`, as the builder did: with their offsets when the
    /// source is a file (output stays there), so a state is the same however it was reached.
    fn apply_range(&self, inc: &mut Incident, from: usize, to: usize) {
        let located = self.source.located();
        for (i, e) in (from..).zip(self.read(from, to)) {
            inc.apply_at(&e, output_at(located, self.marks[i].offset()));
        }
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
        self.apply_range(&mut inc, k * self.every, n);
        inc
    }

    /// The output of a command folded from a file (kept as offsets, see
    /// [`Incident::apply_at`]) read back from the journal: the same lines an in-memory fold
    /// keeps. A line that can no longer be read is said so, never left out silently.
    pub fn read_output(&self, rec: &CommandRecord) -> Vec<OutputLine> {
        let offsets: Vec<u64> = rec.output_in_journal.iter().map(|r| r.offset).collect();
        let mut out = Vec::with_capacity(rec.output_kept());
        out.extend(rec.output.iter().cloned());
        for (r, e) in rec
            .output_in_journal
            .iter()
            .zip(self.source.read_at(&offsets))
        {
            match e.map(|e| e.event) {
                Some(Event::OutputLines(o)) if o.cmd_id == rec.start.cmd_id => {
                    out.extend(o.lines.iter().take(r.lines as usize).map(|l| OutputLine {
                        stream: o.stream,
                        text: std::sync::Arc::from(l.as_str()),
                    }))
                }
                _ => out.push(OutputLine {
                    stream: super::event::Stream::Stderr,
                    text: std::sync::Arc::from(format!(
                        "[pm2-incident: {} output line(s) at byte {} of the journal could not be read back: the file changed]",
                        r.lines, r.offset
                    )),
                }),
            }
        }
        out
    }

    /// Replaces a command's output places with the lines themselves (what the screen shows).
    pub fn hydrate(&self, rec: &mut CommandRecord) {
        if rec.output_in_journal.is_empty() {
            return;
        }
        rec.output = self.read_output(rec);
        rec.output_in_journal.clear();
        rec.output_in_journal_lines = 0;
    }

    /// [`Replay::hydrate`] for every command: the state as an in-memory fold has it (tests).
    pub fn hydrate_all(&self, inc: &mut Incident) {
        for i in 0..inc.commands.len() {
            if let Some(rec) = inc.commands.get_mut(i) {
                self.hydrate(rec);
            }
        }
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
            self.apply_range(&mut cursor.state, cursor.pos, n);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_stays_small() {
        // One per event, always in memory: 16 MB at 1M events.
        assert_eq!(std::mem::size_of::<Mark>(), 16);
        let t = chrono::DateTime::from_timestamp_millis(1_771_301_520_123).unwrap();
        let m = Mark::new(t, MAX_OFFSET - 1, Kind::Step, 70_000, true);
        assert_eq!(
            (m.ts(), m.offset(), m.kind),
            (t, MAX_OFFSET - 1, Kind::Step)
        );
        assert_eq!(
            (m.online(), m.down()),
            (32_767, true),
            "saturates, keeps the flag"
        );
        let m = Mark::new(t, 5, Kind::Other, 8, false);
        assert_eq!((m.offset(), m.online(), m.down()), (5, 8, false));
    }
}
