//! Replay: the same screens over a recorded journal, read-only, with a cursor
//! that steps, jumps and plays. The state shown is `incident::fold` up to the
//! cursor (via the journal's checkpoints), so replay cannot drift from what the
//! responder saw.
use crate::pm2::DaemonKind;
use chrono::Duration;

use super::convert;
use super::state::{App, AppMode, InputKind, Popup};
use crate::incident::event::{Entry, Ts};
use crate::incident::seek::{Cursor, Kind, Mark, Replay, DEFAULT_CHECKPOINT_EVERY};
use crate::journal::index::Progress;

pub struct ReplayState {
    pub replay: Replay,
    pub cursor: Cursor,
    pub playing: bool,
    /// Incident seconds per real second.
    pub speed: u32,
    /// The incident time playback has reached.
    pub clock: Option<Ts>,
    /// Watching a journal someone is still writing: stay at the end as it grows.
    pub follow: bool,
    pub last_search: Option<String>,
    /// Background indexing: (bytes read, file size) until the whole file is indexed.
    pub indexing: Option<(u64, u64)>,
    /// A jump past what is indexed yet: taken as soon as the index reaches it.
    pub pending_seek: Option<usize>,
}

pub const SPEEDS: [u32; 5] = [1, 5, 10, 30, 60];

impl ReplayState {
    pub fn new(entries: Vec<Entry>, follow: bool) -> ReplayState {
        ReplayState::over(Replay::new(entries, DEFAULT_CHECKPOINT_EVERY), follow)
    }

    /// A replay whose index may still be growing (chunks arrive as `Msg::Indexed`).
    pub fn over(replay: Replay, follow: bool) -> ReplayState {
        ReplayState {
            replay,
            cursor: Cursor::default(),
            playing: false,
            speed: 1,
            clock: None,
            follow,
            last_search: None,
            indexing: None,
            pending_seek: None,
        }
    }

    pub fn len(&self) -> usize {
        self.replay.len()
    }

    pub fn is_empty(&self) -> bool {
        self.replay.is_empty()
    }

    pub fn pos(&self) -> usize {
        self.cursor.position()
    }

    /// Time of the last event applied.
    pub fn time(&self) -> Option<Ts> {
        let p = self.pos();
        let marks = self.replay.marks();
        if p == 0 {
            marks.first().map(|m| m.ts())
        } else {
            marks.get(p - 1).map(|m| m.ts())
        }
    }

    /// Index just after the next event (from the cursor) matching `pred`.
    fn next_where(&self, pred: impl Fn(usize, &Mark) -> bool) -> Option<usize> {
        self.replay
            .marks()
            .iter()
            .enumerate()
            .skip(self.pos())
            .find(|(i, m)| pred(*i, m))
            .map(|(i, _)| i + 1)
    }

    fn prev_where(&self, pred: impl Fn(usize, &Mark) -> bool) -> Option<usize> {
        let before = self.pos().saturating_sub(1);
        self.replay.marks()[..before]
            .iter()
            .enumerate()
            .rev()
            .find(|(i, m)| pred(*i, m))
            .map(|(i, _)| i + 1)
    }

    /// First event at or after `when` (events are in time order), as "after n events".
    fn at_time(&self, when: Ts, strictly_after: bool) -> usize {
        let marks = self.replay.marks();
        let i = marks.partition_point(|m| {
            if strictly_after {
                m.ts() <= when
            } else {
                m.ts() < when
            }
        });
        if strictly_after {
            i
        } else if i < marks.len() {
            i + 1
        } else {
            marks.len()
        }
    }
}

/// What the replay keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayMove {
    Next,
    Prev,
    NextStep,
    PrevStep,
    NextPhase,
    PrevPhase,
    NextDecision,
    NextCommand,
    Start,
    End,
}

/// What the PM2 pane says in replay before the journal's first observation.
pub const NO_OBSERVATION: &str = "no observation yet";

/// The 1-based cursor position replay opens at: just after the first PM2 observation (or
/// daemon state) when only the incident's opening precedes it, else the first event.
pub fn opening_position(marks: &[Mark]) -> usize {
    match marks.iter().position(|m| m.kind == Kind::Observation) {
        Some(i) if marks[..i].iter().all(|m| m.kind == Kind::Opened) => i + 1,
        _ => 1,
    }
}

fn is_step(_: usize, m: &Mark) -> bool {
    m.kind == Kind::Step
}

impl App {
    /// Open a recorded incident for replay: at its first event, or on its first observation
    /// when nothing but the opening comes before it (a raw dump, a journal that starts by
    /// reading PM2), since nothing is known before an observation.
    pub fn start_replay(&mut self, entries: Vec<Entry>, follow: bool) {
        self.start_replay_over(ReplayState::new(entries, follow));
    }

    /// Open a replay whose index may still be arriving: at its first event (or, following, at
    /// the end of what is indexed).
    pub fn start_replay_over(&mut self, mut r: ReplayState) {
        self.mode = AppMode::Replay;
        let opening = opening_position(r.replay.marks());
        let end = if r.follow {
            r.len()
        } else {
            opening.min(r.len())
        };
        r.replay.seek(&mut r.cursor, end);
        self.replay = Some(r);
        self.sync_from_cursor();
    }

    /// Background indexing progress (a file being read, or a followed journal growing).
    pub fn replay_indexed(&mut self, p: Progress) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        match p {
            Progress::Chunk {
                chunk,
                bytes_done,
                bytes_total,
            } => {
                let at_end = r.pos() == r.len();
                r.replay.extend(*chunk);
                if r.indexing.is_some() || bytes_done < bytes_total {
                    r.indexing = Some((bytes_done, bytes_total));
                }
                let target = match r.pending_seek {
                    Some(n) if n <= r.len() => {
                        r.pending_seek = None;
                        Some(n)
                    }
                    Some(_) => None,
                    None if at_end && r.follow => Some(r.len()),
                    None => None,
                };
                if let Some(n) = target {
                    r.replay.seek(&mut r.cursor, n);
                    r.clock = r.time();
                    self.sync_from_cursor();
                }
            }
            Progress::Done(out) => {
                r.indexing = None;
                if let Some(n) = r.pending_seek.take() {
                    let n = n.min(r.len());
                    r.replay.seek(&mut r.cursor, n);
                    self.sync_from_cursor();
                }
                if let Some(p) = out.problems.first() {
                    self.flash = Some(format!(
                        "journal: {} problem(s); first: {p}",
                        out.problems.len()
                    ));
                }
            }
            Progress::Failed(e) => {
                r.indexing = None;
                r.pending_seek = None;
                self.flash = Some(format!("indexing stopped: {e}"));
            }
        }
        self.dirty = true;
    }

    /// New entries of a journal being written (replay --follow).
    pub fn replay_append(&mut self, entries: Vec<Entry>) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        let at_end = r.pos() == r.len();
        for e in entries {
            r.replay.push(e);
        }
        if at_end && r.follow {
            let n = r.len();
            r.replay.seek(&mut r.cursor, n);
            self.sync_from_cursor();
        }
        self.dirty = true;
    }

    pub fn replay_seek(&mut self, n: usize) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        if n > r.len() && r.indexing.is_some() {
            // Not indexed yet: go there when the index reaches it, meanwhile as far as known.
            r.pending_seek = Some(n);
            self.flash = Some(format!(
                "indexing: event {n} not read yet; jumping when it is"
            ));
        }
        let n = n.clamp(1.min(r.len()), r.len());
        r.replay.seek(&mut r.cursor, n);
        r.clock = r.time();
        self.sync_from_cursor();
    }

    pub fn replay_move(&mut self, m: ReplayMove) {
        let Some(r) = self.replay.as_ref() else {
            return;
        };
        let pos = r.pos();
        let phase_of = |app: &App, i: usize| -> Option<String> {
            let step = r.replay.step_at(i)?;
            app.rb
                .procedure
                .steps()
                .find(|(_, st)| *st.id.get_ref() == step)
                .map(|(p, _)| p.id.get_ref().clone())
        };
        let target = match m {
            ReplayMove::Next => Some(pos + 1),
            ReplayMove::Prev => Some(pos.saturating_sub(1)),
            ReplayMove::NextStep => r.next_where(is_step),
            ReplayMove::PrevStep => r.prev_where(is_step),
            ReplayMove::NextPhase | ReplayMove::PrevPhase => {
                let current = r
                    .replay
                    .steps()
                    .rev()
                    .filter(|(i, _)| *i < pos)
                    .find_map(|(i, _)| phase_of(self, i));
                let differs = |i: usize, m: &Mark| {
                    m.kind == Kind::Step && phase_of(self, i).is_some_and(|p| Some(p) != current)
                };
                if m == ReplayMove::NextPhase {
                    r.next_where(differs)
                } else {
                    r.prev_where(differs)
                }
            }
            ReplayMove::NextDecision => r.next_where(|_, m| {
                matches!(m.kind, Kind::SeverityDecided | Kind::SeverityProposed)
            }),
            ReplayMove::NextCommand => {
                r.next_where(|_, m| matches!(m.kind, Kind::Command | Kind::Refused))
            }
            ReplayMove::Start => Some(1),
            // While indexing, the end is not known yet: go there when it is.
            ReplayMove::End if r.indexing.is_some() => Some(usize::MAX),
            ReplayMove::End => Some(r.len()),
        };
        match target {
            Some(n) => self.replay_seek(n),
            None => self.flash = Some("no more of those in this journal".into()),
        }
    }

    /// Jump to the first event at or after a time of day (`HH:MM[:SS]`, UTC) or a full RFC 3339 time.
    pub fn replay_goto_time(&mut self, text: &str) -> Result<(), String> {
        let Some(r) = self.replay.as_ref() else {
            return Ok(());
        };
        let first = r
            .replay
            .marks()
            .first()
            .map(|m| m.ts())
            .ok_or("empty journal")?;
        let when: Ts = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
            t.with_timezone(&chrono::Utc)
        } else {
            let t = chrono::NaiveTime::parse_from_str(text, "%H:%M:%S")
                .or_else(|_| chrono::NaiveTime::parse_from_str(text, "%H:%M"))
                .map_err(|_| format!("`{text}` is not HH:MM[:SS] (UTC) or an RFC 3339 time"))?;
            let mut d = first.date_naive().and_time(t).and_utc();
            if d < first {
                d += Duration::days(1);
            }
            d
        };
        let n = r.at_time(when, false);
        self.replay_seek(n);
        Ok(())
    }

    /// Find the next event whose text (kind, command, note, process...) contains `needle`.
    pub fn replay_search(&mut self, needle: &str) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        r.last_search = Some(needle.to_string());
        let lower = needle.to_lowercase();
        // Events are read back from the journal in batches: search is the one move that reads
        // (and decodes) what it passes over.
        let mut hit = None;
        let mut from = r.pos();
        while hit.is_none() && from < r.len() {
            let to = (from + 4096).min(r.len());
            hit = r
                .replay
                .read(from, to)
                .iter()
                .position(|e| {
                    serde_json::Value::Object(e.event.to_object())
                        .to_string()
                        .to_lowercase()
                        .contains(&lower)
                })
                .map(|i| from + i + 1);
            from = to;
        }
        match hit {
            Some(n) => self.replay_seek(n),
            None => self.flash = Some(format!("`{needle}` not found after the cursor")),
        }
    }

    /// Playback: move the cursor to the events up to the replay clock.
    pub fn replay_tick(&mut self, real_secs: i64) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        if !r.playing {
            return;
        }
        let clock = r.clock.or(r.time()).unwrap_or_else(chrono::Utc::now)
            + Duration::seconds(real_secs * r.speed as i64);
        r.clock = Some(clock);
        let n = r.at_time(clock, true);
        if n >= r.len() && r.indexing.is_none() {
            r.playing = false;
        }
        let n = n.max(r.pos());
        r.replay.seek(&mut r.cursor, n);
        self.sync_from_cursor();
    }

    pub fn replay_toggle_play(&mut self) {
        if let Some(r) = self.replay.as_mut() {
            r.playing = !r.playing;
            r.clock = r.time();
        }
        self.dirty = true;
    }

    pub fn replay_speed(&mut self, faster: bool) {
        if let Some(r) = self.replay.as_mut() {
            let i = SPEEDS.iter().position(|s| *s == r.speed).unwrap_or(0);
            let j = if faster {
                (i + 1).min(SPEEDS.len() - 1)
            } else {
                i.saturating_sub(1)
            };
            r.speed = SPEEDS[j];
        }
        self.dirty = true;
    }

    pub fn open_replay_input(&mut self, kind: InputKind) {
        self.popup = Some(Popup::Input {
            kind,
            text: String::new(),
            error: None,
        });
    }

    /// In a replay of a file, the output of the command the step pane shows is read back
    /// from the journal (the folded state keeps only where it is). Nothing to do otherwise.
    pub fn read_shown_output(&mut self) {
        let Some(r) = self.replay.as_ref() else {
            return;
        };
        let Some(i) = self.shown_command() else {
            return;
        };
        if self
            .incident
            .commands
            .get(i)
            .is_some_and(|c| !c.output_in_journal.is_empty())
        {
            if let Some(rec) = self.incident.commands.get_mut(i) {
                r.replay.hydrate(rec);
            }
        }
    }

    /// Show the incident as of the cursor: its state, the PM2 list and health it
    /// had recorded then, and what `assess` made of them.
    pub fn sync_from_cursor(&mut self) {
        let Some(r) = self.replay.as_ref() else {
            return;
        };
        let inc = r.cursor.state().clone();
        self.now = r.time().unwrap_or(self.now);
        self.processes = Some(
            inc.processes
                .iter()
                .map(convert::process_from_row)
                .collect(),
        );
        // In the inventory's order, as the live screen shows them.
        let order = self.rb.inventory.health_targets();
        let rank = |url: &str| {
            order
                .iter()
                .position(|t| t.url == url)
                .unwrap_or(usize::MAX)
        };
        let mut rows: Vec<_> = inc.health.values().map(|t| &t.value).collect();
        rows.sort_by_key(|h| (rank(&h.url), h.url.clone()));
        self.health = rows
            .into_iter()
            .map(|h| convert::health_from_row(h, &self.rb.inventory))
            .collect();
        match &inc.daemon {
            // Before the first observation nothing is known: no list, no daemon state.
            None if inc.observations == 0 => {
                self.processes = None;
                self.pm2_daemon = None;
                self.pm2_detail = NO_OBSERVATION.into();
            }
            Some(d) => {
                let kind = d.value.kind();
                self.pm2_daemon = Some(kind);
                self.pm2_detail = d.value.detail.clone();
                if kind != DaemonKind::Up && inc.processes.is_empty() {
                    self.processes = None;
                }
            }
            None => {
                // A dump or an old journal records processes, not the daemon: a listing
                // implies it answered.
                self.pm2_daemon = Some(DaemonKind::Up);
                self.pm2_detail = "as recorded".into();
            }
        }
        if let Some(cur) = &inc.current_step {
            if let Some(i) = self
                .rb
                .procedure
                .steps()
                .position(|(_, s)| s.id.get_ref() == cur)
            {
                if i != self.step {
                    self.step = i;
                    self.selected = 0;
                }
            }
        }
        self.incident = inc;
        self.reassess_quietly();
        self.read_shown_output();
        self.dirty = true;
    }
}
