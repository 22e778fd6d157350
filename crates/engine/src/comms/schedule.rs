//! The next-update promise: when the last sent communication said the next one would come,
//! and whether that time has passed. The header shows the countdown; the clock is passed in.
use crate::incident::event::{CommTemplate, Ts};
use crate::incident::Incident;
use chrono::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    /// Seconds left until the promised update (0 at the promised time itself).
    DueIn(u64),
    /// Seconds since the promised update was due.
    Overdue(u64),
}

impl UpdateStatus {
    /// Header text: `next update in 4:59` or `UPDATE OVERDUE by 2:00`.
    pub fn label(self) -> String {
        match self {
            UpdateStatus::DueIn(s) => format!("next update in {}", clock(s)),
            UpdateStatus::Overdue(s) => format!("UPDATE OVERDUE by {}", clock(s)),
        }
    }

    pub fn is_overdue(self) -> bool {
        matches!(self, UpdateStatus::Overdue(_))
    }
}

/// `m:ss`, or `h:mm:ss` from an hour up.
fn clock(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// When the next update is due: the last sent communication's time plus the minutes its body
/// promised ("Next Update: In N minutes"), or `default_minutes` when it promised none it
/// could be read from. `None` before anything was sent, and after a resolution notice (it
/// ends the updates).
pub fn next_update_due(inc: &Incident, default_minutes: u32) -> Option<Ts> {
    let (sent_at, draft) = inc
        .comms
        .iter()
        .flat_map(|c| c.sent.iter().map(move |(at, _)| (*at, &c.draft)))
        // Latest send wins; on a tie the later record (the later draft) does.
        .max_by_key(|(at, _)| *at)?;
    if draft.template == CommTemplate::Resolution {
        return None;
    }
    let minutes = promised_minutes(&draft.body).unwrap_or(default_minutes);
    sent_at.checked_add_signed(Duration::minutes(i64::from(minutes)))
}

pub fn update_status(due: Ts, now: Ts) -> UpdateStatus {
    let secs = (due - now).num_seconds();
    if secs >= 0 {
        UpdateStatus::DueIn(secs.unsigned_abs())
    } else {
        UpdateStatus::Overdue(secs.unsigned_abs())
    }
}

/// Minutes from the last `Next Update: In N minutes|hours` line of a body (case-insensitive).
pub fn promised_minutes(body: &str) -> Option<u32> {
    body.lines().rev().find_map(|line| {
        let lower = line.trim().to_ascii_lowercase();
        let rest = lower.strip_prefix("next update:")?.trim_start();
        let rest = rest.strip_prefix("in")?.trim_start();
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let n: u32 = digits.parse().ok()?;
        let unit = rest[digits.len()..].trim_start();
        if unit.starts_with("minute") || unit.starts_with("min") {
            Some(n)
        } else if unit.starts_with("hour") {
            n.checked_mul(60)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_promise_in_the_runbook_wordings() {
        let p = promised_minutes;
        assert_eq!(
            p("Next Update: In 15 minutes or upon status change"),
            Some(15)
        );
        assert_eq!(
            p("Next Update: In 30 minutes (at 2026-02-17 04:44 UTC)"),
            Some(30)
        );
        assert_eq!(p("x\nnext update: in 1 hour\n"), Some(60));
        assert_eq!(p("Next Update: In [X] minutes"), None);
        assert_eq!(p("Next Update: tomorrow"), None);
        assert_eq!(p("Next Update: In 99999999999 minutes"), None);
        assert_eq!(p("no promise here"), None);
    }

    #[test]
    fn clock_labels() {
        assert_eq!(UpdateStatus::DueIn(299).label(), "next update in 4:59");
        assert_eq!(UpdateStatus::Overdue(120).label(), "UPDATE OVERDUE by 2:00");
        assert_eq!(UpdateStatus::DueIn(3725).label(), "next update in 1:02:05");
    }
}
