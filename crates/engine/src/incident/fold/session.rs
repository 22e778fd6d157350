//! The incident's life: opened, milestones reached, the session interrupted and resumed,
//! closed.
use super::{suffix, Incident, Timed};
use crate::incident::event::*;

impl Incident {
    pub fn is_drill(&self) -> bool {
        matches!(&self.opened, Some(o) if o.value.mode == Mode::Drill)
    }

    /// No commander named: whoever opened the incident commands it.
    pub(super) fn incident_opened(&mut self, ts: Ts, seq: u64, o: &Opened) {
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

    /// A milestone is dated when it happened (it may be back-dated), and only its first counts.
    pub(super) fn milestone(&mut self, ts: Ts, seq: u64, m: &MilestoneReached) {
        let at = m.at.unwrap_or(ts);
        self.line(
            at,
            seq,
            format!("{}{}", m.milestone.label(), suffix(&m.source)),
        );
        self.milestones.entry(m.milestone).or_insert(at);
    }

    pub(super) fn interrupted(&mut self, ts: Ts, seq: u64, i: &Interrupted) {
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

    pub(super) fn resumed(&mut self, ts: Ts, seq: u64, r: &Resumed) {
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

    pub(super) fn incident_closed(&mut self, ts: Ts, seq: u64, c: &Closed) {
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
}
