//! Runbook steps (entered, marked completed, left, skipped) and the verification checklist.
//! What is done while in a step (a command, a tick, a decision) makes that step done.
use super::{Incident, Timed};
use crate::incident::event::*;

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

impl Incident {
    /// The state of a runbook step in the record.
    pub fn step_state(&self, id: &str) -> StepState {
        self.steps
            .iter()
            .find(|p| p.step == id)
            .map_or(StepState::NotVisited, StepProgress::state)
    }

    pub(super) fn step_entered(&mut self, ts: Ts, seq: u64, s: &StepRef) {
        self.current_step = Some(s.step.clone());
        self.line(
            ts,
            seq,
            format!("Step {}{} entered", s.step, titled(&s.title)),
        );
        self.step_mut(&s.step, &s.title, ts);
    }

    pub(super) fn step_completed(&mut self, ts: Ts, seq: u64, s: &StepRef) {
        self.line(ts, seq, format!("Step {} marked completed", s.step));
        let p = self.step_mut(&s.step, &s.title, ts);
        p.marked = true;
        p.completed_at.get_or_insert(ts);
    }

    pub(super) fn step_left(&mut self, ts: Ts, seq: u64, s: &StepRef) {
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

    pub(super) fn step_skipped(&mut self, ts: Ts, seq: u64, s: &StepSkipped) {
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

    pub(super) fn checklist_ticked(&mut self, ts: Ts, seq: u64, c: &ChecklistTicked) {
        if let Some(p) = self.here().filter(|_| c.checked) {
            p.ticks += 1;
            p.completed_at.get_or_insert(ts);
        }
        let mark = if c.checked { "checked" } else { "unchecked" };
        self.line(ts, seq, format!("Checklist {mark}: {}", c.item));
        self.checklist.insert(c.item.clone(), c.checked);
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
    pub(super) fn here(&mut self) -> Option<&mut StepProgress> {
        let cur = self.current_step.clone()?;
        self.steps.iter_mut().find(|p| p.step == cur)
    }
}

/// ": title", or nothing for a step without one.
fn titled(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(": {title}")
    }
}
