//! Issue 18 items 2, 5 and 7: no way in through the drill directory or the journal directory,
//! `--resume` opens only a journal, and hostile inputs (FIFO, /dev/zero, oversize) return at once
//! with an error. Every subprocess runs under a deadline so a regression fails instead of hanging.
use std::ffi::CString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pm2_incident::drill::{self, DrillEnv};
use pm2_incident::incident::event::Mode;
use pm2_incident::incident::sample;
use pm2_incident::journal::lock::{lock_path, LockInfo};
use pm2_incident::journal::session::{self, Session};
use pm2_incident::runbook::Runbook;

const EXE: &str = env!("CARGO_BIN_EXE_pm2-incident");
const NOBODY: u32 = 65534;

fn mkfifo(p: &Path) {
    let c = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn chown(p: &Path, uid: u32) {
    let c = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; lchown does not follow symlinks.
    assert_eq!(unsafe { libc::lchown(c.as_ptr(), uid, uid) }, 0, "lchown");
}

fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs the binary with a deadline: kills it and fails the test if it does not return in time.
fn run_within(args: &[&str], env: &[(&str, &str)], limit: Duration) -> (i32, String, String) {
    let mut child = Command::new(EXE)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after {limit:?} (blocked on its input?)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn opened(rb: &Runbook, me: &LockInfo) -> pm2_incident::incident::Event {
    pm2_incident::cmd::respond::opened_event(rb, "INC-T", Mode::Live, me)
}

fn me() -> LockInfo {
    LockInfo::current("2026-02-17T04:12:00Z")
}

/// A real journal of two events in `dir`.
fn journal_in(dir: &Path) -> PathBuf {
    let rb = Runbook::embedded().unwrap();
    let p = dir.join("j.jsonl");
    let s = session::start(&p, &me(), sample::at(4, 12, 0), opened(&rb, &me())).unwrap();
    drop(s);
    p
}

// ---- item 2: the drill directory ----

#[test]
fn drill_directory_prepared_by_another_user_is_never_used() {
    let base = tempfile::tempdir().unwrap();
    let rb = Runbook::embedded().unwrap();
    let scenario = drill::builtin("delete-all", &rb.inventory).unwrap();
    // The old attack: pre-create the names the drill used to pick (scenario, pid, time), with a
    // `bin/` owned by another user holding a trojan `pm2`, and `sim.json` a symlink to a file the
    // victim owns. Several plausible names, since the old one was predictable, not fixed.
    let victim = base.path().join("victim-secret");
    std::fs::write(&victim, "root-only").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let now_ms = 1_795_000_000_000i64;
    let mut planted = vec![];
    for name in [
        format!(
            "pm2-incident-drill-{}-{}-{now_ms}",
            scenario.id(),
            std::process::id()
        ),
        format!("pm2-incident-drill-{}-", scenario.id()),
    ] {
        let d = base.path().join(name);
        std::fs::create_dir_all(d.join("bin")).unwrap();
        std::fs::write(d.join("bin/pm2"), "#!/bin/sh\necho trojan\n").unwrap();
        std::os::unix::fs::symlink(&victim, d.join("sim.json")).unwrap();
        if is_root() {
            chown(&d.join("bin"), NOBODY);
            chown(&d, NOBODY);
        }
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        planted.push(d);
    }
    let env = DrillEnv::create(&scenario, &rb, base.path(), Path::new(EXE), now_ms).unwrap();
    assert!(!planted.contains(&env.dir), "drill reused {:?}", env.dir);
    let md = std::fs::metadata(&env.dir).unwrap();
    assert_eq!(md.mode() & 0o777, 0o700);
    // SAFETY: no preconditions.
    assert_eq!(md.uid(), unsafe { libc::geteuid() });
    let bin = std::fs::metadata(&env.bin).unwrap();
    assert_eq!(bin.uid(), md.uid());
    assert_eq!(bin.mode() & 0o022, 0, "bin/ writable by others");
    let shim = std::fs::read_to_string(env.bin.join("pm2")).unwrap();
    assert!(shim.contains("drill shim") && !shim.contains("trojan"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root-only");
    for d in &planted {
        assert_eq!(
            std::fs::read_to_string(d.join("bin/pm2")).unwrap(),
            "#!/bin/sh\necho trojan\n"
        );
    }
    // Two drills at the same moment get two directories.
    let env2 = DrillEnv::create(&scenario, &rb, base.path(), Path::new(EXE), now_ms).unwrap();
    assert_ne!(env.dir, env2.dir);
}

#[test]
fn drill_state_files_are_never_written_through_a_symlink() {
    let base = tempfile::tempdir().unwrap();
    let rb = Runbook::embedded().unwrap();
    let scenario = drill::builtin("delete-all", &rb.inventory).unwrap();
    let env = DrillEnv::create(
        &scenario,
        &rb,
        base.path(),
        Path::new(EXE),
        1_795_000_000_000,
    )
    .unwrap();
    let victim = base.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let log = env.home.join("pm2.log");
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    // Refreshing the PM2_HOME files must fail rather than write through the link.
    assert!(env.state_at(1_795_000_060_000).is_err());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

// ---- item 2: journal directories ----

#[test]
fn journal_directory_writable_by_others_is_refused() {
    let rb = Runbook::embedded().unwrap();
    let d = tempfile::tempdir().unwrap();
    let shared = d.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let p = shared.join("j.jsonl");
    let e = session::start(&p, &me(), sample::at(4, 12, 0), opened(&rb, &me())).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("writable by other users"), "{msg}");
    assert!(msg.contains(&shared.display().to_string()), "{msg}");
    assert!(!p.exists() && !lock_path(&p).exists());
    // The CLI says the same and exits non-zero.
    let (code, _, err) = run_within(
        &[
            "respond",
            "--inventory",
            "example",
            "--journal",
            p.to_str().unwrap(),
        ],
        &[],
        Duration::from_secs(10),
    );
    assert_ne!(code, 0);
    assert!(err.contains("writable by other users"), "{err}");
}

#[test]
fn journal_directory_owned_by_another_user_is_refused() {
    if !is_root() {
        // Without root the test cannot give a directory away; the mode rule above still runs.
        eprintln!(
            "not root: chown to uid {NOBODY} impossible; ownership rule checked by unit test only"
        );
        return;
    }
    let rb = Runbook::embedded().unwrap();
    let d = tempfile::tempdir().unwrap();
    let theirs = d.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o755)).unwrap();
    chown(&theirs, NOBODY);
    let p = theirs.join("j.jsonl");
    let e = session::start(&p, &me(), sample::at(4, 12, 0), opened(&rb, &me())).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(&format!("owned by uid {NOBODY}")), "{msg}");
    assert!(!p.exists());
}

// ---- item 5: resume ----

fn snapshot_of(p: &Path) -> (Vec<u8>, i64, u64) {
    let md = std::fs::symlink_metadata(p).unwrap();
    (
        std::fs::read(p).unwrap_or_default(),
        md.mtime_nsec(),
        md.len(),
    )
}

#[test]
fn resume_refuses_a_symlink_and_leaves_it_untouched() {
    let d = tempfile::tempdir().unwrap();
    let real = journal_in(d.path());
    // A torn tail would be truncated by a resume: make sure nothing happens to it.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&real)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"seq\":1,\"torn"))
        .unwrap();
    let link = d.path().join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let before = snapshot_of(&real);
    let e = session::resume(&link, &me(), sample::at(4, 13, 0)).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(snapshot_of(&real), before);
    assert!(!lock_path(&link).exists());
    let (code, _, err) = run_within(
        &[
            "respond",
            "--inventory",
            "example",
            "--resume",
            link.to_str().unwrap(),
        ],
        &[],
        Duration::from_secs(10),
    );
    assert_ne!(code, 0);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(snapshot_of(&real), before);
}

#[test]
fn resume_refuses_files_that_are_not_journals() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8])] = &[
        ("notes.txt", b"just some notes\nwithout newline at the end"),
        ("empty.jsonl", b""),
        ("config.json", b"{\"a\":1}\n"),
        (
            "other-event-first.jsonl",
            b"{\"seq\":0,\"ts\":\"2026-02-17T04:12:00.000Z\",\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"kind\":\"note\",\"author\":\"a\",\"text\":\"b\"}\n",
        ),
    ];
    for (name, body) in cases {
        let p = d.path().join(name);
        std::fs::write(&p, body).unwrap();
        let before = snapshot_of(&p);
        let e = session::resume(&p, &me(), sample::at(4, 13, 0)).unwrap_err();
        assert!(
            e.to_string().contains("not a pm2-incident journal"),
            "{name}: {e}"
        );
        assert_eq!(snapshot_of(&p), before, "{name} modified");
        assert!(!lock_path(&p).exists(), "{name}: lock left behind");
    }
    // The genuine article still resumes.
    let j = journal_in(d.path());
    match session::resume(&j, &me(), sample::at(4, 13, 0)).unwrap() {
        Session::Driving { resume, .. } => assert_eq!(resume.unwrap().outcome.entries.len(), 1),
        Session::ReadOnly { .. } => panic!("read-only"),
    }
}

// ---- item 7: inputs that would block or never end ----

#[test]
fn fifo_and_device_inputs_return_at_once_with_an_error() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("journal.jsonl");
    mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["verify", f],
        vec!["report", f],
        vec!["replay", f],
        vec!["respond", "--inventory", "example", "--resume", f],
        vec!["runbook", "check", "--inventory", f],
        vec!["verify", "/dev/zero"],
        vec!["report", "/dev/zero"],
        vec!["replay", "/dev/zero"],
        vec!["lint", "/dev/zero"],
        vec!["runbook", "check", "--runbook", "/dev/zero"],
    ];
    for args in cases {
        let t = Instant::now();
        let (code, _, err) = run_within(&args, &[], Duration::from_secs(5));
        assert_ne!(code, 0, "{args:?}");
        assert!(
            err.contains("not a regular file"),
            "{args:?}: no clear message: {err}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{args:?} took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn lint_of_a_directory_holding_a_fifo_skips_it_by_name() {
    let d = tempfile::tempdir().unwrap();
    mkfifo(&d.path().join("deploy.sh"));
    std::fs::write(d.path().join("ok.sh"), "#!/bin/sh\npm2 restart api\n").unwrap();
    std::os::unix::fs::symlink(d.path(), d.path().join("loop")).unwrap();
    let (code, _, err) = run_within(
        &["lint", d.path().to_str().unwrap()],
        &[],
        Duration::from_secs(5),
    );
    assert!(
        err.contains("deploy.sh: skipped: not a regular file"),
        "{err}"
    );
    assert!(err.contains("1 file(s) checked"), "{err}");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn oversize_inputs_are_refused_with_the_limit_named() {
    // A file read whole (a script to lint) is capped; the cap is named with its variable.
    let d = tempfile::tempdir().unwrap();
    let script = d.path().join("deploy.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n{}pm2 restart api\n", "# pad\n".repeat(40)),
    )
    .unwrap();
    let size = std::fs::metadata(&script).unwrap().len();
    let (code, _, err) = run_within(
        &["lint", script.to_str().unwrap()],
        &[("PM2_INCIDENT_MAX_SIZE", "100")],
        Duration::from_secs(5),
    );
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("{size} bytes is over the 100-byte input limit"))
            && err.contains("PM2_INCIDENT_MAX_SIZE"),
        "{err}"
    );
    let (_, _, err) = run_within(
        &["lint", script.to_str().unwrap()],
        &[("PM2_INCIDENT_MAX_SIZE", "1M")],
        Duration::from_secs(5),
    );
    assert!(!err.contains("input limit"), "{err}");
    let (code, _, err) = run_within(
        &["lint", script.to_str().unwrap()],
        &[("PM2_INCIDENT_MAX_SIZE", "lots")],
        Duration::from_secs(5),
    );
    assert_ne!(code, 0);
    assert!(err.contains("invalid PM2_INCIDENT_MAX_SIZE"), "{err}");
    // A journal streams in fixed memory: larger than the cap, it still verifies.
    let j = journal_in(d.path());
    let (code, out, err) = run_within(
        &["verify", j.to_str().unwrap()],
        &[("PM2_INCIDENT_MAX_SIZE", "100")],
        Duration::from_secs(5),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(": OK:"), "{out}");
}
