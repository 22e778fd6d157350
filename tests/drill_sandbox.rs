//! `drill --sandbox` end to end in tmux: the scenario runs on a real PM2 (the pinned npm
//! copy) in a throwaway home; PM2's own state in that home shows the fault, the
//! responder's restore works against it, the debrief and history see it, and afterwards
//! no process or directory of the sandbox is left.
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pm2_incident::drill::sandbox::processes_of_home;
use pm2_incident::pm2::{parse_process_list, Process, ProcessStatus};
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

/// Running (a zombie is dead: it only waits for its parent to read its status).
fn alive(pid: i32) -> Option<String> {
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let state = st.lines().find(|l| l.starts_with("State:"))?.to_string();
    (!state.contains("zombie")).then(|| st.lines().take(8).collect::<Vec<_>>().join("; "))
}

fn start(tmp: &Path, scenario: &str) -> Tmux {
    let cmd = format!(
        "cd {t}; TMPDIR={t} XDG_STATE_HOME={t}/state {BIN} drill --sandbox {scenario} --pm2 {p} --responder sam ; echo EXITED $?; sleep 60",
        t = tmp.display(),
        p = pm2_bin().display()
    );
    Tmux::start(&format!("sbx-{scenario}"), 120, 36, &cmd)
}

/// Type a command at `:`; a caution prompt is confirmed with its token: the first
/// target it touches, or `confirm` (read from the `touches:` line, which stays on screen
/// when a long reason pushes the `type … and Enter` line out of the popup).
fn run(t: &Tmux, cmd: &str) {
    t.keys(&[":"]);
    t.type_text(cmd);
    t.keys(&["Enter"]);
    let (s, _) = t.wait_for("ran or asked", Duration::from_secs(30), |s| {
        s.contains("exit 0") || s.contains("CAUTION")
    });
    if s.contains("CAUTION") {
        let touches = s
            .lines()
            .find_map(|l| l.split("touches: ").nth(1))
            .expect("the popup shows what the command touches");
        let first = touches
            .trim_end_matches(['│', ' '])
            .split(", ")
            .next()
            .unwrap();
        let token = if first == "-" { "confirm" } else { first };
        t.type_text(token);
        t.keys(&["Enter"]);
        t.wait_text("exit 0", Duration::from_secs(30));
    }
}

fn finish(t: &Tmux, tmp: &Path, dir: &Path) -> pm2_incident::drill::history::Record {
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
    h.records[0].clone()
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
    let r = finish(&t, tmp.path(), &dir);
    assert_eq!(r.world, pm2_incident::drill::history::World::Sandbox);
    assert_eq!(r.scenario, "delete-all");
    assert!(r
        .production_restores
        .iter()
        .any(|p| p.process == "flyer-crawler-api" && p.after_secs.is_some()));
}

/// The daemon-killed fault without the screens: the real daemon dies by SIGKILL (its
/// pid file names a dead process and the tool's reader says so), the apps it ran are
/// orphans still holding their ports, and teardown ends them all by home.
#[test]
fn daemon_killed_on_a_real_pm2_and_torn_down() {
    let rb = pm2_incident::runbook::Runbook::embedded().unwrap();
    let s = pm2_incident::drill::builtin("daemon-killed", &rb.inventory).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sb = pm2_incident::drill::sandbox::Sandbox::create(&rb.inventory, tmp.path(), &pm2_bin())
        .unwrap();
    sb.start().unwrap();
    let before = jlist(&sb.home);
    assert_eq!(before.len(), 7, "{before:?}");
    sb.inject(&s).unwrap();
    let pid: i32 = std::fs::read_to_string(sb.home.join("pm2.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while let Some(st) = alive(pid) {
        assert!(Instant::now() < until, "daemon {pid} still alive: {st}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The tool's own reader sees it as dead (never starting a daemon).
    let reading = pm2_incident::pm2::source::observe(&pm2_incident::pm2::source::SourceArgs {
        pm2_home: Some(sb.home.clone()),
        timeout_ms: 3000,
        ..Default::default()
    });
    assert!(
        !matches!(reading.daemon, pm2_incident::pm2::DaemonState::Up { .. }),
        "{:?}",
        reading.daemon
    );
    // Its apps outlive it (orphans), as on a real server.
    let orphans: Vec<u32> = before.iter().filter_map(|p| p.pid).collect();
    assert!(
        orphans.iter().any(|p| alive(*p as i32).is_some()),
        "no orphan left running"
    );
    let home = sb.home.clone();
    let dir = sb.dir.clone();
    sb.teardown().unwrap();
    assert!(processes_of_home(&home).is_empty());
    assert!(orphans.iter().all(|p| alive(*p as i32).is_none()));
    assert!(!dir.exists());
}
