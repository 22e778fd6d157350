//! End to end: the real binary under tmux against a real PM2 with the sandbox
//! apps. See the processes, watch a change made from outside, run a runbook
//! command, quit with the terminal restored; SIGHUP is journaled and --resume
//! continues the same incident.
mod support;

use std::path::Path;
use std::time::Duration;

use pm2_incident::incident::event::{Event, InterruptCause};
use support::pm2_fixture::{Pm2Fixture, ALL_APPS};
use support::sandbox_site::SandboxSite;
use support::tmux::Tmux;

fn respond_cmd(fx: &Pm2Fixture, site: &SandboxSite, journal_args: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_pm2-incident");
    let pm2_dir = fx.pm2.parent().unwrap().display().to_string();
    format!(
        "cd {dir}; PM2_HOME={home} PATH={pm2_dir}:$PATH {bin} respond --inventory {inv} {journal_args}; echo EXITED $?; sleep 60",
        dir = fx.dir().display(),
        home = fx.dir().display(),
        inv = site.inventory.display(),
    )
}

fn events(journal: &Path) -> Vec<Event> {
    let out = pm2_incident::journal::read(journal).expect("journal reads");
    assert!(
        out.is_intact(),
        "journal problems: {:?} torn: {:?}",
        out.problems,
        out.torn_tail
    );
    out.entries.into_iter().map(|e| e.event).collect()
}

/// Whether the journal so far records the event bus coming back (a torn last line is fine:
/// the journal is being written).
fn bus_reconnected(journal: &Path) -> bool {
    pm2_incident::journal::read(journal).is_ok_and(|out| {
        out.entries.iter().any(|e| {
            matches!(&e.event, Event::Pm2Event(p) if p.process == "PM2" && p.event == "bus reconnected")
        })
    })
}

#[test]
fn respond_shows_live_pm2_runs_commands_and_survives_sighup() {
    let apps: Vec<&str> = ALL_APPS
        .iter()
        .copied()
        .filter(|a| *a != "crash-at-start")
        .collect();
    let fx = Pm2Fixture::start(&apps);
    let site = SandboxSite::new(&fx);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    let long = Duration::from_secs(20);

    let tui = Tmux::start(
        "e2e",
        120,
        35,
        &respond_cmd(&fx, &site, &format!("--journal {}", journal.display())),
    );
    tui.wait_for("processes online", long, |s| {
        support::tmux::has_row(s, "analytics-worker-test", "online") && s.contains("healthy")
    });

    // A change made outside the tool shows within 2 s (the event bus triggers a read).
    let out = fx.pm2_cmd(&["stop", "flyer-crawler-worker"]);
    assert!(out.status.success());
    let (_, took) = tui.wait_for("worker stopped", Duration::from_secs(5), |s| {
        support::tmux::has_row(s, "worker", "stopped")
    });
    assert!(
        took < Duration::from_secs(2),
        "the stop took {took:?} to show"
    );

    // Detection -> ... -> Step 1: Gather Information; run `pm2 list` (the first command).
    tui.keys(&["l", "l", "l"]);
    tui.wait_text("Step 1: Gather Information", long);
    tui.keys(&["j", "Enter"]);
    let (s, _) = tui.wait_for("pm2 list output", long, |s| {
        s.contains("$ pm2 list") && s.contains("exit 0")
    });
    assert!(s.contains("flyer-crawler-analytics-worker"), "{s}");

    // The runbook's "save PM2 state" writes every app's secrets: the file is private.
    let saved = dir.path().join("pm2-state.json");
    tui.keys(&[":"]);
    tui.type_text(&format!("pm2 jlist > {}", saved.display()));
    tui.keys(&["Enter"]);
    tui.wait_for("jlist saved", long, |_| {
        saved.metadata().map(|m| m.len() > 0).unwrap_or(false)
    });
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        saved.metadata().unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A dangerous command typed at the prompt is refused.
    tui.keys(&[":"]);
    tui.type_text("pm2 stop all");
    tui.keys(&["Enter"]);
    tui.wait_text("REFUSED", long);
    tui.keys(&["Escape"]);

    // Quit: the terminal is restored (the shell's own output is visible again).
    tui.keys(&["q"]);
    let s = tui.wait_text("EXITED 0", long);
    assert!(
        !s.contains("┌ Runbook"),
        "the alternate screen was left:\n{s}"
    );
    drop(tui);

    let ev = events(&journal);
    assert!(matches!(ev.first(), Some(Event::IncidentOpened(_))));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Pm2Event(p) if p.process == "flyer-crawler-worker")));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::CommandStarted(c) if c.text == "pm2 list")));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::CommandFinished(f) if f.exit_code == Some(0))));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::GuardRefused(r) if r.text == "pm2 stop all")));
    let raw = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !raw.contains(&fx.canary),
        "the canary secret reached the journal"
    );
    assert_eq!(
        std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Resume, then drop the "SSH session": SIGHUP to the tool.
    let tui = Tmux::start(
        "e2e2",
        120,
        35,
        &respond_cmd(&fx, &site, &format!("--resume {}", journal.display())),
    );
    tui.wait_text("Step 1: Gather Information", long);
    let lock = std::fs::read_to_string(pm2_incident::journal::lock::lock_path(&journal))
        .expect("lock file while driving");
    let info: pm2_incident::journal::lock::LockInfo =
        serde_json::from_str(&lock).expect("lock is JSON");
    // SAFETY: kill(2) on the pid of the tool this test started.
    assert_eq!(unsafe { libc::kill(info.pid as i32, libc::SIGHUP) }, 0);
    tui.wait_text(&format!("EXITED {}", 128 + libc::SIGHUP), long);
    drop(tui);
    let ev = events(&journal);
    let n = ev.len();
    assert!(
        matches!(&ev[n - 1], Event::Interrupted(i) if i.reason == InterruptCause::DroppedConnection),
        "{:?}",
        &ev[n - 1]
    );
    assert_eq!(
        ev.iter().filter(|e| matches!(e, Event::Resumed(_))).count(),
        1
    );

    // --resume continues the same incident once more, at the same step.
    let tui = Tmux::start(
        "e2e3",
        120,
        35,
        &respond_cmd(&fx, &site, &format!("--resume {}", journal.display())),
    );
    tui.wait_text("Step 1: Gather Information", long);
    tui.keys(&["q"]);
    tui.wait_text("EXITED 0", long);
    let ev = events(&journal);
    assert_eq!(
        ev.iter().filter(|e| matches!(e, Event::Resumed(_))).count(),
        2
    );
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::IncidentOpened(_)))
            .count(),
        1,
        "one incident, not a new one"
    );
}

/// A real PM2 whose daemon was SIGKILLed, `respond` in tmux: the PM2 pane says the daemon died,
/// `E` keeps its evidence (the saved list copied byte for byte, 0600, hashes journaled) and
/// nothing starts a new daemon; after `pm2 resurrect` the event bus follows the new daemon.
#[test]
fn evidence_key_on_a_killed_daemon_keeps_the_saved_list_starts_no_daemon_and_follows_the_resurrected_one(
) {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::PermissionsExt;
    let fx = Pm2Fixture::start(&["flyer-crawler-api", "stock-alert-api"]);
    let site = SandboxSite::new(&fx);
    assert!(fx.pm2_cmd(&["save"]).status.success());
    // SAFETY: SIGKILL to the daemon of this test's own throwaway PM2_HOME, by pid.
    assert_eq!(
        unsafe { libc::kill(fx.daemon_pid as libc::pid_t, libc::SIGKILL) },
        0
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pm2_incident::pm2::pid_alive(fx.daemon_pid) {
        assert!(std::time::Instant::now() < deadline, "daemon survived");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    let long = Duration::from_secs(30);
    let tui = Tmux::start(
        "evid",
        120,
        35,
        &respond_cmd(&fx, &site, &format!("--journal {}", journal.display())),
    );
    tui.wait_text("died", long);
    tui.keys(&["E"]);
    tui.wait_text("evidence kept in", long);
    assert!(
        !matches!(
            pm2_incident::pm2::probe_daemon(&fx.home),
            pm2_incident::pm2::DaemonState::Up { .. }
        ),
        "a daemon was started"
    );
    // The responder brings the saved list back: the event bus follows the new daemon.
    assert!(fx.pm2_cmd(&["resurrect"]).status.success());
    // The pane's one "last event" line is soon overwritten by the resurrected apps' own events,
    // so wait on the record, which keeps every one.
    let deadline = std::time::Instant::now() + long;
    while !bus_reconnected(&journal) {
        assert!(
            std::time::Instant::now() < deadline,
            "no 'bus reconnected' journaled in {long:?}; screen:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tui.keys(&["q"]);
    tui.wait_text("EXITED 0", long);
    drop(tui);

    let kept = events(&journal)
        .into_iter()
        .find_map(|e| match e {
            Event::EvidencePreserved(p) => Some(p),
            _ => None,
        })
        .expect("evidence_preserved journaled");
    assert!(
        kept.dir.starts_with(&dir.path().display().to_string()),
        "{}",
        kept.dir
    );
    let dump = kept
        .files
        .iter()
        .find(|f| f.name == "dump.pm2")
        .unwrap_or_else(|| panic!("dump.pm2 kept: {kept:?}"));
    let copy = std::path::Path::new(&kept.dir).join(&dump.name);
    let bytes = std::fs::read(&copy).unwrap();
    assert_eq!(bytes, std::fs::read(fx.dir().join("dump.pm2")).unwrap());
    assert_eq!(hex::encode(Sha256::digest(&bytes)), dump.sha256);
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
