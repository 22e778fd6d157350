//! The record tells the truth (#16): a step paged past is visited, not completed; a skipped
//! step carries its reason; severity is a history with a peak, proposed only on change and
//! never before PM2 has been read; after restoration the header says "recovered (was P1)".
mod support;

use pm2_incident::app::App;
use pm2_incident::incident::event::{Event, Severity};
use pm2_incident::incident::fold::StepState;
use pm2_incident::incident::report;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::Terminal;
use support::app_fixture::*;

fn header(app: &App, w: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, 30)).unwrap();
    t.draw(|f| pm2_incident::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..w).map(|x| buf[(x, 0)].symbol().to_string()).collect()
}

fn events(app: &App) -> Vec<&Event> {
    app.outbox.iter().map(|(_, e)| e).collect()
}

fn timeline(app: &App) -> Vec<String> {
    app.incident
        .timeline
        .iter()
        .map(|t| t.text.to_string())
        .collect()
}

fn all_online() -> Vec<(&'static str, &'static str)> {
    ALL.iter().map(|n| (*n, "online")).collect()
}

#[test]
fn paging_past_steps_records_visits_not_completions() {
    let mut app = new_app();
    everything_down(&mut app, at(1));
    let first = app.current_step().id.get_ref().clone();
    for i in 0..9 {
        app.update(key('l'), at(2 + i));
    }
    assert!(
        !events(&app)
            .iter()
            .any(|e| matches!(e, Event::StepCompleted(_))),
        "paging journals no completion"
    );
    let left: Vec<_> = events(&app)
        .into_iter()
        .filter(|e| matches!(e, Event::StepLeft(_)))
        .collect();
    assert_eq!(left.len(), 9);
    assert!(timeline(&app)
        .iter()
        .any(|l| l.starts_with(&format!("Left step {first}")) && l.ends_with("nothing run")));
    assert_eq!(app.incident.step_state(&first), StepState::Visited);
    assert!(app
        .incident
        .steps
        .iter()
        .all(|s| s.state() == StepState::Visited));
    let md = report::render(&app.incident);
    let done = md.split("**Done**").nth(1).unwrap();
    let done = done.split("**Skipped**").next().unwrap();
    assert!(done.contains("None."), "{done}");
    assert!(md.contains("**Visited, nothing run**"));
    assert!(!md.contains("completed"), "{md}");
}

#[test]
fn a_step_is_done_by_what_ran_there_and_skipped_with_its_reason() {
    let mut app = new_app();
    everything_down(&mut app, at(1));
    go_to_step(&mut app, "classify-severity", at(10));
    app.update(code(KeyCode::Enter), at(11)); // accept the proposal: a decision taken here
    app.update(key('l'), at(12));
    let classify = "classify-severity";
    assert_eq!(app.incident.step_state(classify), StepState::Done);
    assert!(timeline(&app)
        .iter()
        .any(|l| l.contains("Left step classify-severity") && l.ends_with("1 decision taken")));

    // Skip the step now shown, with a reason; an empty reason is refused.
    let here = app.current_step().id.get_ref().clone();
    app.update(key('S'), at(13));
    app.update(code(KeyCode::Enter), at(13));
    assert!(app.popup.is_some(), "a skip needs a reason");
    type_str(&mut app, "handled by the database team", at(14));
    app.update(code(KeyCode::Enter), at(14));
    assert_eq!(
        app.incident.step_state(&here),
        StepState::Skipped {
            reason: "handled by the database team".into()
        }
    );
    let md = report::render(&app.incident);
    let skipped = md.split("**Skipped**").nth(1).unwrap();
    assert!(
        skipped.contains(&here) && skipped.contains("handled by the database team"),
        "{skipped}"
    );
    let done = md.split("**Done**").nth(1).unwrap();
    assert!(done.contains("1 decision taken"), "{done}");
}

#[test]
fn severity_is_proposed_once_per_change_and_never_before_an_observation() {
    let mut app = new_app();
    // Health alone, before PM2 has been read: nothing known, nothing proposed.
    let h = health(&app, &["flyer-crawler-prod"]);
    app.update(h, at(1));
    assert!(app.incident.proposed.is_none());
    assert!(header(&app, 120).contains("no observation yet"));

    for i in 0..8 {
        everything_down(&mut app, at(2 + i));
    }
    let proposals = events(&app)
        .iter()
        .filter(|e| matches!(e, Event::SeverityProposed(_)))
        .count();
    assert_eq!(proposals, 1, "the same P1 is journaled once");
    assert_eq!(app.incident.severity_history.len(), 1);
}

/// Everything down, P1 accepted, then every process back and every endpoint healthy.
fn peaked_and_recovered() -> App {
    let mut app = new_app();
    everything_down(&mut app, at(60));
    go_to_step(&mut app, "classify-severity", at(90));
    app.update(code(KeyCode::Enter), at(95));
    app.update(pm2_up(listing(&all_online())), at(600));
    let h = health(&app, &[]);
    app.update(h, at(601));
    app
}

#[test]
fn after_restoration_the_header_keeps_the_peak_until_resolved() {
    let app = peaked_and_recovered();
    let head = header(&app, 120);
    assert!(head.contains("recovered (was P1)"), "{head}");
    assert!(!head.contains("no incident seen"), "{head}");
    let peak = app.incident.peak_severity().unwrap();
    assert_eq!(peak.value, Severity::P1);
    assert_eq!(peak.at, at(60));
}

#[test]
fn report_of_an_incident_that_peaked_at_p1_and_recovered() {
    let app = peaked_and_recovered();
    let md = report::render(&app.incident);
    assert!(
        md.contains("| Severity | P1 - Critical (peak; first proposed 04:13:00; decided P1 - Critical by oncall at 04:13:35) |"),
        "{md}"
    );
    let history = md.split("### Severity history").nth(1).unwrap();
    let history = history.split("\n## ").next().unwrap();
    let p1 = history.find("proposed P1").unwrap();
    let dec = history.find("decided P1 - Critical by oncall").unwrap();
    assert!(p1 < dec, "{history}");
    // Recovery is in the record as transitions, and the incident stays open (not resolved).
    assert!(md.contains("is UP"), "{md}");
    assert!(md.contains("| Status | Open |"), "{md}");
    insta::assert_snapshot!("peaked_p1_recovered_report", md);
}

fn screen_text(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| pm2_incident::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

#[test]
fn a_raw_dump_replays_from_its_observation_and_nothing_is_known_before_it() {
    let dump = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/journal/pm2-incident-20260217-041240.json");
    let args = pm2_incident::cmd::replay::ReplayArgs {
        file: dump,
        follow: false,
        source: Default::default(),
    };
    let (mut app, _) = pm2_incident::cmd::replay::open(&args).expect("the dump opens");
    let r = app.replay.as_ref().unwrap();
    assert_eq!(r.pos(), 2, "opens on the observation, not on the opening");
    assert!(app.observed());
    assert!(app.processes.as_ref().is_some_and(|p| !p.is_empty()));
    let s = screen_text(&app, 120, 30);
    assert!(!s.contains("no observation yet"), "{s}");

    // Back to the opening: nothing known, so nothing missing and nothing proposed.
    app.update(key('h'), at(0));
    assert_eq!(app.replay.as_ref().unwrap().pos(), 1);
    assert!(!app.observed());
    assert!(app.processes.is_none());
    let s = screen_text(&app, 120, 30);
    assert!(s.contains("no observation yet"), "{s}");
    assert!(!s.contains("missing"), "{s}");
    assert!(!s.contains("proposed P"), "{s}");
}

#[test]
fn a_journal_with_steps_before_its_first_observation_opens_at_its_start() {
    let mut app = new_app();
    app.update(key('l'), at(1));
    everything_down(&mut app, at(2));
    let entries: Vec<_> = app
        .outbox
        .iter()
        .enumerate()
        .map(|(i, (ts, e))| pm2_incident::incident::Entry {
            seq: i as u64 + 1,
            ts: *ts,
            event: e.clone(),
        })
        .collect();
    let marks = pm2_incident::incident::seek::Replay::new(entries.clone(), 256)
        .marks()
        .to_vec();
    assert_eq!(pm2_incident::app::replay::opening_position(&marks), 1);
    let rb = app.rb.clone();
    let mut replay = App::new(rb, pm2_incident::app::AppMode::Replay, "r", "/", at(0));
    replay.color = false;
    replay.start_replay(entries, false);
    assert!(!replay.observed());
    assert!(screen_text(&replay, 120, 30).contains("no observation yet"));
}

#[test]
fn the_commander_is_the_account_name_unless_given() {
    use pm2_incident::cmd::respond::{commander, opened_event, opened_with_commander};
    use pm2_incident::journal::lock::{account_name, LockInfo};
    let me = LockInfo {
        user: "uid4242".into(),
        host: "web1".into(),
        pid: 1,
        since: String::new(),
    };
    assert_eq!(commander(Some(" Alice Example "), &me), "Alice Example");
    // Without --commander: the password database's name for this uid, as `id -un` says.
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let name = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(!name.is_empty());
    assert_eq!(commander(None, &me), name);
    assert_eq!(commander(Some("  "), &me), name, "a blank name is no name");
    assert_eq!(account_name(0).as_deref(), Some("root"));
    assert_eq!(
        account_name(4_000_000_000),
        None,
        "an unlisted uid has no name"
    );

    let rb = pm2_incident::runbook::Runbook::embedded().unwrap();
    let ev = opened_with_commander(
        opened_event(&rb, "INC-1", pm2_incident::incident::event::Mode::Live, &me),
        "Alice Example".into(),
    );
    let inc = pm2_incident::incident::fold(&[pm2_incident::incident::Entry {
        seq: 1,
        ts: at(0),
        event: ev,
    }]);
    assert!(report::render(&inc).contains("| Incident Commander | Alice Example |"));
}

/// The real binary under tmux: `replay` of a raw `pm2 jlist` dump opens on its observation
/// (event 2 of 2, processes listed), and one step back says nothing is known yet.
#[test]
fn replay_of_a_raw_dump_opens_on_its_observation_in_the_terminal() {
    use std::time::Duration;
    use support::tmux::Tmux;
    let dump = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/journal/pm2-incident-20260217-041240.json");
    let bin = env!("CARGO_BIN_EXE_pm2-incident");
    let cmd = format!(
        "NO_COLOR=1 {bin} replay {}; echo EXITED $?; sleep 30",
        dump.display()
    );
    let t = Tmux::start("dump-replay", 140, 40, &cmd);
    let long = Duration::from_secs(20);
    let s = t.wait_text("REPLAY", long);
    assert!(s.contains("event 2/2"), "opens on the observation:\n{s}");
    assert!(!s.contains("no observation yet"), "{s}");
    assert!(!s.contains("CANARY-7f3a9c"), "no environment on screen");
    t.keys(&["h"]);
    let s = t.wait_text("event 1/2", long);
    assert!(s.contains("no observation yet"), "{s}");
    assert!(!s.contains("proposed P"), "{s}");
    t.keys(&["q"]);
    t.wait_text("EXITED 0", long);
}
