//! An `App` on the embedded runbook with a fixed clock and observations built in
//! code, for `update` and screen tests.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use pm2_incident::app::{App, AppMode, Msg};
use pm2_incident::health::{HealthResult, Verdict};
use pm2_incident::incident::event::Mode;
use pm2_incident::journal::lock::LockInfo;
use pm2_incident::pm2::{parse_process_list, Process, Reading};
use pm2_incident::runbook::Runbook;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 17, 4, 12, 0).unwrap()
}

pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

pub fn new_app() -> App {
    let rb = Arc::new(Runbook::embedded().unwrap());
    let mut app = App::new(rb.clone(), AppMode::Live, "oncall", "/srv", t0());
    let me = LockInfo {
        user: "oncall".into(),
        host: "web1".into(),
        pid: 1,
        since: String::new(),
    };
    app.record(pm2_incident::cmd::respond::opened_event(
        &rb,
        "INC-20260217-0412",
        Mode::Live,
        &me,
    ));
    app.enter_current_step();
    app.color = false;
    app
}

/// A listing with `(name, status)` rows.
pub fn listing(rows: &[(&str, &str)]) -> Vec<Process> {
    let items: Vec<serde_json::Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (name, status))| {
            serde_json::json!({"pid": 100 + i, "name": name, "pm_id": i, "monit": {"cpu": 0, "memory": 1},
                "pm2_env": {"status": status, "restart_time": 0, "unstable_restarts": 0}})
        })
        .collect();
    parse_process_list(serde_json::to_string(&items).unwrap().as_bytes()).unwrap()
}

pub const ALL: [&str; 7] = [
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
    "flyer-crawler-api-test",
    "flyer-crawler-worker-test",
    "flyer-crawler-analytics-worker-test",
    "stock-alert-api",
];

pub fn pm2_up(procs: Vec<Process>) -> Msg {
    Msg::Pm2(Reading::listed("7.0.4", 4242, procs))
}

/// Health for every target: deployments in `down` answer 502, the rest healthy.
pub fn health(app: &App, down: &[&str]) -> Msg {
    Msg::Health(
        app.rb
            .inventory
            .health_targets()
            .into_iter()
            .map(|t| HealthResult {
                verdict: if down.contains(&t.deployment.as_str()) {
                    Verdict::BadGateway { code: 502 }
                } else {
                    Verdict::Healthy
                },
                http_status: Some(if down.contains(&t.deployment.as_str()) {
                    502
                } else {
                    200
                }),
                latency_ms: 12,
                target: t,
            })
            .collect(),
    )
}

pub fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Type a string, one key per character.
pub fn type_str(app: &mut App, s: &str, now: DateTime<Utc>) {
    for c in s.chars() {
        app.update(key(c), now);
    }
}

/// Move to the step with this id using only the step keys.
pub fn go_to_step(app: &mut App, id: &str, now: DateTime<Utc>) {
    let target = app
        .steps()
        .iter()
        .position(|s| s.id.get_ref() == id)
        .expect("step exists");
    while app.step < target {
        app.update(key('l'), now);
    }
    while app.step > target {
        app.update(key('h'), now);
    }
}

/// Everything gone (the runbook's incident): empty PM2 list, every endpoint 502.
pub fn everything_down(app: &mut App, now: DateTime<Utc>) {
    app.update(pm2_up(vec![]), now);
    let h = health(
        app,
        &[
            "flyer-crawler-prod",
            "flyer-crawler-test",
            "stock-alert-prod",
        ],
    );
    app.update(h, now);
}

/// An inventory deployment's local port that nothing listens on here (else the test cannot run).
pub fn free_inventory_port(app: &App) -> u16 {
    app.rb
        .inventory
        .deployment
        .iter()
        .filter_map(|d| d.local_url.as_deref())
        .filter_map(|u| {
            u.rsplit(':')
                .next()?
                .trim_end_matches('/')
                .parse::<u16>()
                .ok()
        })
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("an inventory port free on this machine")
}
