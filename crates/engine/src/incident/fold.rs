//! `fold(entries) -> Incident`: the one way to turn journal events into incident state.
//! The live app, drills, replay and `report` all go through `Incident::apply`, so they agree.
//! Each family of events is folded by its own module; `apply_at` only dispatches.
mod commands;
mod comms;
mod observe;
mod review;
mod session;
mod severity;
mod steps;

pub use commands::{exit_text, CommandRecord, OutputAt, OutputLine, OutputRef, OUTPUT_LINE_LIMIT};
pub use comms::CommRecord;
pub use severity::SeverityChange;
pub use steps::{StepProgress, StepState};

use super::availability::Availability;
use super::event::*;
use super::log::Log;
use std::collections::BTreeMap;
use std::sync::Arc;

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
        let (ts, seq) = (entry.ts, entry.seq);
        self.events += 1;
        self.first_ts.get_or_insert(ts);
        self.last_ts = Some(ts);
        self.last_seq = Some(seq);
        match &entry.event {
            Event::IncidentOpened(o) => self.incident_opened(ts, seq, o),
            Event::Milestone(m) => self.milestone(ts, seq, m),
            Event::Interrupted(i) => self.interrupted(ts, seq, i),
            Event::Resumed(r) => self.resumed(ts, seq, r),
            Event::IncidentClosed(c) => self.incident_closed(ts, seq, c),

            Event::Pm2Observation(o) => self.pm2_observation(ts, seq, o),
            Event::DaemonState(d) => self.daemon_state(ts, seq, d),
            Event::Pm2Event(e) => self.pm2_event(ts, seq, e),
            Event::HealthResult(h) => self.health_result(ts, seq, h),

            Event::StepEntered(s) => self.step_entered(ts, seq, s),
            Event::StepCompleted(s) => self.step_completed(ts, seq, s),
            Event::StepLeft(s) => self.step_left(ts, seq, s),
            Event::StepSkipped(s) => self.step_skipped(ts, seq, s),
            Event::ChecklistTicked(c) => self.checklist_ticked(ts, seq, c),

            Event::CommandStarted(c) => self.command_started(ts, seq, c),
            Event::OutputLines(o) => self.output_lines(o, at),
            Event::CommandFinished(f) => self.command_finished(ts, seq, f),
            Event::GuardRefused(g) => self.guard_refused(ts, seq, g),

            Event::SeverityProposed(p) => self.severity_proposed(ts, seq, p),
            Event::SeverityDecided(d) => self.severity_decided(ts, seq, d),

            Event::Note(n) => self.note(ts, seq, n),
            Event::CommDrafted(c) => self.comm_drafted(ts, c),
            Event::CommPosted(p) => self.comm_posted(ts, seq, p),
            Event::CommSent(s) => self.comm_sent(ts, seq, s),

            Event::Impact(i) => self.impact = i.clone(),
            Event::FiveWhys(w) => self.five_whys = Some(w.clone()),
            Event::RootCause(r) => self.root_cause = Some(r.clone()),
            Event::ContributingFactor(f) => self.factors.push(f.text.clone()),
            Event::ActionItem(a) => self.action_item(a),
            Event::LessonLearned(l) => self.lessons.push(l.clone()),
            Event::EvidencePreserved(e) => self.evidence_preserved(ts, seq, e),

            Event::Unknown(_) => self.unknown_events += 1,
        }
    }

    /// Adds a line to the timeline (every family writes there).
    fn line(&mut self, ts: Ts, seq: u64, text: String) {
        let text = self.recent_texts.share(text);
        self.timeline.push(TimelineEntry { ts, seq, text });
    }
}

fn suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" ({s})")
    }
}
