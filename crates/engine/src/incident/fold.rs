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

#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    pub started_at: Ts,
    pub seq: u64,
    pub start: CommandStarted,
    pub output: Vec<OutputLine>,
    /// Lines beyond the bound: counted by the writer (in `finished`) or by the fold.
    pub output_dropped: u64,
    pub finished: Option<(Ts, CommandFinished)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepProgress {
    pub step: String,
    pub title: String,
    pub entered_at: Ts,
    pub completed_at: Option<Ts>,
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
    pub text: String,
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
    pub proposed: Option<Timed<SeverityProposed>>,
    pub severity: Option<Timed<SeverityDecided>>,
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

    /// Applies one entry. Total: any event in any order is accepted (a journal may start mid-way
    /// or reference a command whose start was lost); nothing here panics.
    pub fn apply(&mut self, entry: &Entry) {
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
                let verdict = match h.status_code {
                    Some(c) if !h.verdict.contains(&c.to_string()) => {
                        format!("{} (HTTP {c})", h.verdict)
                    }
                    _ => h.verdict.clone(),
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
                let title = if s.title.is_empty() {
                    String::new()
                } else {
                    format!(": {}", s.title)
                };
                self.line(ts, seq, format!("Step {}{title} entered", s.step));
                if !self.steps.iter().any(|p| p.step == s.step) {
                    self.steps.push(StepProgress {
                        step: s.step.clone(),
                        title: s.title.clone(),
                        entered_at: ts,
                        completed_at: None,
                    });
                }
            }
            Event::StepCompleted(s) => {
                self.line(ts, seq, format!("Step {} completed", s.step));
                match self.steps.iter_mut().find(|p| p.step == s.step) {
                    Some(p) => {
                        p.completed_at.get_or_insert(ts);
                    }
                    None => self.steps.push(StepProgress {
                        step: s.step.clone(),
                        title: s.title.clone(),
                        entered_at: ts,
                        completed_at: Some(ts),
                    }),
                }
            }
            Event::CommandStarted(c) => {
                self.line(ts, seq, format!("Ran `{}` [{}]", c.text, c.guard.class));
                self.cmd_index.insert(c.cmd_id, self.commands.len());
                self.commands.push(CommandRecord {
                    started_at: ts,
                    seq,
                    start: c.clone(),
                    output: Vec::new(),
                    output_dropped: 0,
                    finished: None,
                });
            }
            Event::OutputLines(o) => {
                if let Some(&i) = self.cmd_index.get(&o.cmd_id) {
                    let Some(rec) = self.commands.get_mut(i) else {
                        return;
                    };
                    for l in &o.lines {
                        if rec.output.len() < OUTPUT_LINE_LIMIT {
                            rec.output.push(OutputLine {
                                stream: o.stream,
                                text: Arc::from(l.as_str()),
                            });
                        } else {
                            rec.output_dropped += 1;
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
                self.line(
                    ts,
                    seq,
                    format!("Severity proposed: {}", p.severity.label()),
                );
                self.proposed = Some(Timed {
                    at: ts,
                    value: p.clone(),
                });
            }
            Event::SeverityDecided(d) => {
                let why = match &d.overridden {
                    Some(o) => format!(" (override by {}: {})", o.by, o.why),
                    None => String::new(),
                };
                self.line(
                    ts,
                    seq,
                    format!("Severity set to {} by {}{why}", d.severity.label(), d.by),
                );
                self.severity = Some(Timed {
                    at: ts,
                    value: d.clone(),
                });
            }
            Event::ChecklistTicked(c) => {
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

    fn line(&mut self, ts: Ts, seq: u64, text: String) {
        self.timeline.push(TimelineEntry { ts, seq, text });
    }

    fn availability_lines(&mut self, ts: Ts, seq: u64, changes: Vec<(String, bool)>) {
        for (app, up) in changes {
            let state = if up { "UP" } else { "DOWN" };
            self.line(ts, seq, format!("{app} is {state}"));
        }
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
