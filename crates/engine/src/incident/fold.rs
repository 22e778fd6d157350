//! `fold(entries) -> Incident`: the one way to turn journal events into incident state.
//! The live app, drills, replay and `report` all go through `Incident::apply`, so they agree.
use super::availability::Availability;
use super::event::*;
use super::log::Log;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Output lines kept per command; the rest are counted, not stored (bounds memory and journal).
pub const OUTPUT_LINE_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct OutputLine {
    pub stream: Stream,
    pub text: Arc<str>,
}

/// Output lines left in the journal file: the first `lines` lines of the `output_lines` event
/// whose line starts at byte `offset` (a replay or report of a file keeps these instead of the
/// text, so memory does not grow with the output; see [`Incident::apply_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputRef {
    pub offset: u64,
    pub lines: u32,
}

/// Where a fold keeps command output (see [`Incident::apply_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputAt {
    /// Line by line in memory (live sessions, drills, in-memory replays).
    Memory,
    /// As places in the journal: the entry's line starts at this byte (replay of a file).
    Journal(u64),
    /// Counted, not kept (a report, which prints none of it).
    Counted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    pub started_at: Ts,
    pub seq: u64,
    pub start: CommandStarted,
    /// Output kept in memory (live sessions, drills, in-memory replays).
    pub output: Vec<OutputLine>,
    /// Output kept as places in the journal (folds of a file by offset); read back on demand
    /// with `seek::Replay::read_output`.
    pub output_in_journal: Vec<OutputRef>,
    /// Lines left in the journal: those places stand for them (or, folded for a report, they
    /// were only counted).
    pub output_in_journal_lines: usize,
    /// Lines beyond the bound: counted by the writer (in `finished`) or by the fold.
    pub output_dropped: u64,
    pub finished: Option<(Ts, CommandFinished)>,
}

impl CommandRecord {
    /// Output lines kept (in memory or in the journal), at most [`OUTPUT_LINE_LIMIT`].
    pub fn output_kept(&self) -> usize {
        self.output.len() + self.output_in_journal_lines
    }
}

/// What happened at a runbook step, as the record shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    NotVisited,
    /// Entered, nothing run, ticked or decided there.
    Visited,
    /// A command ran, a checklist item was ticked or a decision was taken there (or, in journals
    /// from earlier versions, it was marked completed).
    Done,
    Skipped {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepProgress {
    pub step: String,
    pub title: String,
    pub entered_at: Ts,
    /// When the step first became done (first command, tick or decision in it).
    pub completed_at: Option<Ts>,
    pub left_at: Option<Ts>,
    pub skipped: Option<Timed<String>>,
    /// What was done there.
    pub commands: u32,
    pub ticks: u32,
    pub decisions: u32,
    /// Marked completed by an explicit `step_completed` event.
    pub marked: bool,
}

impl StepProgress {
    fn new(step: &str, title: &str, at: Ts) -> Self {
        StepProgress {
            step: step.to_string(),
            title: title.to_string(),
            entered_at: at,
            completed_at: None,
            left_at: None,
            skipped: None,
            commands: 0,
            ticks: 0,
            decisions: 0,
            marked: false,
        }
    }

    pub fn state(&self) -> StepState {
        match (&self.completed_at, &self.skipped) {
            (Some(_), _) => StepState::Done,
            (None, Some(s)) => StepState::Skipped {
                reason: s.value.clone(),
            },
            (None, None) => StepState::Visited,
        }
    }

    /// "2 commands run, 1 checklist item ticked" — what made the step done.
    pub fn done_summary(&self) -> String {
        let mut parts = Vec::new();
        let plural = |n: u32, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        if self.commands > 0 {
            parts.push(plural(self.commands, "command run", "commands run"));
        }
        if self.ticks > 0 {
            parts.push(plural(
                self.ticks,
                "checklist item ticked",
                "checklist items ticked",
            ));
        }
        if self.decisions > 0 {
            parts.push(plural(self.decisions, "decision taken", "decisions taken"));
        }
        if parts.is_empty() && self.marked {
            parts.push("marked completed".into());
        }
        parts.join(", ")
    }
}

/// One change of the incident's severity: a new proposal, or a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityChange {
    pub at: Ts,
    pub severity: Severity,
    /// Who decided it; `None` for a proposal from the decision tree.
    pub decided_by: Option<String>,
    pub overridden: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommRecord {
    pub drafted_at: Ts,
    pub draft: CommDrafted,
    pub sent: Vec<(Ts, CommSent)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub ts: Ts,
    pub seq: u64,
    /// Shared with the entries just before that say the same (see [`RecentTexts`]): there is
    /// about one entry per event, and a long degraded period says the same things over and
    /// over (BENCHMARKS.md, issue #19).
    pub text: Arc<str>,
}

/// The last few distinct timeline texts, so a repeated line shares its text. A cache, not part
/// of the incident's value: it never makes two incidents differ.
#[derive(Debug, Clone, Default)]
struct RecentTexts {
    texts: [Option<Arc<str>>; RECENT_TEXTS],
    next: usize,
}

const RECENT_TEXTS: usize = 32;

impl RecentTexts {
    fn share(&mut self, text: String) -> Arc<str> {
        if let Some(t) = self.texts.iter().flatten().find(|t| ***t == *text) {
            return Arc::clone(t);
        }
        let t: Arc<str> = Arc::from(text);
        self.texts[self.next] = Some(Arc::clone(&t));
        self.next = (self.next + 1) % RECENT_TEXTS;
        t
    }
}

impl PartialEq for RecentTexts {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timed<T> {
    pub at: Ts,
    pub value: T,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Incident {
    pub opened: Option<Timed<Opened>>,
    pub first_ts: Option<Ts>,
    pub last_ts: Option<Ts>,
    pub last_seq: Option<u64>,
    pub events: u64,
    /// Events of kinds this version does not know (kept in the journal, ignored here).
    pub unknown_events: u64,
    /// The latest PM2 process list.
    pub processes: Vec<ProcessRow>,
    pub observed_at: Option<Ts>,
    pub observations: u64,
    pub daemon: Option<Timed<DaemonState>>,
    /// Latest result per health URL.
    pub health: BTreeMap<String, Timed<HealthResult>>,
    pub pm2_events: Log<Timed<Pm2Event>>,
    pub current_step: Option<String>,
    pub steps: Vec<StepProgress>,
    pub commands: Log<CommandRecord>,
    cmd_index: super::log::IdIndex,
    pub refusals: Log<Timed<GuardRefused>>,
    /// The latest proposal.
    pub proposed: Option<Timed<SeverityProposed>>,
    /// The first proposal at the incident's peak severity (its decision path is what the
    /// responder saw when the worst was called).
    pub peak_proposal: Option<Timed<SeverityProposed>>,
    pub severity: Option<Timed<SeverityDecided>>,
    /// Every change of proposed or decided severity, in order (repeats of the same proposal,
    /// written by earlier versions at every observation, are not changes).
    pub severity_history: Log<SeverityChange>,
    pub checklist: BTreeMap<String, bool>,
    pub notes: Log<Timed<Note>>,
    pub comms: Vec<CommRecord>,
    /// First occurrence of each milestone, at the time it actually happened.
    pub milestones: BTreeMap<Milestone, Ts>,
    pub interruptions: Log<Timed<Interrupted>>,
    pub resumes: Log<Timed<Resumed>>,
    pub closed: Option<Timed<Closed>>,
    pub impact: Impact,
    pub five_whys: Option<FiveWhys>,
    pub root_cause: Option<RootCause>,
    pub factors: Vec<String>,
    pub action_items: Vec<ActionItem>,
    pub lessons: Vec<Lesson>,
    pub timeline: Log<TimelineEntry>,
    recent_texts: RecentTexts,
    pub availability: Availability,
}

/// Folds entries in order into a fresh Incident.
pub fn fold<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Incident {
    let mut inc = Incident::default();
    for e in entries {
        inc.apply(e);
    }
    inc
}

impl Incident {
    pub fn is_drill(&self) -> bool {
        matches!(&self.opened, Some(o) if o.value.mode == Mode::Drill)
    }

    pub fn command(&self, cmd_id: u64) -> Option<&CommandRecord> {
        self.cmd_index
            .get(&cmd_id)
            .and_then(|&i| self.commands.get(i))
    }

    /// Freezes the open end of every growing list, so a clone made now shares all of it (a
    /// replay snapshot then costs a few pointers per list; see `incident::log`).
    pub fn seal(&mut self) {
        self.pm2_events.seal();
        self.commands.seal();
        self.cmd_index.seal();
        self.refusals.seal();
        self.severity_history.seal();
        self.notes.seal();
        self.interruptions.seal();
        self.resumes.seal();
        self.timeline.seal();
        self.availability.seal();
    }

    /// Applies one entry. Total: any event in any order is accepted (a journal may start mid-way
    /// or reference a command whose start was lost); nothing here panics.
    pub fn apply(&mut self, entry: &Entry) {
        self.apply_at(entry, OutputAt::Memory);
    }

    /// [`Incident::apply`], saying where command output is kept: in memory, as the place of
    /// the entry in its journal file ([`OutputRef`]: the file can give it back), or only
    /// counted. Everything else is the same fold.
    pub fn apply_at(&mut self, entry: &Entry, at: OutputAt) {
        let ts = entry.ts;
        self.events += 1;
        self.first_ts.get_or_insert(ts);
        self.last_ts = Some(ts);
        self.last_seq = Some(entry.seq);
        let seq = entry.seq;
        match &entry.event {
            Event::IncidentOpened(o) => {
                let mut o = o.clone();
                if o.commander.is_empty() {
                    o.commander = o.user.clone();
                }
                let mode = if o.mode == Mode::Drill {
                    "drill"
                } else {
                    "live"
                };
                self.line(
                    ts,
                    seq,
                    format!(
                        "Incident {} opened ({mode}) by {} on {}",
                        o.incident_id, o.user, o.host
                    ),
                );
                self.availability.set_inventory(&o.inventory);
                self.opened = Some(Timed { at: ts, value: o });
            }
            Event::Pm2Observation(obs) => {
                self.observations += 1;
                self.observed_at = Some(ts);
                self.processes = obs.processes.clone();
                let online = obs.processes.iter().filter(|p| p.is_online()).count();
                self.line(
                    ts,
                    seq,
                    format!(
                        "PM2 observation: {online}/{} processes online",
                        obs.processes.len()
                    ),
                );
                let changes = self.availability.observe_processes(ts, &obs.processes);
                self.availability_lines(ts, seq, changes);
            }
            Event::DaemonState(d) => {
                let state = if d.alive { "alive" } else { "NOT RESPONDING" };
                let detail = suffix(&d.detail);
                self.line(ts, seq, format!("PM2 daemon {state}{detail}"));
                self.daemon = Some(Timed {
                    at: ts,
                    value: d.clone(),
                });
            }
            Event::Pm2Event(ev) => {
                self.line(
                    ts,
                    seq,
                    format!(
                        "PM2 event: {} {}{}",
                        ev.process,
                        ev.event,
                        suffix(&ev.detail)
                    ),
                );
                self.pm2_events.push(Timed {
                    at: ts,
                    value: ev.clone(),
                });
            }
            Event::HealthResult(h) => {
                let label = h.verdict.phrase();
                let verdict = match h.status_code {
                    Some(c) if !label.contains(&c.to_string()) => format!("{label} (HTTP {c})"),
                    _ => label,
                };
                let line = format!("Health {} ({}): {verdict} [{}]", h.app, h.env, h.url);
                self.line(ts, seq, line);
                let changes = self.availability.observe_health(ts, h);
                self.availability_lines(ts, seq, changes);
                self.health.insert(
                    h.url.clone(),
                    Timed {
                        at: ts,
                        value: h.clone(),
                    },
                );
            }
            Event::StepEntered(s) => {
                self.current_step = Some(s.step.clone());
                self.line(
                    ts,
                    seq,
                    format!("Step {}{} entered", s.step, titled(&s.title)),
                );
                self.step_mut(&s.step, &s.title, ts);
            }
            Event::StepCompleted(s) => {
                self.line(ts, seq, format!("Step {} marked completed", s.step));
                let p = self.step_mut(&s.step, &s.title, ts);
                p.marked = true;
                p.completed_at.get_or_insert(ts);
            }
            Event::StepLeft(s) => {
                let p = self.step_mut(&s.step, &s.title, ts);
                p.left_at = Some(ts);
                let what = match p.state() {
                    StepState::Done => p.done_summary(),
                    StepState::Skipped { reason } => format!("skipped: {reason}"),
                    _ => "nothing run".to_string(),
                };
                let text = format!("Left step {}{}, {what}", s.step, titled(&s.title));
                if self.current_step.as_deref() == Some(s.step.as_str()) {
                    self.current_step = None;
                }
                self.line(ts, seq, text);
            }
            Event::StepSkipped(s) => {
                let by = if s.by.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", s.by)
                };
                let text = format!(
                    "Step {}{} skipped{by}: {}",
                    s.step,
                    titled(&s.title),
                    s.reason
                );
                self.line(ts, seq, text);
                let p = self.step_mut(&s.step, &s.title, ts);
                p.skipped = Some(Timed {
                    at: ts,
                    value: s.reason.clone(),
                });
            }
            Event::CommandStarted(c) => {
                if let Some(p) = self.here() {
                    p.commands += 1;
                    p.completed_at.get_or_insert(ts);
                }
                self.line(ts, seq, format!("Ran `{}` [{}]", c.text, c.guard.class));
                self.cmd_index.insert(c.cmd_id, self.commands.len());
                self.commands.push(CommandRecord {
                    started_at: ts,
                    seq,
                    start: c.clone(),
                    output: Vec::new(),
                    output_in_journal: Vec::new(),
                    output_in_journal_lines: 0,
                    output_dropped: 0,
                    finished: None,
                });
            }
            Event::OutputLines(o) => {
                if let Some(&i) = self.cmd_index.get(&o.cmd_id) {
                    let Some(rec) = self.commands.get_mut(i) else {
                        return;
                    };
                    let room = OUTPUT_LINE_LIMIT.saturating_sub(rec.output_kept());
                    let kept = o.lines.len().min(room);
                    rec.output_dropped += (o.lines.len() - kept) as u64;
                    match at {
                        OutputAt::Journal(offset) if kept > 0 => {
                            rec.output_in_journal.push(OutputRef {
                                offset,
                                lines: kept as u32,
                            });
                            rec.output_in_journal_lines += kept;
                        }
                        OutputAt::Journal(_) => {}
                        OutputAt::Counted => rec.output_in_journal_lines += kept,
                        OutputAt::Memory => {
                            rec.output
                                .extend(o.lines[..kept].iter().map(|l| OutputLine {
                                    stream: o.stream,
                                    text: Arc::from(l.as_str()),
                                }))
                        }
                    }
                }
            }
            Event::CommandFinished(f) => {
                let text = self
                    .command(f.cmd_id)
                    .map(|c| c.start.text.clone())
                    .unwrap_or_else(|| format!("command #{}", f.cmd_id));
                self.line(
                    ts,
                    seq,
                    format!(
                        "`{text}` finished: {} in {}",
                        exit_text(f),
                        super::report::fmt_ms(f.duration_ms)
                    ),
                );
                if let Some(&i) = self.cmd_index.get(&f.cmd_id) {
                    let Some(rec) = self.commands.get_mut(i) else {
                        return;
                    };
                    rec.output_dropped += f.output_lines_dropped;
                    rec.finished = Some((ts, f.clone()));
                }
            }
            Event::GuardRefused(g) => {
                self.line(
                    ts,
                    seq,
                    format!(
                        "REFUSED `{}` ({}): {}",
                        g.text, g.guard.class, g.guard.reason
                    ),
                );
                self.refusals.push(Timed {
                    at: ts,
                    value: g.clone(),
                });
            }
            Event::SeverityProposed(p) => {
                let repeat = self
                    .proposed
                    .as_ref()
                    .is_some_and(|q| q.value.severity == p.severity);
                let timed = Timed {
                    at: ts,
                    value: p.clone(),
                };
                if !repeat {
                    let text = match &self.proposed {
                        Some(q) => format!(
                            "Severity proposed: {} (was {})",
                            p.severity.label(),
                            q.value.severity.short()
                        ),
                        None => format!("Severity proposed: {}", p.severity.label()),
                    };
                    self.line(ts, seq, text);
                    self.severity_history.push(SeverityChange {
                        at: ts,
                        severity: p.severity,
                        decided_by: None,
                        overridden: false,
                    });
                    let higher = self
                        .peak_proposal
                        .as_ref()
                        .is_none_or(|q| p.severity.rank() > q.value.severity.rank());
                    if higher {
                        self.peak_proposal = Some(timed.clone());
                    }
                }
                self.proposed = Some(timed);
            }
            Event::SeverityDecided(d) => {
                if let Some(p) = self.here() {
                    p.decisions += 1;
                    p.completed_at.get_or_insert(ts);
                }
                let why = match &d.overridden {
                    Some(o) => format!(" (override by {}: {})", o.by, o.why),
                    None => String::new(),
                };
                self.line(
                    ts,
                    seq,
                    format!("Severity set to {} by {}{why}", d.severity.label(), d.by),
                );
                self.severity_history.push(SeverityChange {
                    at: ts,
                    severity: d.severity,
                    decided_by: Some(d.by.clone()),
                    overridden: d.overridden.is_some(),
                });
                self.severity = Some(Timed {
                    at: ts,
                    value: d.clone(),
                });
            }
            Event::ChecklistTicked(c) => {
                if let Some(p) = self.here().filter(|_| c.checked) {
                    p.ticks += 1;
                    p.completed_at.get_or_insert(ts);
                }
                let mark = if c.checked { "checked" } else { "unchecked" };
                self.line(ts, seq, format!("Checklist {mark}: {}", c.item));
                self.checklist.insert(c.item.clone(), c.checked);
            }
            Event::Note(n) => {
                self.line(ts, seq, format!("Note ({}): {}", n.author, n.text));
                self.notes.push(Timed {
                    at: ts,
                    value: n.clone(),
                });
            }
            Event::CommDrafted(c) => {
                match self.comms.iter_mut().find(|r| r.draft.comm_id == c.comm_id) {
                    Some(r) => r.draft = c.clone(),
                    None => self.comms.push(CommRecord {
                        drafted_at: ts,
                        draft: c.clone(),
                        sent: Vec::new(),
                    }),
                }
            }
            Event::CommPosted(p) => {
                let what = if p.outcome.posted() {
                    "Posted to the webhook"
                } else {
                    "Webhook post failed"
                };
                self.line(
                    ts,
                    seq,
                    format!(
                        "{what}: communication #{} ({})",
                        p.comm_id,
                        p.outcome.describe()
                    ),
                );
            }
            Event::CommSent(s) => {
                let subject = self
                    .comms
                    .iter_mut()
                    .find(|r| r.draft.comm_id == s.comm_id)
                    .map(|r| {
                        r.sent.push((ts, s.clone()));
                        r.draft.subject.clone()
                    })
                    .unwrap_or_else(|| format!("communication #{}", s.comm_id));
                self.line(ts, seq, format!("Sent to {}: {subject}", s.channel));
            }
            Event::Milestone(m) => {
                let at = m.at.unwrap_or(ts);
                self.line(
                    at,
                    seq,
                    format!("{}{}", m.milestone.label(), suffix(&m.source)),
                );
                self.milestones.entry(m.milestone).or_insert(at);
            }
            Event::Interrupted(i) => {
                let why = match &i.reason {
                    InterruptCause::Signal { signal } => format!("signal {signal}"),
                    InterruptCause::DroppedConnection => "dropped connection".to_string(),
                    InterruptCause::Panic { message } => format!("panic: {message}"),
                };
                self.line(ts, seq, format!("Session interrupted ({why})"));
                self.interruptions.push(Timed {
                    at: ts,
                    value: i.clone(),
                });
            }
            Event::Resumed(r) => {
                self.line(
                    ts,
                    seq,
                    format!("Session resumed by {}@{} (pid {})", r.user, r.host, r.pid),
                );
                self.resumes.push(Timed {
                    at: ts,
                    value: r.clone(),
                });
            }
            Event::IncidentClosed(c) => {
                let status = match c.status {
                    CloseStatus::Resolved => "resolved",
                    CloseStatus::Abandoned => "abandoned",
                };
                self.line(ts, seq, format!("Incident closed ({status})"));
                self.closed = Some(Timed {
                    at: ts,
                    value: c.clone(),
                });
            }
            Event::Impact(i) => self.impact = i.clone(),
            Event::FiveWhys(w) => self.five_whys = Some(w.clone()),
            Event::RootCause(r) => self.root_cause = Some(r.clone()),
            Event::ContributingFactor(f) => self.factors.push(f.text.clone()),
            Event::ActionItem(a) => match self.action_items.iter_mut().find(|x| x.id == a.id) {
                Some(x) => *x = a.clone(),
                None => self.action_items.push(a.clone()),
            },
            Event::LessonLearned(l) => self.lessons.push(l.clone()),
            Event::EvidencePreserved(e) => {
                let text = format!(
                    "PM2 evidence preserved in {} ({} file(s))",
                    e.dir,
                    e.files.len()
                );
                self.line(ts, seq, text);
            }
            Event::Unknown(_) => self.unknown_events += 1,
        }
    }

    /// The worst severity the incident reached (proposed or decided), first reached when.
    pub fn peak_severity(&self) -> Option<Timed<Severity>> {
        let mut peak: Option<Timed<Severity>> = None;
        for c in &self.severity_history {
            if peak
                .as_ref()
                .is_none_or(|p| c.severity.rank() > p.value.rank())
            {
                peak = Some(Timed {
                    at: c.at,
                    value: c.severity,
                });
            }
        }
        peak
    }

    /// The state of a runbook step in the record.
    pub fn step_state(&self, id: &str) -> StepState {
        self.steps
            .iter()
            .find(|p| p.step == id)
            .map_or(StepState::NotVisited, StepProgress::state)
    }

    /// The progress entry of a step, created at its first mention.
    fn step_mut(&mut self, id: &str, title: &str, at: Ts) -> &mut StepProgress {
        let i = match self.steps.iter().position(|p| p.step == id) {
            Some(i) => i,
            None => {
                self.steps.push(StepProgress::new(id, title, at));
                self.steps.len() - 1
            }
        };
        let p = &mut self.steps[i];
        if p.title.is_empty() {
            p.title = title.to_string();
        }
        p
    }

    /// The step the responder is in, if any (what is done now is done there).
    fn here(&mut self) -> Option<&mut StepProgress> {
        let cur = self.current_step.clone()?;
        self.steps.iter_mut().find(|p| p.step == cur)
    }

    fn line(&mut self, ts: Ts, seq: u64, text: String) {
        let text = self.recent_texts.share(text);
        self.timeline.push(TimelineEntry { ts, seq, text });
    }

    fn availability_lines(&mut self, ts: Ts, seq: u64, changes: Vec<(String, bool)>) {
        for (app, up) in changes {
            let state = if up { "UP" } else { "DOWN" };
            self.line(ts, seq, format!("{app} is {state}"));
        }
    }
}

fn titled(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(": {title}")
    }
}

fn suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" ({s})")
    }
}

pub fn exit_text(f: &CommandFinished) -> String {
    match (f.exit_code, f.signal, f.timed_out) {
        (_, _, true) => "timed out".to_string(),
        (Some(c), _, _) => format!("exit {c}"),
        (None, Some(s), _) => format!("signal {s}"),
        (None, None, _) => "no exit status".to_string(),
    }
}
