//! `drill --sandbox` end to end in tmux: the scenario runs on a real PM2 (the pinned npm
//! copy) in a throwaway home; PM2's own state in that home shows the fault, the
//! responder's restore works against it, the debrief and history see it, and afterwards
//! no process or directory of the sandbox is left.
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pm2_incident::drill::sandbox::{processes_of_home, Sandbox};
use pm2_incident::pm2::{parse_process_list, Process, ProcessStatus};
use support::drill_sandbox::{alive, Sbx};
use support::pm2_fixture::pm2_bin;
use support::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_pm2-incident");

fn sandbox_dir(tmp: &Path) -> PathBuf {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let found = std::fs::read_dir(tmp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("p2i-sbx-")
            });
        if let Some(p) = found {
            return p;
        }
        assert!(
            Instant::now() < until,
            "no sandbox directory in {}",
            tmp.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// PM2's own list in the sandbox home (the daemon must be alive: jlist starts one otherwise).
fn jlist(home: &Path) -> Vec<Process> {
    let out = Command::new(pm2_bin())
        .arg("jlist")
        .env("PM2_HOME", home)
        .output()
        .unwrap();
    parse_process_list(&out.stdout).expect("jlist parses")
}

/// The drill in a tmux pane that outlives the tool (until the test ends it), so a tool that
/// stops early leaves its `EXITED n` and error on the screen instead of a vanished pane.
fn start(tmp: &Path, scenario: &str) -> Tmux {
    let cmd = format!(
        "cd {t}; TMPDIR={t} XDG_STATE_HOME={t}/state {BIN} drill --sandbox {scenario} --pm2 {p} --responder sam ; echo EXITED $?; sleep 3600",
        t = tmp.display(),
        p = pm2_bin().display()
    );
    // Tall enough for the whole debrief.
    Tmux::start(&format!("sbx-{scenario}"), 120, 50, &cmd)
}

/// Type a command at `:`; a caution prompt is confirmed with the token it asks for (its
/// `type TOKEN and Enter` line shows however long the reason).
fn run(t: &Tmux, cmd: &str) {
    t.keys(&[":"]);
    t.type_text(cmd);
    t.keys(&["Enter"]);
    let (s, _) = t.wait_for("ran or asked", Duration::from_secs(60), |s| {
        s.contains("exit 0") || s.contains("CAUTION")
    });
    if s.contains("CAUTION") {
        let token = s
            .lines()
            .find_map(|l| {
                let rest = l.split("│type ").nth(1)?;
                rest.split(" and Enter to run").next()
            })
            .unwrap_or_else(|| panic!("no token line in the prompt:\n{s}"));
        t.type_text(token);
        t.keys(&["Enter"]);
        t.wait_text("exit 0", Duration::from_secs(60));
    }
}

/// Quit to the debrief (returned with the drill's history record), quit the tool, and check
/// that nothing of the sandbox is left.
fn finish(t: &Tmux, tmp: &Path, dir: &Path) -> (String, pm2_incident::drill::history::Record) {
    let long = Duration::from_secs(30);
    t.keys(&["q"]);
    let s = t.wait_text("Drill debrief", long);
    assert!(
        s.contains("flyer-crawler-api (production): restored at"),
        "{s}"
    );
    t.keys(&["q"]);
    t.wait_text("EXITED 0", Duration::from_secs(60));
    // Nothing of the sandbox is left: no process names its home, no directory.
    let home = dir.join("h");
    assert!(
        processes_of_home(&home).is_empty(),
        "sandbox processes left"
    );
    assert!(!dir.exists(), "sandbox directory left: {}", dir.display());
    let h =
        pm2_incident::drill::history::read(&tmp.join("state/pm2-incident/drills.jsonl")).unwrap();
    assert_eq!(h.records.len(), 1);
    (s, h.records[0].clone())
}

#[test]
fn delete_all_on_a_real_pm2() {
    let tmp = tempfile::tempdir().unwrap();
    let t = start(tmp.path(), "delete-all");
    let dir = sandbox_dir(tmp.path());
    let home = dir.join("h");
    t.wait_text("any key starts", Duration::from_secs(90));
    // The fault is real: PM2 itself lists nothing; its saved list still names every app.
    assert!(jlist(&home).is_empty(), "PM2 still lists processes");
    let dump = std::fs::read_to_string(home.join("dump.pm2")).unwrap();
    assert!(dump.contains("flyer-crawler-api") && dump.contains("stock-alert-api"));
    t.keys(&["Space"]);
    t.wait_text("l/h step", Duration::from_secs(20));
    run(
        &t,
        &format!(
            "cd {}/apps/0 && pm2 start ecosystem.config.cjs",
            dir.display()
        ),
    );
    // Restored for real: PM2 lists the production processes online.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let l = jlist(&home);
        let online = |n: &str| {
            l.iter()
                .any(|p| p.name == n && p.status == ProcessStatus::Online)
        };
        if online("flyer-crawler-api") && online("flyer-crawler-worker") {
            break;
        }
        assert!(
            Instant::now() < until,
            "production not online in PM2: {l:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    t.wait_text("healthy  flyer-crawler-prod", Duration::from_secs(30));
    let (_, r) = finish(&t, tmp.path(), &dir);
    assert_eq!(r.world, pm2_incident::drill::history::World::Sandbox);
    assert_eq!(r.scenario, "delete-all");
    assert!(r
        .production_restores
        .iter()
        .any(|p| p.process == "flyer-crawler-api" && p.after_secs.is_some()));
}

/// The daemon-killed fault without the screens: the real daemon dies by SIGKILL (its
/// pid file names a dead process and the tool's reader says so), its apps end with it (their
/// IPC channel closes, as measured on PM2 7) before the drill starts, and teardown leaves
/// nothing of the home.
#[test]
fn daemon_killed_on_a_real_pm2_and_torn_down() {
    let rb = pm2_incident::runbook::Runbook::embedded().unwrap();
    let s = pm2_incident::drill::builtin("daemon-killed", &rb.inventory).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sb = Sbx(Some(
        Sandbox::create(&rb.inventory, &s, tmp.path(), &pm2_bin()).unwrap(),
    ));
    sb.get().start().unwrap();
    let before = jlist(&sb.get().home);
    // Seven processes, the production API as a cluster of two.
    assert_eq!(before.len(), 8, "{before:?}");
    let pid = read_pid(&sb.get().home);
    sb.get().inject().unwrap();
    assert!(!alive(pid), "daemon {pid} still alive");
    // The tool's own reader sees it as dead (never starting a daemon).
    let reading = pm2_incident::pm2::source::observe(&pm2_incident::pm2::source::SourceArgs {
        pm2_home: Some(sb.get().home.clone()),
        timeout_ms: 3000,
        ..Default::default()
    });
    assert!(
        matches!(
            reading.daemon,
            pm2_incident::pm2::DaemonState::DiedUncleanly { .. }
        ),
        "{:?}",
        reading.daemon
    );
    // Its apps ended with it: the drill starts on the outcome, nothing of the home runs.
    let apps: Vec<u32> = before.iter().filter_map(|p| p.pid).collect();
    assert!(
        apps.iter().all(|p| !alive(*p as i32)),
        "apps outlived the daemon"
    );
    assert!(processes_of_home(&sb.get().home).is_empty());
    assert_eq!(read_pid(&sb.get().home), pid, "a new daemon was started");
    sb.down();
}

fn read_pid(home: &Path) -> i32 {
    std::fs::read_to_string(home.join("pm2.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The trap scenario end to end on a real PM2: the daemon is really dead when the drill
/// starts, the responder preserves the evidence before any `pm2` call (no daemon is started
/// by it), `pm2 resurrect` brings the saved list back for real, the debrief says so, and
/// nothing of the sandbox is left.
#[test]
fn daemon_killed_end_to_end_on_a_real_pm2() {
    let tmp = tempfile::tempdir().unwrap();
    let t = start(tmp.path(), "daemon-killed");
    let dir = sandbox_dir(tmp.path());
    let home = dir.join("h");
    let s = t.wait_text("any key starts", Duration::from_secs(180));
    assert!(s.contains("real PM2"), "{s}");
    assert!(s.contains("kill -9"), "{s}");
    // The fault is real: PM2's daemon pid is dead, nothing of the home runs.
    let dead = read_pid(&home);
    assert!(!alive(dead), "daemon {dead} alive");
    assert!(
        processes_of_home(&home).is_empty(),
        "apps outlived the daemon"
    );
    t.keys(&["Space"]);
    t.wait_text("daemon died", Duration::from_secs(30));
    // Evidence first: no pm2 call, so still no daemon and the dead pid in place.
    t.keys(&["E"]);
    t.wait_text("evidence kept", Duration::from_secs(30));
    assert_eq!(read_pid(&home), dead, "a pm2 call started a daemon");
    assert!(processes_of_home(&home).is_empty());
    run(&t, "pm2 resurrect");
    // Restored for real: a new daemon, and PM2 lists production online.
    let until = Instant::now() + Duration::from_secs(60);
    let restored = loop {
        let l = jlist(&home);
        let online = |n: &str| {
            l.iter()
                .any(|p| p.name == n && p.status == ProcessStatus::Online)
        };
        if online("flyer-crawler-api")
            && online("flyer-crawler-worker")
            && online("stock-alert-api")
        {
            break l;
        }
        assert!(
            Instant::now() < until,
            "production not online in PM2: {l:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let daemon = read_pid(&home);
    assert_ne!(daemon, dead);
    t.wait_text("healthy  flyer-crawler-prod", Duration::from_secs(60));
    let (s, r) = finish(&t, tmp.path(), &dir);
    // By pid too: the new daemon and the apps it ran are gone.
    assert!(!alive(daemon), "daemon {daemon} left");
    for p in restored.iter().filter_map(|p| p.pid) {
        assert!(!alive(p as i32), "app pid {p} left");
    }
    assert!(s.contains("(daemon-killed)"), "{s}");
    assert!(
        s.contains("Evidence of the dead daemon preserved at"),
        "{s}"
    );
    assert!(!s.contains("ran with the daemon down"), "{s}");
    assert!(
        s.contains("Verification gate (production healthy before test): n/a"),
        "{s}"
    );
    assert_eq!(r.scenario, "daemon-killed");
    assert_eq!(r.empty_daemon_starts, 0);
    assert!(r.evidence_saved_before_changes);
}
