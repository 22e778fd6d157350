//! Severity: the decision tree's proposals (a repeat is not a change) and the responder's
//! decisions, kept as one history of changes plus the proposal at the peak.
use super::{Incident, Timed};
use crate::incident::event::*;

/// One change of the incident's severity: a new proposal, or a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityChange {
    pub at: Ts,
    pub severity: Severity,
    /// Who decided it; `None` for a proposal from the decision tree.
    pub decided_by: Option<String>,
    pub overridden: bool,
}

impl Incident {
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

    pub(super) fn severity_proposed(&mut self, ts: Ts, seq: u64, p: &SeverityProposed) {
        let repeat = self
            .proposed
            .as_ref()
            .is_some_and(|q| q.value.severity == p.severity);
        let timed = Timed {
            at: ts,
            value: p.clone(),
        };
        if !repeat {
            self.proposal_changed(ts, seq, &timed);
        }
        self.proposed = Some(timed);
    }

    /// A proposal that differs from the last one: a line, a change, maybe the new peak.
    fn proposal_changed(&mut self, ts: Ts, seq: u64, timed: &Timed<SeverityProposed>) {
        let p = &timed.value;
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

    pub(super) fn severity_decided(&mut self, ts: Ts, seq: u64, d: &SeverityDecided) {
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
}
