//! The runbook pane as a place to go from: a cursor over phases and steps, `Enter` to go.
//! Moving there journals the same step_left/step_entered events as `l`/`h` do.
use super::keymap::RunbookAction;
use super::state::{App, Tab};

/// A row of the runbook pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbRow {
    Phase(usize),
    /// A step, by its index in `App::steps()`.
    Step(usize),
}

impl App {
    /// The phase index of a step index.
    pub fn phase_of_step(&self, step: usize) -> usize {
        let mut n = 0;
        for (p, phase) in self.rb.procedure.phase.iter().enumerate() {
            n += phase.step.len();
            if step < n {
                return p;
            }
        }
        self.rb.procedure.phase.len().saturating_sub(1)
    }

    /// Index in `steps()` of a phase's first step.
    fn first_step_of(&self, phase: usize) -> usize {
        self.rb.procedure.phase[..phase.min(self.rb.procedure.phase.len())]
            .iter()
            .map(|p| p.step.len())
            .sum()
    }

    /// Where the runbook cursor is (the current step until it is moved).
    pub fn rb_cursor(&self) -> RbRow {
        self.rb_cursor.unwrap_or(RbRow::Step(self.step))
    }

    /// The pane's rows: every phase, with the steps of the current step's phase and of the
    /// phase under the cursor.
    pub fn runbook_rows(&self) -> Vec<RbRow> {
        let cur_phase = self.phase_of_step(self.step);
        let cursor_phase = match self.rb_cursor() {
            RbRow::Phase(p) => p,
            RbRow::Step(s) => self.phase_of_step(s),
        };
        let mut rows = Vec::new();
        let mut first = 0;
        for (p, phase) in self.rb.procedure.phase.iter().enumerate() {
            rows.push(RbRow::Phase(p));
            if p == cur_phase || p == cursor_phase {
                rows.extend((first..first + phase.step.len()).map(RbRow::Step));
            }
            first += phase.step.len();
        }
        rows
    }

    pub fn focus_runbook(&mut self) {
        self.tab = Tab::Runbook;
        self.rb_cursor = Some(RbRow::Step(self.step));
    }

    pub fn runbook_key(&mut self, a: RunbookAction) {
        let rows = self.runbook_rows();
        let at = rows
            .iter()
            .position(|r| *r == self.rb_cursor())
            .unwrap_or(0);
        match a {
            RunbookAction::Down => {
                self.rb_cursor = rows.get(at + 1).or(rows.last()).copied();
            }
            RunbookAction::Up => self.rb_cursor = rows.get(at.saturating_sub(1)).copied(),
            RunbookAction::Top => self.rb_cursor = Some(RbRow::Phase(0)),
            RunbookAction::Bottom => {
                let last = self.rb.procedure.phase.len().saturating_sub(1);
                self.rb_cursor = Some(RbRow::Phase(last));
            }
            RunbookAction::Jump => {
                let to = match self.rb_cursor() {
                    RbRow::Phase(p) => self.first_step_of(p),
                    RbRow::Step(s) => s,
                };
                self.go_to_step_index(to);
                self.rb_cursor = None;
                self.tab = Tab::Step;
            }
            RunbookAction::Leave => {
                self.rb_cursor = None;
                self.tab = Tab::Step;
            }
        }
    }
}
