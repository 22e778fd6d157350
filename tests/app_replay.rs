//! Replay property: a session recorded by the app, replayed from its events,
//! reaches the same incident state and the same screen as the live session.
mod support;

use pm2_incident::app::{App, AppMode, Msg};
use pm2_incident::incident::event::{Entry, Event};
use pm2_incident::incident::fold;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::Terminal;
use std::sync::Arc;
use support::app_fixture::*;

fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| pm2_incident::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

/// A scripted live session: everything down, severity accepted, restore started,
/// production back, a note; ends right after entering a step (selection at 0).
fn live_session() -> App {
    let mut app = new_app();
    everything_down(&mut app, at(10));
    go_to_step(&mut app, "classify-severity", at(60));
    app.update(code(KeyCode::Enter), at(61));
    go_to_step(&mut app, "scenario-d", at(70));
    app.update(code(KeyCode::Enter), at(71));
    app.update(
        Msg::Output {
            cmd_id: 1,
            stream: pm2_incident::incident::event::Stream::Stdout,
            line: "[PM2] App [flyer-crawler-api] launched (2 instances)".into(),
        },
        at(72),
    );
    app.update(
        Msg::Finished {
            cmd_id: 1,
            exit_code: Some(0),
            signal: None,
            duration_ms: 850,
            timed_out: false,
        },
        at(72),
    );
    let prod: Vec<(&str, &str)> = ALL[..3].iter().map(|n| (*n, "online")).collect();
    app.update(pm2_up(listing(&prod)), at(80));
    let h = health(&app, &["flyer-crawler-test", "stock-alert-prod"]);
    app.update(h, at(81));
    app.update(key('n'), at(90));
    type_str(&mut app, "prod back at 04:13:20", at(90));
    app.update(ctrl('s'), at(91));
    go_to_step(&mut app, "health-verification", at(95));
    app.flush_output();
    app
}

fn entries_of(app: &App) -> Vec<Entry> {
    app.outbox
        .iter()
        .enumerate()
        .map(|(i, (ts, e))| Entry {
            seq: i as u64 + 1,
            ts: *ts,
            event: e.clone(),
        })
        .collect()
}

#[test]
fn replay_reaches_the_live_state_and_screen() {
    let live = live_session();
    let entries = entries_of(&live);
    assert!(entries.len() > 20);
    // The same fold gives the same incident.
    assert_eq!(fold(&entries), live.incident);

    let rb = live.rb.clone();
    let mut replay = App::new(Arc::clone(&rb), AppMode::Replay, "replay", &live.cwd, at(0));
    replay.color = false;
    replay.start_replay(entries.clone(), false);
    replay.update(key('G'), at(999));
    assert_eq!(replay.replay.as_ref().unwrap().pos(), entries.len());
    assert_eq!(replay.incident, live.incident);
    // The same end state at every checkpoint spacing, reached by stepping and by jumping.
    for every in [1, 3, 16, 256, entries.len() + 1] {
        let mut other = App::new(Arc::clone(&rb), AppMode::Replay, "replay", &live.cwd, at(0));
        other.start_replay_over(pm2_incident::app::replay::ReplayState::over(
            pm2_incident::incident::seek::Replay::new(entries.clone(), every),
            false,
        ));
        for _ in 0..entries.len() {
            other.update(key('l'), at(999));
        }
        assert_eq!(other.incident, live.incident, "every {every}, stepping");
        other.update(key('g'), at(999));
        other.update(key('G'), at(999));
        assert_eq!(other.incident, live.incident, "every {every}, jumping");
    }
    assert_eq!(replay.step, live.step);
    replay.update(key('z'), at(999)); // hide the timeline chart: same layout as live
    let (a, b) = (screen(&live, 100, 30), screen(&replay, 100, 30));
    // Header (mode, clock) and footer (keys) differ by design; every pane matches.
    assert_eq!(
        a[1..29],
        b[1..29],
        "\nlive:\n{}\nreplay:\n{}",
        a.join("\n"),
        b.join("\n")
    );
    assert!(replay.outbox.is_empty(), "replay records nothing");
}

#[test]
fn replay_cursor_shows_pm2_as_it_was_at_the_severity_decision() {
    let live = live_session();
    let entries = entries_of(&live);
    let mut replay = App::new(live.rb.clone(), AppMode::Replay, "replay", "/", at(0));
    replay.start_replay(entries, false);
    // Jump to the severity decision: everything was still missing then.
    loop {
        replay.update(key('s'), at(0));
        if replay.incident.severity.is_some() {
            break;
        }
        assert!(
            replay.replay.as_ref().unwrap().pos() < replay.replay.as_ref().unwrap().len(),
            "no decision found"
        );
    }
    assert_eq!(replay.now, at(61));
    let prod = replay
        .assessment
        .scope
        .deployment("flyer-crawler-prod")
        .unwrap();
    assert!(prod
        .processes
        .iter()
        .all(|p| p.state == pm2_incident::assess::ProcState::Missing));
    let s = screen(&replay, 100, 36).join("\n");
    assert!(s.contains("REPLAY") && s.contains("04:13:01 UTC"), "{s}");
    // Step back one event: not decided yet.
    replay.update(key('h'), at(0));
    assert!(replay.incident.severity.is_none());
    // Later, production is back.
    replay.update(key('G'), at(0));
    let prod = replay
        .assessment
        .scope
        .deployment("flyer-crawler-prod")
        .unwrap();
    assert!(prod
        .processes
        .iter()
        .all(|p| p.state == pm2_incident::assess::ProcState::Online));
}

#[test]
fn replay_search_goto_and_play() {
    let live = live_session();
    let entries = entries_of(&live);
    let n = entries.len();
    let mut replay = App::new(live.rb.clone(), AppMode::Replay, "replay", "/", at(0));
    replay.start_replay(entries, false);
    replay.update(key('/'), at(0));
    type_str(&mut replay, "prod back", at(0));
    replay.update(code(KeyCode::Enter), at(0));
    assert_eq!(replay.incident.notes.len(), 1);
    assert!(matches!(
        {
            let r = replay.replay.as_ref().unwrap();
            r.replay.read(r.pos() - 1, r.pos()).remove(0).event
        },
        Event::Note(_)
    ));
    replay.update(key('g'), at(0));
    replay.update(key('T'), at(0));
    type_str(&mut replay, "04:13:11", at(0));
    replay.update(code(KeyCode::Enter), at(0));
    assert_eq!(replay.now, at(71));
    // Play at 60x: one tick covers the rest of this short incident.
    replay.update(key('+'), at(0));
    replay.update(key('+'), at(0));
    replay.update(key('+'), at(0));
    replay.update(key('+'), at(0));
    assert_eq!(replay.replay.as_ref().unwrap().speed, 60);
    replay.update(key(' '), at(0));
    replay.update(Msg::Tick, at(0));
    assert_eq!(replay.replay.as_ref().unwrap().pos(), n);
    assert!(!replay.replay.as_ref().unwrap().playing, "stops at the end");
}

#[test]
fn follow_appends_and_stays_at_the_end() {
    let live = live_session();
    let entries = entries_of(&live);
    let (first, rest) = entries.split_at(10);
    let mut replay = App::new(live.rb.clone(), AppMode::Replay, "replay", "/", at(0));
    replay.start_replay(first.to_vec(), true);
    assert_eq!(replay.replay.as_ref().unwrap().pos(), 10);
    replay.update(Msg::Appended(rest.to_vec()), at(0));
    assert_eq!(replay.replay.as_ref().unwrap().pos(), entries.len());
    assert_eq!(replay.incident, live.incident);
}

/// A raw `pm2 jlist` dump saved per the runbook opens as one observation, with the
/// assessment applied: what would the tool have said?
#[test]
fn jlist_dump_opens_with_the_assessment_applied() {
    let dump = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/journal/pm2-incident-20260217-041240.json");
    let args = pm2_incident::cmd::replay::ReplayArgs {
        file: dump,
        follow: false,
        source: Default::default(),
    };
    let (mut app, progress) = pm2_incident::cmd::replay::open(&args).expect("the dump opens");
    assert!(progress.is_none(), "a dump is one reading, not indexed");
    assert!(!app.replay.as_ref().unwrap().is_empty());
    app.update(key('G'), at(0));
    assert!(app.processes.as_ref().is_some_and(|p| !p.is_empty()));
    let s = screen(&app, 100, 36).join("\n");
    assert!(s.contains("REPLAY"), "{s}");
    assert!(
        !s.contains("CANARY-7f3a9c"),
        "no environment reaches the screen"
    );
    let shown = format!("{:?} {:?}", app.incident, app.processes);
    assert!(
        !shown.contains("CANARY-7f3a9c") && !shown.contains("DB_PASSWORD"),
        "nor the replayed state"
    );
    // The decision tree answered from the dump alone.
    assert_ne!(
        app.assessment.severity.level,
        pm2_incident::assess::Level::Unknown,
        "{:?}",
        app.assessment.severity
    );
}

/// A journal file replays with command output left in the file (offsets in the folded state)
/// and read back for the screen: the same screens as the replay of the events in memory.
#[test]
fn a_replayed_file_reads_command_output_back_for_the_screen() {
    use pm2_incident::journal::index::Progress;
    let live = live_session();
    let entries = entries_of(&live);
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("session.jsonl");
    let mut w = pm2_incident::journal::Writer::create(&path).unwrap();
    for e in &entries {
        w.append(e.ts, e.event.clone()).unwrap();
    }
    drop(w);
    let args = pm2_incident::cmd::replay::ReplayArgs {
        file: path,
        follow: false,
        source: Default::default(),
    };
    let (mut file, progress) = pm2_incident::cmd::replay::open(&args).expect("the journal opens");
    file.color = false;
    if let Some(rx) = progress {
        while let Ok(p) = rx.recv_timeout(std::time::Duration::from_secs(60)) {
            let done = matches!(p, Progress::Done(_));
            file.update(Msg::Indexed(p), at(0));
            if done {
                break;
            }
        }
    }
    let mut memory = App::new(file.rb.clone(), AppMode::Replay, "replay", "/", at(0));
    memory.color = false;
    memory.start_replay(entries.clone(), false);
    let ran = entries
        .iter()
        .position(|e| matches!(e.event, Event::CommandFinished(_)))
        .expect("the session ran a command");
    let mut shown_output = false;
    for n in [ran + 1, ran + 2, entries.len()] {
        for app in [&mut file, &mut memory] {
            app.replay_seek(n);
        }
        // The folded state keeps only where the output is; the screen has the lines.
        let state = file.replay.as_ref().unwrap().cursor.state();
        assert!(state
            .commands
            .iter()
            .any(|c| !c.output_in_journal.is_empty() && c.output.is_empty()));
        let (a, b) = (screen(&memory, 100, 30), screen(&file, 100, 30));
        assert_eq!(
            a[1..],
            b[1..],
            "after {n} events\nmemory:\n{}\nfile:\n{}",
            a.join("\n"),
            b.join("\n")
        );
        shown_output |= b.join("\n").contains("[flyer-crawler-api] launched");
    }
    assert!(shown_output, "the command's output was read back and shown");
}
