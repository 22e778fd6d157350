//! The three communication templates filled from a scripted incident (golden files), and the
//! facts behind them: status word, affected sites, downtime, update number, placeholders kept
//! for what the incident does not know.
use chrono::{TimeZone, Utc};
use pm2_incident::app::convert::inventory_summary;
use pm2_incident::comms::{fill, CommsContext, Draft, FillError, Status};
use pm2_incident::incident::event::*;
use pm2_incident::incident::sample::row;
use pm2_incident::incident::{fold, Entry, Incident};
use pm2_incident::runbook::Runbook;

const FLYER_READY: &str = "https://flyer-crawler.projectium.com/api/health/ready";
const STOCK_READY: &str = "https://stock-alert.projectium.com/api/health/ready";

fn at(h: u32, m: u32, s: u32) -> Ts {
    Utc.with_ymd_and_hms(2026, 3, 9, h, m, s).unwrap()
}

fn runbook() -> Runbook {
    Runbook::embedded().expect("embedded runbook loads")
}

/// A journal being written, event by event, as the responder works.
struct Script {
    entries: Vec<Entry>,
    next_comm: u64,
}

impl Script {
    fn push(&mut self, ts: Ts, event: Event) {
        let seq = self.entries.len() as u64;
        self.entries.push(Entry { seq, ts, event });
    }

    fn incident(&self) -> Incident {
        fold(&self.entries)
    }

    /// Fills a template at `now`, then journals it as drafted and sent a little later.
    fn draft_and_send(&mut self, id: &str, kind: CommTemplate, now: Ts, minutes: u32) -> Draft {
        let ctx = CommsContext::new(&runbook(), &self.incident(), now, minutes);
        let d = fill(id, &ctx).expect("template exists");
        self.next_comm += 1;
        let comm_id = self.next_comm;
        self.push(
            now,
            Event::CommDrafted(CommDrafted {
                comm_id,
                template: kind,
                subject: d.subject.clone(),
                body: d.body.clone(),
            }),
        );
        self.push(
            now + chrono::Duration::seconds(30),
            Event::CommSent(CommSent {
                comm_id,
                channel: "#incidents".into(),
                by: "dana".into(),
            }),
        );
        d
    }
}

fn obs(rows: Vec<ProcessRow>) -> Event {
    Event::Pm2Observation(Observation {
        source: "rpc".into(),
        processes: rows,
    })
}

/// Prod flyer-crawler, stock-alert and the test flyer-crawler, each "online" or not.
fn rows(flyer: &str, stock: &str, test: &str) -> Vec<ProcessRow> {
    vec![
        row(0, "flyer-crawler-api", flyer),
        row(1, "flyer-crawler-worker", flyer),
        row(2, "flyer-crawler-analytics-worker", flyer),
        row(3, "stock-alert-api", stock),
        row(4, "stock-alert-scheduler", stock),
        row(5, "flyer-crawler-api-test", test),
        row(6, "flyer-crawler-worker-test", test),
        row(7, "flyer-crawler-analytics-worker-test", test),
    ]
}

fn health(url: &str, deployment: &str, code: u16) -> Event {
    let up = code == 200;
    Event::HealthResult(HealthResult {
        url: url.into(),
        app: deployment.into(),
        env: "production".into(),
        status_code: Some(code),
        verdict: if up {
            pm2_incident::health::Verdict::Healthy
        } else {
            pm2_incident::health::Verdict::BadGateway { code }
        },
        up,
        latency_ms: Some(40),
    })
}

fn command(s: &mut Script, id: u64, ts: Ts, text: &str, dir: Option<&str>, exit: i32) {
    s.push(
        ts,
        Event::CommandStarted(CommandStarted {
            cmd_id: id,
            text: text.into(),
            dir: dir.map(str::to_string),
            guard: GuardVerdict {
                class: pm2_incident::guard::Class::Safe,
                reason: String::new(),
            },
            confirmed_by: None,
        }),
    );
    s.push(
        ts + chrono::Duration::seconds(3),
        Event::CommandFinished(CommandFinished {
            cmd_id: id,
            exit_code: Some(exit),
            signal: None,
            duration_ms: 2_400,
            output_lines_dropped: 0,
            timed_out: false,
        }),
    );
}

fn opened() -> Script {
    let mut s = Script {
        entries: Vec::new(),
        next_comm: 0,
    };
    s.push(
        at(9, 0, 0),
        Event::IncidentOpened(Opened {
            incident_id: "INC-20260309-0900".into(),
            title: "PM2 processes down after deploy".into(),
            tool_version: "0.1.0".into(),
            runbook_id: "pm2-incident-response".into(),
            runbook_hash: "ab".into(),
            mode: Mode::Live,
            host: "projectium".into(),
            user: "dana".into(),
            commander: "Dana Reyes".into(),
            inventory: inventory_summary(&runbook().inventory),
        }),
    );
    s
}

/// Up to the severity decision: prod flyer-crawler and stock-alert went down, 502s.
fn until_severity() -> Script {
    let mut s = opened();
    s.push(at(9, 0, 10), obs(rows("online", "online", "online")));
    s.push(at(9, 1, 0), obs(rows("stopped", "stopped", "online")));
    s.push(at(9, 1, 2), health(FLYER_READY, "flyer-crawler-prod", 502));
    s.push(at(9, 1, 2), health(STOCK_READY, "stock-alert-prod", 502));
    s.push(
        at(9, 1, 5),
        Event::Milestone(MilestoneReached {
            milestone: Milestone::Detected,
            at: None,
            source: "health check 502".into(),
        }),
    );
    s.push(
        at(9, 2, 0),
        Event::SeverityProposed(SeverityProposed {
            severity: Severity::P1,
            path: vec![],
        }),
    );
    s.push(
        at(9, 2, 30),
        Event::SeverityDecided(SeverityDecided {
            severity: Severity::P1,
            by: "dana".into(),
            path: vec![],
            overridden: None,
        }),
    );
    s
}

/// After the notification: flyer-crawler restored, a note, the root cause; stock-alert still down.
fn until_first_update(s: &mut Script) {
    command(s, 1, at(9, 5, 0), "pm2 list", None, 0);
    command(
        s,
        2,
        at(9, 6, 0),
        "pm2 start ecosystem.config.cjs",
        Some("/var/www/flyer-crawler.projectium.com"),
        0,
    );
    s.push(at(9, 6, 5), obs(rows("online", "stopped", "online")));
    s.push(at(9, 6, 20), health(FLYER_READY, "flyer-crawler-prod", 200));
    s.push(
        at(9, 7, 0),
        Event::Note(Note {
            author: "dana".into(),
            text: "deploy-to-test.yml run #812 ran `pm2 stop all`\nfrom a cached workflow revision"
                .into(),
        }),
    );
    s.push(
        at(9, 8, 0),
        Event::RootCause(RootCause {
            text: "A cached deploy-to-test.yml ran `pm2 stop all`, stopping every app's processes, not only the test environment's.".into(),
            preventive_measure: "Use explicit process names in every workflow".into(),
        }),
    );
}

/// Everything restored and saved, resolved, follow-ups recorded.
fn until_resolved(s: &mut Script) {
    command(
        s,
        3,
        at(9, 10, 0),
        "pm2 start ecosystem.config.cjs",
        Some("/var/www/stock-alert.projectium.com"),
        0,
    );
    s.push(at(9, 10, 4), obs(rows("online", "online", "online")));
    s.push(at(9, 10, 10), health(STOCK_READY, "stock-alert-prod", 200));
    command(s, 4, at(9, 11, 0), "pm2 save", None, 0);
    s.push(
        at(9, 12, 0),
        Event::Milestone(MilestoneReached {
            milestone: Milestone::Resolved,
            at: None,
            source: String::new(),
        }),
    );
    s.push(
        at(9, 12, 10),
        Event::Impact(Impact {
            users_affected: "All users of flyer-crawler and stock-alert (about 1,200 sessions)"
                .into(),
            revenue: String::new(),
            sla: String::new(),
        }),
    );
    for (id, action, owner, due, status) in [
        (
            "A1",
            "Replace `pm2 stop all` with explicit names in deploy-to-test.yml",
            "bob",
            "2026-03-10",
            "done",
        ),
        (
            "A2",
            "Log the workflow file hash before each deploy",
            "carol",
            "2026-03-16",
            "open",
        ),
    ] {
        s.push(
            at(9, 12, 20),
            Event::ActionItem(ActionItem {
                id: id.into(),
                action: action.into(),
                owner: owner.into(),
                due: due.into(),
                status: status.into(),
            }),
        );
    }
}

fn show(d: &Draft) -> String {
    format!("Subject: {}\n{}", d.subject, d.body)
}

#[test]
fn incident_notification_golden() {
    let s = until_severity();
    let ctx = CommsContext::new(&runbook(), &s.incident(), at(9, 3, 0), 15);
    assert_eq!(
        ctx.status,
        Status::Investigating,
        "no root cause, no restore yet"
    );
    assert_eq!(ctx.affected, ["flyer-crawler-prod", "stock-alert-prod"]);
    let d = fill("incident-notification", &ctx).unwrap();
    insta::assert_snapshot!("notification", show(&d));
    assert!(d.subject.starts_with("[P1 INCIDENT] "));
    // The test site stayed up, so it is not in the impact list, nor the template's filler line.
    assert!(!d.body.contains("flyer-crawler-test"));
    assert!(!d.body.contains("[other affected apps]"));
}

#[test]
fn status_update_golden() {
    let mut s = until_severity();
    s.draft_and_send(
        "incident-notification",
        CommTemplate::Notification,
        at(9, 3, 0),
        15,
    );
    until_first_update(&mut s);
    let ctx = CommsContext::new(&runbook(), &s.incident(), at(9, 9, 0), 20);
    assert_eq!(
        ctx.status,
        Status::Restoring,
        "a start ran, stock-alert still down"
    );
    assert_eq!(ctx.update_number, 1);
    let d = fill("status-update", &ctx).unwrap();
    insta::assert_snapshot!("status_update", show(&d));
    // "Since last update": the read-only `pm2 list` is no action; the notification's time
    // (09:03:30) excludes nothing here, every action came after it.
    assert!(!d.body.contains("pm2 list"));
    assert!(d.body.contains("- stock-alert.projectium.com: DOWN"));
    assert!(d.body.contains("- flyer-crawler.projectium.com: UP"));

    // The next update is #2 and only reports what happened after #1 was sent.
    s.draft_and_send("status-update", CommTemplate::StatusUpdate, at(9, 9, 0), 20);
    command(
        &mut s,
        3,
        at(9, 10, 0),
        "pm2 start ecosystem.config.cjs",
        Some("/var/www/stock-alert.projectium.com"),
        0,
    );
    s.push(at(9, 10, 4), obs(rows("online", "online", "online")));
    s.push(at(9, 10, 10), health(STOCK_READY, "stock-alert-prod", 200));
    let ctx = CommsContext::new(&runbook(), &s.incident(), at(9, 11, 0), 20);
    assert_eq!(
        ctx.status,
        Status::Identified,
        "production all up, root cause known"
    );
    let d = fill("status-update", &ctx).unwrap();
    assert!(d.subject.ends_with("- UPDATE #2"), "{}", d.subject);
    assert!(d.body.contains(
        "- pm2 start ecosystem.config.cjs in /var/www/stock-alert.projectium.com (exit 0)"
    ));
    assert!(!d.body.contains("flyer-crawler.projectium.com (exit 0)"));
    assert!(
        !d.body.contains("cached workflow"),
        "the note went out in #1"
    );
    assert!(
        d.body.contains("- [Discovery made]"),
        "nothing new: placeholder kept"
    );
    assert!(d.body.contains(
        "- stock-alert.projectium.com is back UP (stock-alert-api, stock-alert-scheduler online)"
    ));
}

#[test]
fn resolution_golden() {
    let mut s = until_severity();
    s.draft_and_send(
        "incident-notification",
        CommTemplate::Notification,
        at(9, 3, 0),
        15,
    );
    until_first_update(&mut s);
    s.draft_and_send("status-update", CommTemplate::StatusUpdate, at(9, 9, 0), 20);
    until_resolved(&mut s);
    // Drafted later than the resolution: downtime still ends at the resolution.
    let ctx = CommsContext::new(&runbook(), &s.incident(), at(9, 14, 0), 15);
    assert_eq!(ctx.status, Status::Resolved);
    // 09:01:00 (first seen down) to 09:10:10 (stock-alert healthy again).
    assert_eq!(ctx.total_downtime_secs, Some(9 * 60 + 10));
    let d = fill("resolution", &ctx).unwrap();
    insta::assert_snapshot!("resolution", show(&d));
    assert!(d.body.contains("Total Downtime: 10 minutes"));
    assert!(d
        .body
        .contains("- flyer-crawler.projectium.com: Down for 6 minutes"));
    assert!(d.body.contains("1. [x] Replace `pm2 stop all`"));
    assert!(d
        .body
        .contains("3. [ ] Post-incident review scheduled for [Date]"));
}

/// Nothing known yet but the opening: every value stays the template's placeholder, and the
/// site lines come from the inventory with their state to fill in.
#[test]
fn unknown_values_keep_their_placeholders() {
    let s = opened();
    let ctx = CommsContext::new(&runbook(), &s.incident(), at(9, 0, 30), 15);
    let n = fill("incident-notification", &ctx).unwrap();
    insta::assert_snapshot!("notification_nothing_known", show(&n));
    assert!(
        n.subject.starts_with("[P1 INCIDENT]"),
        "template placeholder kept"
    );
    assert!(n
        .body
        .contains("Affected Systems: [flyer-crawler-prod, stock-alert-prod, ...]"));
    assert!(n
        .body
        .contains("- flyer-crawler-test.projectium.com: [UP|DOWN]"));
    assert!(n.body.contains("- [other affected apps]"));
    assert!(n.body.contains("Incident Commander: Dana Reyes"));

    let r = fill("resolution", &ctx).unwrap();
    for kept in [
        "Time Resolved: YYYY-MM-DD HH:MM UTC",
        "Total Downtime: X minutes",
        "[Brief description of what caused the incident]",
        "- stock-alert.projectium.com: Down for X minutes",
        "1. [Action]\n2. [Action]",
        "1. [ ] [Preventive measure] - Owner: [Name] - Due: [Date]",
    ] {
        assert!(r.body.contains(kept), "{kept:?} missing in\n{}", r.body);
    }
    let u = fill("status-update", &ctx).unwrap();
    assert!(u.body.contains("Status: INVESTIGATING"));
    assert!(u.body.contains("Root Cause: [If identified]"));
    assert!(u
        .body
        .contains("Next Update: In 15 minutes (at 2026-03-09 09:15 UTC)"));
}

#[test]
fn a_proposed_severity_is_used_until_one_is_decided() {
    let mut s = opened();
    s.push(
        at(9, 1, 0),
        Event::SeverityProposed(SeverityProposed {
            severity: Severity::P2,
            path: vec![],
        }),
    );
    let ctx = CommsContext::new(&runbook(), &s.incident(), at(9, 2, 0), 15);
    assert_eq!(ctx.status, Status::Investigating);
    let d = fill("status-update", &ctx).unwrap();
    assert_eq!(
        d.subject,
        "[P2 INCIDENT] [fill in: what is affected] - UPDATE #1"
    );
}

#[test]
fn an_unknown_template_is_a_clear_error() {
    let ctx = CommsContext::new(&runbook(), &opened().incident(), at(9, 0, 0), 15);
    let e = fill("nope", &ctx).unwrap_err();
    let FillError::UnknownTemplate { id, known } = &e;
    assert_eq!(id, "nope");
    assert!(
        known.contains("incident-notification, status-update, resolution"),
        "{known}"
    );
    assert!(e.to_string().contains("no communication template `nope`"));
}
