//! Issue 18 item 4: the real binary in tmux, a command running; SIGTERM, SIGHUP and SIGQUIT end
//! the tool with `interrupted` journaled, the command's process gone and the terminal restored;
//! SIGTSTP leaves the screen and SIGCONT brings it back.
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use pm2_incident::incident::event::{Event, InterruptCause};
use support::tmux::Tmux;

const LONG: Duration = Duration::from_secs(20);

fn gone(pid: i32) -> bool {
    // Gone, or a zombie nobody has reaped yet (it runs nothing).
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < LONG, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A drill in tmux with one command running; returns (tmux, tool pid, command pid).
fn drill_with_running_command(tag: &str, dir: &Path) -> (Tmux, i32, i32) {
    let journal = dir.join("j.jsonl");
    let pidfile = dir.join("pid");
    let tui = Tmux::start(
        tag,
        120,
        35,
        &format!(
            "{} drill --journal {}; echo EXITED $?; sleep 60",
            env!("CARGO_BIN_EXE_pm2-incident"),
            journal.display()
        ),
    );
    tui.wait_text("any key starts", LONG);
    tui.keys(&["Enter"]);
    tui.keys(&[":"]);
    tui.type_text(&format!(
        "echo $$ > {} && exec sleep 300",
        pidfile.display()
    ));
    tui.keys(&["Enter"]);
    tui.wait_text("running", LONG);
    wait_until("the command's pid file", || {
        std::fs::read_to_string(&pidfile).is_ok_and(|s| s.trim().parse::<i32>().is_ok())
    });
    let child: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let lock = std::fs::read_to_string(format!("{}.lock", journal.display())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let tool = v["pid"].as_i64().unwrap() as i32;
    assert!(!gone(child), "the command is not running");
    (tui, tool, child)
}

#[test]
fn terminating_signals_end_the_running_command_and_restore_the_terminal() {
    for (sig, name) in [
        (libc::SIGTERM, "term"),
        (libc::SIGHUP, "hup"),
        (libc::SIGQUIT, "quit"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (tui, tool, child) = drill_with_running_command(&format!("sig-{name}"), dir.path());
        // SAFETY: signalling the tool we started (its pid from its own lock file).
        unsafe {
            libc::kill(tool, sig);
        }
        let s = tui.wait_text("EXITED", LONG);
        assert!(
            s.contains(&format!("EXITED {}", 128 + sig)),
            "{name}: exit status:\n{s}"
        );
        assert!(
            !s.contains("┌ Runbook"),
            "{name}: alternate screen left:\n{s}"
        );
        wait_until("the command to be gone", || gone(child));
        let journal = dir.path().join("j.jsonl");
        let r = pm2_incident::journal::read(&journal).unwrap();
        assert!(r.problems.is_empty(), "{name}: {:?}", r.problems);
        let last_interrupt = r.entries.iter().rev().find_map(|e| match &e.event {
            Event::Interrupted(i) => Some(i.reason.clone()),
            _ => None,
        });
        let want = if sig == libc::SIGHUP {
            InterruptCause::DroppedConnection
        } else {
            InterruptCause::Signal { signal: sig }
        };
        assert_eq!(last_interrupt, Some(want), "{name}");
        assert!(
            !Path::new(&format!("{}.lock", journal.display())).exists(),
            "{name}: lock left"
        );
    }
}

#[test]
fn sigtstp_leaves_the_screen_and_sigcont_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let (tui, tool, child) = drill_with_running_command("sig-tstp", dir.path());
    // SAFETY: signalling the tool we started.
    unsafe {
        libc::kill(tool, libc::SIGTSTP);
    }
    tui.wait_for("the alternate screen left", LONG, |s| {
        !s.contains("┌ Runbook")
    });
    let state = std::fs::read_to_string(format!("/proc/{tool}/stat")).unwrap();
    assert!(
        state
            .rsplit(')')
            .next()
            .unwrap()
            .trim_start()
            .starts_with('T'),
        "not stopped: {state}"
    );
    // SAFETY: as above.
    unsafe {
        libc::kill(tool, libc::SIGCONT);
    }
    tui.wait_text("┌ Runbook", LONG);
    // Still working: quits normally, and the command goes with it.
    tui.keys(&["q"]);
    tui.wait_for("the drill to end", LONG, |s| {
        s.contains("EXITED") || s.contains("ebrief")
    });
    if !tui.screen().contains("EXITED") {
        tui.keys(&["q"]);
    }
    tui.wait_text("EXITED", LONG);
    wait_until("the command to be gone", || gone(child));
}
