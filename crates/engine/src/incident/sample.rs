//! Sample events: one of every kind (round-trip tests, benches) and the runbook's own incident
//! (2026-02-17, a deploy ran `pm2 delete all`) as a recorded timeline for fixtures and demos.
use super::event::*;
use crate::guard::Class;
use crate::health::Verdict;
use chrono::{TimeZone, Utc};

/// 2026-02-17 at the given UTC time.
pub fn at(h: u32, m: u32, s: u32) -> Ts {
    Utc.with_ymd_and_hms(2026, 2, 17, h, m, s)
        .single()
        .unwrap_or_default()
}

pub fn row(pm_id: u32, name: &str, status: &str) -> ProcessRow {
    let online = status == "online";
    ProcessRow {
        pm_id,
        name: name.to_string(),
        namespace: "default".to_string(),
        status: status.to_string(),
        pid: online.then_some(4100 + pm_id),
        restarts: 0,
        unstable_restarts: 0,
        uptime_since_ms: online.then_some(1_771_301_600_000),
        cpu: if online { 0.5 } else { 0.0 },
        memory: if online { 56_455_168 } else { 0 },
    }
}

pub fn inventory() -> InventorySummary {
    let app = |name: &str, env: &str, procs: &[&str], url: &str| AppSummary {
        name: name.to_string(),
        env: env.to_string(),
        processes: procs.iter().map(|s| s.to_string()).collect(),
        health_urls: if url.is_empty() {
            vec![]
        } else {
            vec![url.to_string()]
        },
    };
    InventorySummary {
        apps: vec![
            app(
                "flyer-crawler",
                "production",
                &[
                    "flyer-crawler-api",
                    "flyer-crawler-worker",
                    "flyer-crawler-analytics-worker",
                ],
                "https://flyer-crawler.projectium.com/api/health/ready",
            ),
            app(
                "flyer-crawler",
                "test",
                &[
                    "flyer-crawler-api-test",
                    "flyer-crawler-worker-test",
                    "flyer-crawler-analytics-worker-test",
                ],
                "https://flyer-crawler-test.projectium.com/api/health/ready",
            ),
            app("stock-alert", "production", &["stock-alert-*"], ""),
        ],
    }
}

fn guard(class: Class, reason: &str) -> GuardVerdict {
    GuardVerdict {
        class,
        reason: reason.to_string(),
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

/// One event of every known kind, each with its optional fields filled.
pub fn every_kind() -> Vec<Event> {
    vec![
        Event::IncidentOpened(Opened {
            incident_id: s("INC-1"),
            title: s("t"),
            tool_version: s("0.1.0"),
            runbook_id: s("pm2-incident-response"),
            runbook_hash: s("ab"),
            mode: Mode::Drill,
            host: s("h"),
            user: s("u"),
            commander: s("c"),
            inventory: inventory(),
        }),
        Event::Pm2Observation(Observation {
            source: s("rpc"),
            processes: vec![row(0, "a", "online"), row(1, "b", "errored")],
        }),
        Event::DaemonState(DaemonState {
            alive: false,
            detail: s("rpc.sock refused"),
            state: None,
        }),
        Event::Pm2Event(Pm2Event {
            process: s("a"),
            pm_id: Some(0),
            event: s("exit"),
            detail: s("code 1"),
        }),
        Event::HealthResult(HealthResult {
            url: s("http://127.0.0.1:3001/api/health/ready"),
            app: s("a"),
            env: s("production"),
            status_code: Some(502),
            verdict: Verdict::BadGateway { code: 502 },
            up: false,
            latency_ms: Some(12),
        }),
        Event::StepEntered(StepRef {
            step: s("2.1"),
            title: s("Gather information"),
        }),
        Event::StepCompleted(StepRef {
            step: s("2.1"),
            title: s("Gather information"),
        }),
        Event::StepLeft(StepRef {
            step: s("2.1"),
            title: s("Gather information"),
        }),
        Event::StepSkipped(StepSkipped {
            step: s("2.2"),
            title: s("Scope"),
            reason: s("known"),
            by: s("u"),
        }),
        Event::EvidencePreserved(EvidencePreserved {
            dir: s("/var/lib/pm2-incident/INC-1/evidence"),
            files: vec![EvidenceFile {
                name: s("pm2.log"),
                source: s("/root/.pm2/pm2.log"),
                bytes: 1024,
                sha256: s("ab"),
            }],
            missing: vec![s("dump.pm2.bak: not found")],
            pid: s("pid 1187: no such process"),
            node_processes: vec![],
        }),
        Event::CommandStarted(CommandStarted {
            cmd_id: 1,
            text: s("pm2 list | grep 'x'"),
            dir: Some(s("/var/www")),
            guard: guard(Class::Safe, "read-only"),
            confirmed_by: Some(s("u")),
        }),
        Event::OutputLines(OutputLines {
            cmd_id: 1,
            stream: Stream::Stderr,
            lines: vec![s("l1"), s("ünïcode \"q\" \t")],
        }),
        Event::CommandFinished(CommandFinished {
            cmd_id: 1,
            exit_code: Some(1),
            signal: Some(9),
            duration_ms: 1234,
            output_lines_dropped: 7,
            timed_out: true,
        }),
        Event::GuardRefused(GuardRefused {
            text: s("pm2 delete all"),
            dir: Some(s("/")),
            guard: guard(Class::Dangerous, "acts on every process"),
            safe_alternative: Some(s("pm2 delete flyer-crawler-api")),
        }),
        Event::SeverityProposed(SeverityProposed {
            severity: Severity::P2,
            path: vec![DecisionStep {
                question: s("Production app(s) down?"),
                answer: true,
                reason: s("api errored"),
            }],
        }),
        Event::SeverityDecided(SeverityDecided {
            severity: Severity::P1,
            by: s("u"),
            path: vec![],
            overridden: Some(Override {
                by: s("u"),
                why: s("customer-facing"),
            }),
        }),
        Event::ChecklistTicked(ChecklistTicked {
            item: s("All processes online"),
            checked: true,
            by: s("u"),
        }),
        Event::Note(Note {
            author: s("u"),
            text: s("multi\nline"),
        }),
        Event::CommDrafted(CommDrafted {
            comm_id: 1,
            template: CommTemplate::StatusUpdate,
            subject: s("UPDATE #1"),
            body: s("b"),
        }),
        Event::CommSent(CommSent {
            comm_id: 1,
            channel: s("#incidents"),
            by: s("u"),
        }),
        Event::CommPosted(CommPosted {
            comm_id: 1,
            outcome: PostOutcome::Rejected { http_status: 500 },
        }),
        Event::Milestone(MilestoneReached {
            milestone: Milestone::ImpactStarted,
            at: Some(at(4, 5, 0)),
            source: s("monitoring"),
        }),
        Event::Interrupted(Interrupted {
            reason: InterruptCause::Signal { signal: 1 },
        }),
        Event::Resumed(Resumed {
            user: s("u"),
            host: s("h"),
            pid: 42,
            after_events: 18,
            repaired_torn_tail: true,
        }),
        Event::IncidentClosed(Closed {
            status: CloseStatus::Abandoned,
            resolution: s("r"),
        }),
        Event::Impact(Impact {
            users_affected: s("all"),
            revenue: s("none"),
            sla: s("breached"),
        }),
        Event::FiveWhys(FiveWhys {
            problem: s("p"),
            whys: vec![s("w1"), s("w2")],
        }),
        Event::RootCause(RootCause {
            text: s("rc"),
            preventive_measure: s("pm"),
        }),
        Event::ContributingFactor(TextItem { text: s("f") }),
        Event::ActionItem(ActionItem {
            id: s("A1"),
            action: s("a"),
            owner: s("o"),
            due: s("2026-03-01"),
            status: s("open"),
        }),
        Event::LessonLearned(Lesson {
            lesson: LessonKind::CouldImprove,
            text: s("l"),
        }),
    ]
}

/// The runbook's incident, as the tool would have recorded it: (time, event) in order.
pub fn runbook_incident() -> Vec<(Ts, Event)> {
    let prod = "https://flyer-crawler.projectium.com/api/health/ready";
    let test = "https://flyer-crawler-test.projectium.com/api/health/ready";
    let health = |url: &str, env: &str, code: u16, up: bool, ms: u64| {
        Event::HealthResult(HealthResult {
            url: s(url),
            app: s("flyer-crawler"),
            env: s(env),
            status_code: Some(code),
            verdict: if up {
                Verdict::Healthy
            } else {
                Verdict::BadGateway { code }
            },
            up,
            latency_ms: Some(ms),
        })
    };
    let obs = |rows: Vec<ProcessRow>| {
        Event::Pm2Observation(Observation {
            source: s("rpc"),
            processes: rows,
        })
    };
    let prod_rows = || {
        vec![
            row(0, "flyer-crawler-api", "online"),
            row(1, "flyer-crawler-worker", "online"),
            row(2, "flyer-crawler-analytics-worker", "online"),
        ]
    };
    let stock = || {
        vec![
            row(3, "stock-alert-api", "online"),
            row(4, "stock-alert-scheduler", "online"),
        ]
    };
    let test_rows = || {
        vec![
            row(5, "flyer-crawler-api-test", "online"),
            row(6, "flyer-crawler-worker-test", "online"),
            row(7, "flyer-crawler-analytics-worker-test", "online"),
        ]
    };
    let cmd =
        |id: u64, text: &str, dir: Option<&str>, class: Class, reason: &str, by: Option<&str>| {
            Event::CommandStarted(CommandStarted {
                cmd_id: id,
                text: s(text),
                dir: dir.map(s),
                guard: guard(class, reason),
                confirmed_by: by.map(s),
            })
        };
    let out = |id: u64, lines: &[&str]| {
        Event::OutputLines(OutputLines {
            cmd_id: id,
            stream: Stream::Stdout,
            lines: lines.iter().map(|l| s(l)).collect(),
        })
    };
    let done = |id: u64, exit: i32, ms: u64| {
        Event::CommandFinished(CommandFinished {
            cmd_id: id,
            exit_code: Some(exit),
            signal: None,
            duration_ms: ms,
            output_lines_dropped: 0,
            timed_out: false,
        })
    };
    let step = |id: &str, title: &str| StepRef {
        step: s(id),
        title: s(title),
    };
    let ms = |m: Milestone, when: Option<Ts>, src: &str| {
        Event::Milestone(MilestoneReached {
            milestone: m,
            at: when,
            source: s(src),
        })
    };
    let tick = |item: &str| {
        Event::ChecklistTicked(ChecklistTicked {
            item: s(item),
            checked: true,
            by: s("alice"),
        })
    };
    let mut all_rows = prod_rows();
    all_rows.extend(stock());
    let mut everything = all_rows.clone();
    everything.extend(test_rows());
    vec![
        (
            at(4, 12, 0),
            Event::IncidentOpened(Opened {
                incident_id: s("INC-20260217-0412"),
                title: s("PM2 Process Isolation Failure - Multiple Apps Down"),
                tool_version: s("0.1.0"),
                runbook_id: s("pm2-incident-response"),
                runbook_hash: s("9f2c1e7a4b3d5c6e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"),
                mode: Mode::Live,
                host: s("projectium"),
                user: s("alice"),
                commander: s("Alice Example"),
                inventory: inventory(),
            }),
        ),
        (at(4, 12, 1), ms(Milestone::Detected, Some(at(4, 11, 30)), "UptimeRobot alert")),
        (at(4, 12, 2), ms(Milestone::Acknowledged, None, "")),
        (at(4, 12, 2), Event::DaemonState(DaemonState { alive: true, detail: s("rpc.sock answered"), state: None })),
        (at(4, 12, 3), obs(vec![])),
        (at(4, 12, 4), health(prod, "production", 502, false, 31)),
        (at(4, 12, 4), health(test, "test", 502, false, 28)),
        (at(4, 12, 10), Event::StepEntered(step("2.1", "Gather information"))),
        (at(4, 12, 15), cmd(1, "pm2 list", None, Class::Safe, "read-only", None)),
        (at(4, 12, 15), out(1, &["┌────┬───────────┐", "│ id │ name      │", "└────┴───────────┘"])),
        (at(4, 12, 15), done(1, 0, 412)),
        (at(4, 12, 40), cmd(2, "pm2 jlist > /tmp/pm2-incident-20260217-041240.json", Some("/root"), Class::Safe, "read-only", None)),
        (at(4, 12, 41), done(2, 0, 655)),
        (
            at(4, 13, 5),
            Event::GuardRefused(GuardRefused {
                text: s("pm2 restart all"),
                dir: None,
                guard: guard(Class::Dangerous, "acts on every PM2 process, not just the affected app"),
                safe_alternative: Some(s("pm2 restart flyer-crawler-api flyer-crawler-worker flyer-crawler-analytics-worker")),
            }),
        ),
        (at(4, 13, 20), Event::StepCompleted(step("2.1", "Gather information"))),
        (at(4, 13, 21), Event::StepEntered(step("2.3", "Classify severity"))),
        (
            at(4, 13, 22),
            Event::SeverityProposed(SeverityProposed {
                severity: Severity::P1,
                path: vec![
                    DecisionStep {
                        question: s("Production app(s) down?"),
                        answer: true,
                        reason: s("flyer-crawler-api missing, /api/health/ready 502"),
                    },
                    DecisionStep {
                        question: s("Multiple apps affected?"),
                        answer: true,
                        reason: s("stock-alert-* missing"),
                    },
                ],
            }),
        ),
        (
            at(4, 13, 30),
            Event::SeverityDecided(SeverityDecided { severity: Severity::P1, by: s("alice"), path: vec![], overridden: None }),
        ),
        (
            at(4, 14, 0),
            Event::CommDrafted(CommDrafted {
                comm_id: 1,
                template: CommTemplate::Notification,
                subject: s("[P1 INCIDENT] PM2 Process Isolation Failure - Multiple Apps Down"),
                body: s("Status: INVESTIGATING\nTime Detected: 2026-02-17 04:11 UTC"),
            }),
        ),
        (at(4, 14, 30), Event::CommSent(CommSent { comm_id: 1, channel: s("#incidents"), by: s("alice") })),
        (at(4, 15, 0), Event::StepEntered(step("5.D", "All processes missing"))),
        (
            at(4, 15, 10),
            cmd(3, "pm2 start ecosystem.config.cjs", Some("/var/www/flyer-crawler.projectium.com"), Class::Safe, "starts named apps from config", None),
        ),
        (at(4, 15, 12), out(3, &["[PM2][WARN] Applications flyer-crawler-api, flyer-crawler-worker, flyer-crawler-analytics-worker started"])),
        (at(4, 15, 13), done(3, 0, 2_310)),
        (at(4, 15, 14), obs(prod_rows())),
        (at(4, 15, 30), health(prod, "production", 200, true, 44)),
        (
            at(4, 16, 0),
            cmd(4, "pm2 start ecosystem.config.cjs", Some("/var/www/stock-alert.projectium.com"), Class::Safe, "starts named apps from config", None),
        ),
        (at(4, 16, 3), done(4, 0, 2_870)),
        (at(4, 16, 4), obs(all_rows)),
        (at(4, 16, 10), ms(Milestone::Mitigated, None, "production restored")),
        (
            at(4, 17, 0),
            cmd(5, "pm2 start ecosystem-test.config.cjs", Some("/var/www/flyer-crawler-test.projectium.com"), Class::Safe, "starts named apps from config", None),
        ),
        (at(4, 17, 3), done(5, 0, 2_650)),
        (at(4, 17, 4), obs(everything)),
        (at(4, 17, 20), health(test, "test", 200, true, 39)),
        (at(4, 18, 0), Event::Interrupted(Interrupted { reason: InterruptCause::DroppedConnection })),
        (
            at(4, 19, 30),
            Event::Resumed(Resumed { user: s("alice"), host: s("projectium"), pid: 23017, after_events: 36, repaired_torn_tail: false }),
        ),
        (at(4, 20, 0), cmd(6, "pm2 save", None, Class::Caution, "overwrites the saved process list", Some("alice"))),
        (at(4, 20, 1), done(6, 0, 380)),
        (at(4, 20, 30), tick("All processes show online")),
        (at(4, 20, 31), tick("Health endpoints return healthy")),
        (at(4, 20, 32), tick("PM2 process list saved")),
        (at(4, 21, 0), ms(Milestone::Resolved, None, "")),
        (
            at(4, 21, 30),
            Event::CommDrafted(CommDrafted {
                comm_id: 2,
                template: CommTemplate::Resolution,
                subject: s("[RESOLVED] PM2 Process Isolation Failure"),
                body: s("Status: RESOLVED"),
            }),
        ),
        (at(4, 22, 0), Event::CommSent(CommSent { comm_id: 2, channel: s("email list"), by: s("alice") })),
        (at(4, 22, 30), Event::Note(Note { author: s("alice"), text: s("deploy-to-test.yml run #812 executed an old workflow revision") })),
        (
            at(4, 25, 0),
            Event::Milestone(MilestoneReached {
                milestone: Milestone::ImpactStarted,
                at: Some(at(4, 5, 12)),
                source: s("Gitea Actions: deploy-to-test.yml ran `pm2 delete all`"),
            }),
        ),
        (
            at(4, 26, 0),
            Event::Impact(Impact {
                users_affected: s("All users of flyer-crawler.projectium.com and stock-alert.projectium.com"),
                revenue: s("None measured"),
                sla: s("Monthly 99.9% availability target missed"),
            }),
        ),
        (
            at(4, 27, 0),
            Event::FiveWhys(FiveWhys {
                problem: s("All PM2 processes were killed during deployment"),
                whys: vec![
                    s("The deployment workflow ran `pm2 delete all`"),
                    s("The workflow used an outdated version of the script"),
                    s("Gitea runner cached the old workflow file"),
                    s("No mechanism to verify workflow version before execution"),
                    s("Workflow versioning and audit trail not implemented"),
                ],
            }),
        ),
        (
            at(4, 27, 30),
            Event::RootCause(RootCause {
                text: s("Lack of workflow versioning and execution verification: a cached deploy-to-test.yml ran `pm2 delete all`, removing every app's processes, not just the test environment's."),
                preventive_measure: s("Implement workflow hash logging and pre-execution verification"),
            }),
        ),
        (at(4, 28, 0), Event::ContributingFactor(TextItem { text: s("Deploy workflow used `all` instead of explicit process names") })),
        (at(4, 28, 5), Event::ContributingFactor(TextItem { text: s("No alert on PM2 process count dropping to zero") })),
        (
            at(4, 29, 0),
            Event::ActionItem(ActionItem {
                id: s("A1"),
                action: s("Add PM2 state logging to deployment workflows"),
                owner: s("bob"),
                due: s("2026-02-24"),
                status: s("open"),
            }),
        ),
        (
            at(4, 29, 10),
            Event::ActionItem(ActionItem {
                id: s("A2"),
                action: s("Implement workflow version hash"),
                owner: s("carol"),
                due: s("2026-03-03"),
                status: s("open"),
            }),
        ),
        (
            at(4, 29, 20),
            Event::ActionItem(ActionItem {
                id: s("A1"),
                action: s("Add PM2 state logging to deployment workflows"),
                owner: s("bob"),
                due: s("2026-02-24"),
                status: s("done"),
            }),
        ),
        (at(4, 30, 0), Event::LessonLearned(Lesson { lesson: LessonKind::WentWell, text: s("Guard refused `pm2 restart all` during triage") })),
        (at(4, 30, 5), Event::LessonLearned(Lesson { lesson: LessonKind::CouldImprove, text: s("Detection relied on an external monitor (6 minutes)") })),
        (
            at(4, 30, 10),
            Event::Unknown(UnknownEvent {
                kind: s("pager_escalated"),
                fields: serde_json::from_str(r#"{"to":"secondary","after_min":10}"#).unwrap_or_default(),
            }),
        ),
        (
            at(4, 31, 0),
            Event::IncidentClosed(Closed {
                status: CloseStatus::Resolved,
                resolution: s("Restored each application from its own ecosystem file in the runbook's priority order (production API first), verified health endpoints, then saved the PM2 process list."),
            }),
        ),
    ]
}
