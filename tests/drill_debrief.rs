//! The debrief on scripted incidents: events built in code, as the app would journal them.
use chrono::{Duration, TimeZone, Utc};

use pm2_incident::drill;
use pm2_incident::incident::event::*;
use pm2_incident::runbook::Runbook;

fn t0() -> Ts {
    Utc.with_ymd_and_hms(2026, 2, 17, 4, 12, 0).unwrap()
}

struct Script {
    entries: Vec<Entry>,
}

impl Script {
    fn new() -> Script {
        let mut s = Script { entries: vec![] };
        s.at(
            0,
            Event::IncidentOpened(Opened {
                incident_id: "DRILL-1".into(),
                title: "delete-all".into(),
                tool_version: "0.1.0".into(),
                runbook_id: "pm2-incident-response".into(),
                runbook_hash: "x".into(),
                mode: Mode::Drill,
                host: "drill".into(),
                user: "trainee".into(),
                commander: String::new(),
                inventory: InventorySummary::default(),
            }),
        );
        s
    }
    fn at(&mut self, secs: i64, event: Event) -> &mut Self {
        let seq = self.entries.len() as u64 + 1;
        self.entries.push(Entry {
            seq,
            ts: t0() + Duration::seconds(secs),
            event,
        });
        self
    }
    fn observe(&mut self, secs: i64, online: &[&str]) -> &mut Self {
        let processes = online
            .iter()
            .enumerate()
            .map(|(i, n)| ProcessRow {
                pm_id: i as u32,
                name: n.to_string(),
                namespace: "default".into(),
                status: "online".into(),
                pid: Some(100 + i as u32),
                restarts: 0,
                unstable_restarts: 0,
                uptime_since_ms: None,
                cpu: 0.0,
                memory: 0,
            })
            .collect();
        self.at(
            secs,
            Event::Pm2Observation(Observation {
                source: "simulator".into(),
                processes,
            }),
        )
    }
    fn health(&mut self, secs: i64, url: &str, env: &str, up: bool) -> &mut Self {
        self.at(
            secs,
            Event::HealthResult(HealthResult {
                url: url.into(),
                app: "flyer-crawler-prod".into(),
                env: env.into(),
                status_code: Some(if up { 200 } else { 502 }),
                verdict: if up {
                    pm2_incident::health::Verdict::Healthy
                } else {
                    pm2_incident::health::Verdict::BadGateway { code: 502 }
                },
                up,
                latency_ms: Some(3),
            }),
        )
    }
    fn cmd(&mut self, secs: i64, id: u64, text: &str) -> &mut Self {
        self.at(
            secs,
            Event::CommandStarted(CommandStarted {
                cmd_id: id,
                text: text.into(),
                dir: None,
                guard: GuardVerdict {
                    class: pm2_incident::guard::Class::Safe,
                    reason: String::new(),
                },
                confirmed_by: None,
            }),
        )
    }
    fn severity(&mut self, secs: i64, s: Severity) -> &mut Self {
        self.at(
            secs,
            Event::SeverityDecided(SeverityDecided {
                severity: s,
                by: "trainee".into(),
                path: vec![],
                overridden: None,
            }),
        )
    }
}

const PROD: [&str; 4] = [
    "flyer-crawler-api",
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
];
const READY: &str = "https://flyer-crawler.projectium.com/api/health/ready";

fn setup() -> (Runbook, drill::Scenario) {
    let rb = Runbook::embedded().unwrap();
    let s = drill::builtin("delete-all", &rb.inventory).unwrap();
    (rb, s)
}

#[test]
fn a_good_run_scores_well() {
    let (rb, sc) = setup();
    let mut s = Script::new();
    s.observe(5, &[]).health(6, READY, "production", false);
    s.cmd(
        30,
        1,
        "pm2 jlist > /tmp/pm2-incident-$(date +%Y%m%d-%H%M%S).json",
    );
    s.severity(75, Severity::P1);
    s.at(
        80,
        Event::GuardRefused(GuardRefused {
            text: "pm2 restart all".into(),
            dir: None,
            guard: GuardVerdict {
                class: pm2_incident::guard::Class::Dangerous,
                reason: "acts on every app".into(),
            },
            safe_alternative: None,
        }),
    );
    s.cmd(90, 2, "pm2 start ecosystem.config.cjs");
    s.at(
        92,
        Event::CommandStarted(CommandStarted {
            cmd_id: 9,
            text: "echo 'pm2 list' | at now".into(),
            dir: None,
            guard: GuardVerdict {
                class: pm2_incident::guard::Class::Caution,
                reason: "it schedules commands to run later".into(),
            },
            confirmed_by: Some("trainee".into()),
        }),
    );
    s.observe(95, &PROD).health(100, READY, "production", true);
    s.cmd(110, 3, "pm2 start ecosystem.config.cjs");
    let mut all: Vec<&str> = PROD.to_vec();
    all.push("stock-alert-api");
    s.observe(115, &all);
    s.cmd(120, 4, "pm2 start ecosystem-test.config.cjs");
    all.extend([
        "flyer-crawler-api-test",
        "flyer-crawler-worker-test",
        "flyer-crawler-analytics-worker-test",
    ]);
    s.observe(125, &all);
    s.at(
        130,
        Event::CommDrafted(CommDrafted {
            comm_id: 1,
            template: CommTemplate::Notification,
            subject: "[P1 INCIDENT] PM2 Process Isolation Failure".into(),
            body: String::new(),
        }),
    );
    s.at(
        140,
        Event::CommSent(CommSent {
            comm_id: 1,
            channel: "#incidents".into(),
            by: "trainee".into(),
        }),
    );
    s.at(
        300,
        Event::RootCause(RootCause {
            text: "deploy-to-prod ran `pm2 delete all` from a cached workflow".into(),
            preventive_measure: String::new(),
        }),
    );
    let d = drill::debrief(&sc, &rb, &s.entries, t0() + Duration::seconds(400));
    let sev = d.severity.clone().unwrap();
    assert_eq!(
        (sev.chosen.as_str(), sev.after_secs, sev.correct),
        ("P1", 75, true)
    );
    let restored: Vec<(String, Option<i64>)> = d
        .restores
        .iter()
        .map(|r| (r.process.clone(), r.restored_after_secs))
        .collect();
    assert_eq!(
        restored,
        [
            ("flyer-crawler-api".to_string(), Some(95)),
            ("flyer-crawler-worker".into(), Some(95)),
            ("flyer-crawler-analytics-worker".into(), Some(95)),
            ("flyer-crawler-api-test".into(), Some(125)),
            ("flyer-crawler-worker-test".into(), Some(125)),
            ("flyer-crawler-analytics-worker-test".into(), Some(125)),
            ("stock-alert-*".into(), Some(115)),
        ]
    );
    assert_eq!(d.priority_order_followed, Some(true), "{:?}", d.order_notes);
    assert_eq!(d.gate_respected, Some(true), "{}", d.gate_note);
    assert_eq!(d.dangerous.len(), 1);
    assert_eq!(
        d.cautions_confirmed,
        vec![(
            92,
            "echo 'pm2 list' | at now".to_string(),
            "it schedules commands to run later".to_string()
        )]
    );
    assert_eq!(
        (d.state_saved_after_secs, d.state_saved_before_changes),
        (Some(30), true)
    );
    assert_eq!((d.comms_drafted, d.comms_sent.len()), (1, 1));
    assert!(d.root_cause_named);
    let md = d.markdown().join("\n");
    assert!(
        md.contains("- Called P1 at 01:15 (expected P1): correct"),
        "{md}"
    );
    assert!(
        md.contains("- flyer-crawler-api (production): restored at 01:35"),
        "{md}"
    );
    assert!(md.contains("refused `pm2 restart all`"), "{md}");
    assert!(
        md.contains("- Dangerous commands refused: 1; caution commands confirmed: 1"),
        "{md}"
    );
    assert!(
        md.contains("01:32: confirmed `echo 'pm2 list' | at now`"),
        "{md}"
    );
    assert!(
        md.contains("- Expected: delete-all-in-workflow; named: yes"),
        "{md}"
    );
}

#[test]
fn a_bad_run_shows_every_mistake() {
    let (rb, sc) = setup();
    let mut s = Script::new();
    s.observe(5, &[]).health(6, READY, "production", false);
    s.severity(400, Severity::P2);
    // Test first, then production; never saved; root cause guessed wrong.
    s.cmd(410, 1, "pm2 start ecosystem-test.config.cjs");
    s.observe(
        415,
        &[
            "flyer-crawler-api-test",
            "flyer-crawler-worker-test",
            "flyer-crawler-analytics-worker-test",
        ],
    );
    s.cmd(420, 2, "pm2 start ecosystem.config.cjs");
    s.observe(
        425,
        &[
            "flyer-crawler-api-test",
            "flyer-crawler-worker-test",
            "flyer-crawler-analytics-worker-test",
            PROD[0],
            PROD[1],
            PROD[2],
            PROD[3],
        ],
    );
    s.health(430, READY, "production", true);
    s.at(
        500,
        Event::Note(Note {
            author: "trainee".into(),
            text: "probably a network blip".into(),
        }),
    );
    let d = drill::debrief(&sc, &rb, &s.entries, t0() + Duration::seconds(600));
    let sev = d.severity.clone().unwrap();
    assert!(!sev.correct);
    assert_eq!(d.priority_order_followed, Some(false));
    assert!(
        d.order_notes
            .iter()
            .any(|n| n.contains("flyer-crawler-api (priority 1)")),
        "{:?}",
        d.order_notes
    );
    assert_eq!(d.gate_respected, Some(false), "{}", d.gate_note);
    assert!(d.gate_note.contains("06:50"), "{}", d.gate_note);
    assert_eq!(d.state_saved_after_secs, None);
    assert!(!d.root_cause_named);
    let stock = d
        .restores
        .iter()
        .find(|r| r.process == "stock-alert-*")
        .unwrap();
    assert_eq!((stock.affected, stock.restored_after_secs), (true, None));
    let md = d.markdown().join("\n");
    assert!(md.contains("(expected P1): WRONG"), "{md}");
    assert!(
        md.contains("stock-alert-* (production): NOT restored"),
        "{md}"
    );
    assert!(md.contains("Initial state NOT saved"), "{md}");
    assert!(
        md.contains("Verification gate (production healthy before test): NOT respected"),
        "{md}"
    );
}

#[test]
fn root_cause_words_match_per_cause() {
    assert!(drill::debrief::mentions_cause(
        "Kernel OOM killer took it",
        "oom-killer"
    ));
    assert!(drill::debrief::mentions_cause(
        "/ was at 100% (ENOSPC)",
        "disk-full"
    ));
    assert!(drill::debrief::mentions_cause(
        "db restore ran at the same time as the deploy",
        "concurrent-deployments"
    ));
    assert!(!drill::debrief::mentions_cause(
        "a network blip",
        "oom-killer"
    ));
}

/// With the daemon dead: preserving its evidence (`E`) is the initial state saved, and
/// `pm2 resurrect` after it is the way back; before it, it is counted (it overwrote the
/// dead daemon's traces), and `pm2 list` always is (it starts an empty daemon).
#[test]
fn evidence_then_resurrect_is_the_way_back_from_a_dead_daemon() {
    let rb = Runbook::embedded().unwrap();
    let sc = drill::builtin("daemon-killed", &rb.inventory).unwrap();
    let dead = |s: &mut Script, secs: i64| {
        s.at(
            secs,
            Event::DaemonState(DaemonState::new(
                pm2_incident::pm2::DaemonKind::Died,
                "daemon died uncleanly".into(),
            )),
        );
    };
    let evidence = Event::EvidencePreserved(EvidencePreserved {
        dir: "/state/DRILL-1.evidence".into(),
        files: vec![],
        missing: vec![],
        pid: String::new(),
        node_processes: vec![],
    });

    let mut good = Script::new();
    dead(&mut good, 2);
    good.at(20, evidence.clone());
    good.cmd(40, 1, "pm2 resurrect");
    let d = drill::debrief(&sc, &rb, &good.entries, t0() + Duration::seconds(90));
    assert!(
        d.empty_daemon_starts.is_empty(),
        "{:?}",
        d.empty_daemon_starts
    );
    assert_eq!(d.evidence_preserved_after_secs, Some(20));
    assert!(d.evidence_before_changes && d.state_saved_before_changes);
    // The saved list brings test back with production: no start to order.
    assert_eq!(d.gate_respected, None, "{}", d.gate_note);
    assert!(
        d.gate_note
            .contains("brought production and test back together"),
        "{}",
        d.gate_note
    );
    let md = d.markdown().join("\n");
    assert!(
        md.contains("Evidence of the dead daemon preserved at 00:20 (before any change)"),
        "{md}"
    );
    assert!(!md.contains("Initial state NOT saved"), "{md}");

    let mut hasty = Script::new();
    dead(&mut hasty, 2);
    hasty.cmd(10, 1, "pm2 list");
    hasty.cmd(15, 2, "pm2 resurrect");
    hasty.at(20, evidence);
    let d = drill::debrief(&sc, &rb, &hasty.entries, t0() + Duration::seconds(90));
    let whys: Vec<&str> = d.empty_daemon_starts.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(
        whys,
        [
            "it started a new, empty daemon",
            "it started a new daemon before the dead one's evidence was preserved"
        ]
    );
    assert!(!d.evidence_before_changes);
    let md = d.markdown().join("\n");
    assert!(md.contains("preserved at 00:20 (AFTER any change)"), "{md}");
}
