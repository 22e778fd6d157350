//! The next-update countdown: the promise of the last sent communication, read back from its
//! journaled body, against an injected clock.
use chrono::{Duration, TimeZone, Utc};
use pm2_incident::comms::{fill, next_update_due, update_status, CommsContext, UpdateStatus};
use pm2_incident::incident::event::*;
use pm2_incident::incident::{fold, Entry, Incident};
use pm2_incident::runbook::Runbook;

fn t0() -> Ts {
    Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap()
}

fn opened() -> Event {
    Event::IncidentOpened(Opened {
        incident_id: "INC-1".into(),
        title: String::new(),
        tool_version: "0.1.0".into(),
        runbook_id: "pm2-incident-response".into(),
        runbook_hash: "ab".into(),
        mode: Mode::Drill,
        host: "h".into(),
        user: "dana".into(),
        commander: String::new(),
        inventory: InventorySummary::default(),
    })
}

fn incident(events: Vec<(Ts, Event)>) -> Incident {
    let entries: Vec<Entry> = events
        .into_iter()
        .enumerate()
        .map(|(i, (ts, event))| Entry {
            seq: i as u64,
            ts,
            event,
        })
        .collect();
    fold(&entries)
}

fn drafted(id: u64, template: CommTemplate, body: &str) -> Event {
    Event::CommDrafted(CommDrafted {
        comm_id: id,
        template,
        subject: "s".into(),
        body: body.into(),
    })
}

fn sent(id: u64) -> Event {
    Event::CommSent(CommSent {
        comm_id: id,
        channel: "#incidents".into(),
        by: "dana".into(),
    })
}

/// A notification filled with a 5-minute promise and sent at t: due at t+5, so at t it is due
/// in 5 minutes and at t+7 it is 2 minutes overdue.
#[test]
fn overdue_warning_from_the_sent_promise() {
    let rb = Runbook::embedded().unwrap();
    let base = incident(vec![(t0(), opened())]);
    let ctx = CommsContext::new(&rb, &base, t0(), 5);
    let d = fill("incident-notification", &ctx).unwrap();
    assert!(
        d.body
            .contains("Next Update: In 5 minutes (at 2026-03-09 09:05 UTC) or upon status change"),
        "{}",
        d.body
    );
    let t = t0() + Duration::seconds(40);
    let inc = incident(vec![
        (t0(), opened()),
        (t0(), drafted(1, CommTemplate::Notification, &d.body)),
        (t, sent(1)),
    ]);
    // The default (15) does not apply: the body promised 5.
    let due = next_update_due(&inc, 15).unwrap();
    assert_eq!(due, t + Duration::minutes(5));
    assert_eq!(update_status(due, t), UpdateStatus::DueIn(300));
    assert_eq!(update_status(due, due), UpdateStatus::DueIn(0));
    let late = update_status(due, t + Duration::minutes(7));
    assert_eq!(late, UpdateStatus::Overdue(120));
    assert!(late.is_overdue());
    assert_eq!(late.label(), "UPDATE OVERDUE by 2:00");
}

#[test]
fn the_last_send_counts_and_an_unreadable_promise_takes_the_default() {
    let body_20 = "Status: RESTORING\nNext Update: In 20 minutes";
    let edited = "Status: RESTORING\nNext Update: after the deploy finishes";
    let inc = incident(vec![
        (t0(), opened()),
        (t0(), drafted(1, CommTemplate::Notification, body_20)),
        (t0() + Duration::minutes(1), sent(1)),
        (
            t0() + Duration::minutes(8),
            drafted(2, CommTemplate::StatusUpdate, edited),
        ),
        (t0() + Duration::minutes(9), sent(2)),
        // Re-sending #1 to another channel earlier than #2 does not make it the latest.
        (t0() + Duration::minutes(2), sent(1)),
    ]);
    assert_eq!(
        next_update_due(&inc, 15),
        Some(t0() + Duration::minutes(9 + 15))
    );
}

#[test]
fn nothing_is_due_before_a_send_or_after_the_resolution_notice() {
    let drafted_only = incident(vec![
        (t0(), opened()),
        (
            t0(),
            drafted(1, CommTemplate::Notification, "Next Update: In 5 minutes"),
        ),
    ]);
    assert_eq!(next_update_due(&drafted_only, 15), None);

    let resolved = incident(vec![
        (t0(), opened()),
        (
            t0(),
            drafted(1, CommTemplate::StatusUpdate, "Next Update: In 5 minutes"),
        ),
        (t0(), sent(1)),
        (
            t0() + Duration::minutes(3),
            drafted(2, CommTemplate::Resolution, "Status: RESOLVED"),
        ),
        (t0() + Duration::minutes(4), sent(2)),
    ]);
    assert_eq!(next_update_due(&resolved, 15), None);
}
