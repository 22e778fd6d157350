//! What the post-incident review records. Impact, the 5 whys, root cause, factors and lessons
//! are taken as they come (one line each in `apply_at`); here the two that need more: action
//! items (a later one with the same id replaces it) and the PM2 evidence preserved, the only
//! one that makes a timeline line.
use super::Incident;
use crate::incident::event::*;

impl Incident {
    pub(super) fn action_item(&mut self, a: &ActionItem) {
        match self.action_items.iter_mut().find(|x| x.id == a.id) {
            Some(x) => *x = a.clone(),
            None => self.action_items.push(a.clone()),
        }
    }

    pub(super) fn evidence_preserved(&mut self, ts: Ts, seq: u64, e: &EvidencePreserved) {
        let text = format!(
            "PM2 evidence preserved in {} ({} file(s))",
            e.dir,
            e.files.len()
        );
        self.line(ts, seq, text);
    }
}
