//! A newcomer's drill, end to end under tmux: the built-in scenario (the runbook's
//! own incident) from `drill` to the debrief, using only keys the screen shows.
mod support;

use std::time::Duration;

use pm2_incident::incident::event::{Event, Mode};
use support::tmux::{has_row, Tmux};

#[test]
fn newcomer_runs_the_runbook_incident_drill_to_the_debrief() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("drill.jsonl");
    let bin = env!("CARGO_BIN_EXE_pm2-incident");
    // TMPDIR inside our temp dir: the drill's simulated server lives there.
    let cmd = format!(
        "cd {d}; TMPDIR={d} XDG_STATE_HOME={d}/state {bin} drill --journal {j}; echo EXITED $?; sleep 60",
        d = dir.path().display(),
        j = journal.display()
    );
    let t = Tmux::start("drill", 120, 36, &cmd);
    let long = Duration::from_secs(20);
    let s = t.wait_text("any key starts", long);
    assert!(s.contains("DRILL"), "{s}");
    t.keys(&["Space"]);
    let s = t.wait_text("l/h step", long);
    assert!(
        s.contains("Enter run/accept") && s.contains("q quit"),
        "the footer shows the keys: {s}"
    );
    // Walk to the severity step with the step key and accept the proposal.
    for _ in 0..5 {
        t.keys(&["l"]);
    }
    t.wait_text("Classify Severity", long);
    t.wait_text("P1 CRITICAL", long);
    t.keys(&["Enter"]);
    t.wait_text("P1 - Critical", long);
    // On to Scenario D; restore production first.
    t.wait_for("scenario D", long, |s| {
        if s.contains("Scenario D: All Processes Missing ─") {
            return true;
        }
        t.keys(&["l"]);
        std::thread::sleep(Duration::from_millis(100));
        false
    });
    t.keys(&["Enter"]);
    t.wait_for("production online", long, |s| {
        has_row(s, "analytics-worker", "online")
    });
    // The next items once production verifies healthy.
    t.keys(&["j"]);
    t.wait_for("gate open", long, |s| !s.contains("[wait] 2"));
    t.keys(&["Enter"]);
    t.keys(&["j"]);
    t.wait_for("test gate open", long, |s| !s.contains("[wait] 3"));
    t.keys(&["Enter"]);
    // The gate is judged when Enter is pressed: if the health round had not yet seen
    // production healthy, the footer says which deployment to verify first, and the
    // responder presses Enter again once it is (the screen shows the gate, not a timer).
    t.wait_for("test online", long, |s| {
        if has_row(s, "analytics-worker-test", "online") {
            return true;
        }
        if s.contains(" first: ") {
            std::thread::sleep(Duration::from_millis(500));
            t.keys(&["Enter"]);
        }
        false
    });
    // The mistake from the incident, tried inside the drill: refused like anywhere else.
    t.keys(&[":"]);
    t.type_text("pm2 delete all");
    t.keys(&["Enter"]);
    t.wait_text("REFUSED", long);
    t.keys(&["Escape"]);
    // Escape and q arriving together read as Alt-q: q once the refusal has closed.
    t.wait_for("the refusal closed", long, |s| !s.contains("REFUSED"));
    // End: the debrief.
    t.keys(&["q"]);
    let s = t.wait_text("Drill debrief", long);
    assert!(s.contains("Called P1") && s.contains("correct"), "{s}");
    assert!(s.contains("Restore priority order: followed"), "{s}");
    assert!(s.contains("refused `pm2 delete all`"), "{s}");
    t.keys(&["q"]);
    t.wait_text("EXITED 0", long);
    drop(t);

    // The drill's figures went to the history in the state directory, 0600.
    let hist = dir.path().join("state/pm2-incident/drills.jsonl");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&hist).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let h = pm2_incident::drill::history::read(&hist).unwrap();
    assert!(h.bad.is_empty(), "{:?}", h.bad);
    assert_eq!(h.records.len(), 1);
    let r = &h.records[0];
    assert_eq!(
        (r.scenario.as_str(), r.severity_correct),
        ("delete-all", Some(true))
    );
    assert_eq!(r.dangerous_attempts, 1, "the refused `pm2 delete all`");
    assert_eq!(r.priority_order_followed, Some(true));
    assert!(r.production_restored_secs().is_some(), "{r:?}");

    let out = pm2_incident::journal::read(&journal).unwrap();
    assert!(out.is_intact());
    let ev: Vec<Event> = out.entries.into_iter().map(|e| e.event).collect();
    assert!(matches!(&ev[0], Event::IncidentOpened(o) if o.mode == Mode::Drill));
    assert!(ev.iter().any(
        |e| matches!(e, Event::Note(n) if n.author == "drill" && n.text.contains("Drill debrief"))
    ));
    assert!(ev.iter().any(
        |e| matches!(e, Event::CommandStarted(c) if c.text == "pm2 start ecosystem-test.config.cjs")
    ));
    // Postmortem: open the drill journal in replay, move to the severity decision and
    // see the PM2 pane as it was then (everything missing), not as it ended (online).
    let r = Tmux::start(
        "drill-replay",
        120,
        40,
        &format!(
            "{bin} replay {}; echo EXITED $?; sleep 60",
            journal.display()
        ),
    );
    r.wait_text("REPLAY", long);
    let (s, _) = r.wait_for("the severity decision", long, |s| {
        if s.contains("P1 - Critical") {
            return true;
        }
        r.keys(&["s"]);
        std::thread::sleep(Duration::from_millis(150));
        false
    });
    assert!(
        has_row(&s, "api", "missing"),
        "PM2 as it was at the decision:\n{s}"
    );
    assert!(!has_row(&s, "api", "online"), "{s}");
    r.keys(&["G"]);
    r.wait_for("the end of the journal", long, |s| {
        has_row(s, "analytics-worker-test", "online")
    });
    r.keys(&["q"]);
    r.wait_text("EXITED 0", long);
    drop(r);

    // The simulated server is gone with the drill.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pm2-incident-drill")
        })
        .collect();
    assert!(left.is_empty(), "drill directory left behind");
}
