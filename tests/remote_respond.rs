//! `respond --host` end to end: the real binary under tmux, a real sshd and a real PM2 behind
//! it. The local side has no PM2 at all (no PM2_HOME, no pm2 on PATH): everything the screen
//! shows and every command it runs goes over ssh.
mod support;

use std::time::Duration;

use pm2_incident::incident::event::Event;
use support::pm2_fixture::{Pm2Fixture, ALL_APPS};
use support::sandbox_site::SandboxSite;
use support::sshd::{sockets_under, ssh_processes_mentioning, Sshd};
use support::tmux::{has_row, Tmux};

fn processes_named(cmdline: &str) -> Vec<u32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            if String::from_utf8_lossy(&c).replace('\0', " ").trim_end() == cmdline {
                out.push(pid);
            }
        }
    }
    out
}

fn wait_until(what: &str, timeout: Duration, f: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn respond_over_ssh_sees_changes_runs_commands_there_cancels_and_survives_a_dropped_master() {
    let apps: Vec<&str> = ALL_APPS
        .iter()
        .copied()
        .filter(|a| *a != "crash-at-start")
        .collect();
    let fx = Pm2Fixture::start(&apps);
    // A saved list on the server: the PM2 pane reads it over ssh.
    assert!(fx.pm2_cmd(&["save"]).status.success());
    let site = SandboxSite::new(&fx);
    // pm2 is on the server's PATH only.
    let mut sshd = Sshd::start_with_path(fx.pm2.parent());
    let host = sshd.alias("web1", Some(fx.dir()));
    let rt = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("incident.jsonl");
    let long = Duration::from_secs(20);
    let cmd = format!(
        "cd {d}; env -u PM2_HOME NO_COLOR=1 XDG_RUNTIME_DIR={rt} PM2_INCIDENT_SSH_COMMAND='{ssh}' \
         {bin} respond --host {host} --inventory {inv} --journal {j}; echo EXITED $?; sleep 60",
        d = dir.path().display(),
        rt = rt.path().display(),
        ssh = sshd.ssh_command(),
        bin = env!("CARGO_BIN_EXE_pm2-incident"),
        inv = site.inventory.display(),
        j = journal.display(),
    );
    let tui = Tmux::start("ssh-respond", 120, 35, &cmd);
    let (s, _) = tui.wait_for("processes online over ssh", long, |s| {
        has_row(s, "analytics-worker-test", "online")
            && s.contains("healthy")
            && s.contains("saved list: 7 apps, saved")
    });
    // Where commands run is in sight.
    assert!(s.lines().next().unwrap().contains(" on web1 "), "{s}");
    assert!(s.contains("commands run on web1"), "{s}");

    // A change made on the server shows within 2 s (the forwarded event bus).
    assert!(fx
        .pm2_cmd(&["stop", "flyer-crawler-worker"])
        .status
        .success());
    let (_, took) = tui.wait_for("worker stopped", Duration::from_secs(5), |s| {
        has_row(s, "flyer-crawler-worker", "stopped")
    });
    assert!(
        took < Duration::from_secs(2),
        "the stop took {took:?} to show"
    );

    // Step 1's first command, `pm2 list`, runs on the server (pm2 exists only there).
    tui.keys(&["l", "l", "l"]);
    tui.wait_text("Step 1: Gather Information", long);
    tui.keys(&["j", "Enter"]);
    let (s, _) = tui.wait_for("pm2 list output", long, |s| {
        s.contains("$ pm2 list") && s.contains("exit 0")
    });
    assert!(s.contains("flyer-crawler-analytics-worker"), "{s}");

    // A typed command's parent is sshd's session: it ran remotely (this test shares the
    // filesystem with the "server", so the file shows where it ran).
    let parent = dir.path().join("parent.txt");
    tui.keys(&[":"]);
    tui.type_text(&format!("cat /proc/$PPID/comm > {}", parent.display()));
    tui.keys(&["Enter"]);
    wait_until("the typed command to run", long, || {
        std::fs::read_to_string(&parent).is_ok_and(|s| !s.is_empty())
    });
    assert_eq!(std::fs::read_to_string(&parent).unwrap().trim(), "sshd");

    // The runbook's `cd DIR` line moves where later commands run, on the server; a command
    // with its own directory runs there (git log works only inside the repository).
    let sandbox = support::pm2_fixture::sandbox_dir().display().to_string();
    for _ in 0..15 {
        if tui
            .screen()
            .lines()
            .filter_map(|l| l.split('▶').nth(1))
            .any(|rest| rest.split_whitespace().take(2).eq(["safe", "cd"]))
        {
            break;
        }
        tui.keys(&["j"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    tui.keys(&["Enter"]);
    tui.wait_text("commands without a directory of their own now run in", long);
    let pwd = dir.path().join("pwd.txt");
    tui.keys(&[":"]);
    tui.type_text(&format!("pwd > {}", pwd.display()));
    tui.keys(&["Enter"]);
    wait_until("the typed pwd to run", long, || {
        std::fs::read_to_string(&pwd).is_ok_and(|s| !s.is_empty())
    });
    assert_eq!(std::fs::read_to_string(&pwd).unwrap().trim(), sandbox);
    tui.keys(&["j", "Enter"]);
    // Its output is the repository's history (elsewhere git says "not a git repository").
    tui.wait_for("git log in the app directory", long, |s| {
        s.contains("$ git log --oneline -5 on web1") && s.contains("(HEAD")
    });

    // Cancel ends the remote process, not only the local ssh.
    tui.keys(&[":"]);
    tui.type_text("sleep 321");
    tui.keys(&["Enter"]);
    wait_until("remote sleep to start", long, || {
        !processes_named("sleep 321").is_empty()
    });
    tui.keys(&["C-c"]);
    wait_until(
        "remote sleep to end after cancel",
        Duration::from_secs(10),
        || processes_named("sleep 321").is_empty(),
    );

    // Kill the ssh master mid-incident: the tool reconnects and keeps following PM2.
    let kill_master = || {
        let ours: Vec<u32> = ssh_processes_mentioning("ControlMaster=yes")
            .into_iter()
            .filter(|p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&rt.path().display().to_string()))
                    .unwrap_or(false)
            })
            .collect();
        assert_eq!(ours.len(), 1, "one master for the host");
        // SAFETY: the master this test's tool started (found by its private runtime dir), by pid.
        unsafe { libc::kill(ours[0] as libc::pid_t, libc::SIGKILL) };
    };
    kill_master();
    assert!(fx
        .pm2_cmd(&["restart", "flyer-crawler-worker"])
        .status
        .success());
    tui.wait_for("worker back online after the reconnect", long, |s| {
        has_row(s, "flyer-crawler-worker", "online")
    });

    // The server goes away: the header says the link is down while it is, and clears
    // once a reading gets through again.
    sshd.stop();
    kill_master();
    let header_down = |s: &str| {
        s.lines()
            .next()
            .is_some_and(|h| h.contains("SSH LINK DOWN"))
    };
    tui.wait_for("the dropped link in the header", long, header_down);
    sshd.start_again();
    tui.wait_for("the link back", long, |s| {
        !header_down(s) && has_row(s, "flyer-crawler-worker", "online")
    });

    // `E` keeps the server's traces here (over ssh), as a local `E` keeps a local home's.
    tui.keys(&["E"]);
    tui.wait_text("evidence kept in", long);

    tui.keys(&["q"]);
    let s = tui.wait_text("EXITED 0", long);
    assert!(!s.contains("┌ Runbook"), "{s}");
    drop(tui);

    let out = pm2_incident::journal::read(&journal).expect("journal");
    assert!(out.is_intact());
    let ev: Vec<Event> = out.entries.into_iter().map(|e| e.event).collect();
    let kept = ev
        .iter()
        .find_map(|e| match e {
            Event::EvidencePreserved(p) => Some(p.clone()),
            _ => None,
        })
        .expect("evidence_preserved journaled");
    let dump = kept
        .files
        .iter()
        .find(|f| f.name == "dump.pm2")
        .unwrap_or_else(|| panic!("dump.pm2 kept: {kept:?}"));
    assert!(dump.source.starts_with("web1:"), "{}", dump.source);
    assert_eq!(
        std::fs::read(std::path::Path::new(&kept.dir).join("dump.pm2")).unwrap(),
        std::fs::read(fx.dir().join("dump.pm2")).unwrap()
    );
    match ev.first() {
        Some(Event::IncidentOpened(o)) => {
            assert!(o.host.starts_with("web1 (over ssh from "), "{}", o.host)
        }
        e => panic!("{e:?}"),
    }
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::CommandStarted(c) if c.text == "pm2 list")));
    // git log exited 0 in the app directory on the server.
    let git = ev
        .iter()
        .find_map(|e| match e {
            Event::CommandStarted(c) if c.text == "git log --oneline -5" => Some(c.clone()),
            _ => None,
        })
        .expect("git log journaled");
    assert_eq!(git.dir.as_deref(), Some(sandbox.as_str()));
    assert!(ev.iter().any(|e| matches!(e,
        Event::CommandFinished(f) if f.cmd_id == git.cmd_id && f.exit_code == Some(0))));
    // The journal records the directory on the server each command ran in.
    assert!(ev.iter().any(|e| matches!(e,
        Event::CommandStarted(c) if c.text.starts_with("pwd > ") && c.dir.as_deref() == Some(sandbox.as_str()))));
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Pm2Event(p) if p.process == "ssh")),
        "the reconnect is journaled"
    );
    assert!(!std::fs::read_to_string(&journal)
        .unwrap()
        .contains(&fx.canary));
    // Nothing left: no control or forwarded sockets, no ssh processes, no runtime dir.
    let left: Vec<_> = std::fs::read_dir(rt.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(sockets_under(rt.path()).is_empty());
    assert!(ssh_processes_mentioning(&rt.path().display().to_string()).is_empty());
}
