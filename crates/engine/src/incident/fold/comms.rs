//! The responders' words: notes, and communications drafted, posted to the webhook and sent.
use super::{Incident, Timed};
use crate::incident::event::*;

#[derive(Debug, Clone, PartialEq)]
pub struct CommRecord {
    pub drafted_at: Ts,
    pub draft: CommDrafted,
    pub sent: Vec<(Ts, CommSent)>,
}

impl Incident {
    pub(super) fn note(&mut self, ts: Ts, seq: u64, n: &Note) {
        self.line(ts, seq, format!("Note ({}): {}", n.author, n.text));
        self.notes.push(Timed {
            at: ts,
            value: n.clone(),
        });
    }

    /// A redraft of the same communication replaces its text and keeps when it was first drafted.
    pub(super) fn comm_drafted(&mut self, ts: Ts, c: &CommDrafted) {
        match self.comms.iter_mut().find(|r| r.draft.comm_id == c.comm_id) {
            Some(r) => r.draft = c.clone(),
            None => self.comms.push(CommRecord {
                drafted_at: ts,
                draft: c.clone(),
                sent: Vec::new(),
            }),
        }
    }

    pub(super) fn comm_posted(&mut self, ts: Ts, seq: u64, p: &CommPosted) {
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

    pub(super) fn comm_sent(&mut self, ts: Ts, seq: u64, s: &CommSent) {
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
}
