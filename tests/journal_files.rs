//! The journal on disk: permissions, torn tails, tampering, resume, a vanished file, a full disk,
//! the driver lock, and the `verify` / `report` subcommands of the real binary.
use pm2_incident::incident::event::{Event, Note};
use pm2_incident::incident::sample;
use pm2_incident::journal::lock::{self, Acquire, LockInfo};
use pm2_incident::journal::reader::ProblemKind;
use pm2_incident::journal::session::{self, Session};
use pm2_incident::journal::{self, WriteError, Writer};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn note(i: usize) -> Event {
    Event::Note(Note {
        author: "t".into(),
        text: format!("note number {i}"),
    })
}

/// A journal of `n` events: `incident_opened` (what `--resume` requires first), then notes.
fn write_notes(path: &Path, n: usize) {
    let mut w = Writer::create(path).unwrap();
    for i in 0..n {
        let ev = if i == 0 {
            sample::every_kind().remove(0)
        } else {
            note(i)
        };
        w.append(
            sample::at(4, 0, 0) + chrono::Duration::seconds(i as i64),
            ev,
        )
        .unwrap();
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
}

#[test]
fn journal_is_0600_in_a_0700_directory() {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("state/pm2-incident");
    let path = jdir.join("INC-1.jsonl");
    write_notes(&path, 1);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&jdir), 0o700);
    assert!(
        Writer::create(&path).is_err(),
        "never reopens an existing journal as new"
    );
}

#[test]
fn torn_last_line_is_reported_and_resume_cuts_it_and_appends_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    write_notes(&path, 10);
    let full = std::fs::read(&path).unwrap();
    // Simulate a crash half-way through writing line 11.
    let mut torn = full.clone();
    torn.extend_from_slice(br#"{"seq":10,"ts":"2026-02-17T04:00:10.000Z","prev":"ab","kind":"no"#);
    std::fs::write(&path, &torn).unwrap();

    let r = journal::read(&path).unwrap();
    assert_eq!(r.entries.len(), 10);
    let t = r.torn_tail.clone().unwrap();
    assert_eq!((t.line, t.bytes), (11, torn.len() - full.len()));
    let v = journal::verify(&path).unwrap();
    assert!(v.chain_ok());
    assert!(v.to_string().contains("line 11: torn last line"), "{v}");

    let me = LockInfo::current("2026-02-17T04:20:00.000Z");
    let Session::Driving {
        mut writer,
        lock,
        resume,
    } = session::resume(&path, &me, sample::at(4, 20, 0)).unwrap()
    else {
        panic!("expected to drive");
    };
    assert!(resume.unwrap().repaired_torn_tail);
    writer.append(sample::at(4, 20, 1), note(99)).unwrap();
    drop(lock);
    let r = journal::read(&path).unwrap();
    assert!(r.is_intact(), "{:?} {:?}", r.problems, r.torn_tail);
    assert_eq!(r.entries.len(), 12);
    let Event::Resumed(res) = &r.entries[10].event else {
        panic!("{:?}", r.entries[10])
    };
    assert_eq!(
        (res.pid, res.after_events, res.repaired_torn_tail),
        (std::process::id(), 10, true)
    );
    assert_eq!(r.entries[11].seq, 11);
}

#[test]
fn a_flipped_byte_anywhere_before_the_last_line_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    write_notes(&path, 6);
    let good = std::fs::read(&path).unwrap();
    let last_line_start = good[..good.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    for pos in 0..last_line_start {
        let mut bad = good.clone();
        bad[pos] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        let v = journal::verify(&path).unwrap();
        assert!(!v.chain_ok(), "flip at byte {pos} went unnoticed");
    }
    // A specific case: a letter inside line 3's text changes line 3's hash; line 4 says so.
    let mut bad = good.clone();
    let line3 = good
        .split(|&b| b == b'\n')
        .take(2)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let at = line3
        + good[line3..]
            .windows(6)
            .position(|w| w == b"number")
            .unwrap();
    bad[at] = b'N';
    std::fs::write(&path, &bad).unwrap();
    let v = journal::verify(&path).unwrap();
    assert_eq!(v.problems.len(), 1, "{v}");
    assert_eq!(
        (v.problems[0].line, &v.problems[0].kind),
        (4, &ProblemKind::ChainBroken)
    );
}

#[test]
fn a_removed_line_is_caught_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    write_notes(&path, 5);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let v = journal::verify(&path).unwrap();
    let kinds: Vec<_> = v
        .problems
        .iter()
        .map(|p| (p.line, p.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (3, ProblemKind::ChainBroken),
            (
                3,
                ProblemKind::SeqGap {
                    expected: 2,
                    found: 3
                }
            )
        ]
    );
}

#[test]
fn verify_and_report_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    write_notes(&path, 4);
    let out = bin().arg("verify").arg(&path).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": OK: 4 events"));

    let md = dir.path().join("out/report.md");
    let out = bin()
        .arg("report")
        .arg(&path)
        .arg("-o")
        .arg(&md)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&md), 0o600);
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .contains("note number 3"));
    // Run again: the old report is replaced whole.
    std::fs::write(&md, "stale ".repeat(10_000)).unwrap();
    let out = bin()
        .arg("report")
        .arg(&path)
        .arg("-o")
        .arg(&md)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let again = std::fs::read_to_string(&md).unwrap();
    assert!(
        again
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("# ") && l.contains("Incident Report"))
            && !again.contains("stale")
    );
    // A slip of the keyboard must not destroy the journal.
    let before = std::fs::read(&path).unwrap();
    let out = bin()
        .arg("report")
        .arg(&path)
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite the journal"));
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.windows(8).position(|w| w == b"number 1").unwrap();
    bytes[i] = b'N';
    std::fs::write(&path, &bytes).unwrap();
    let out = bin().arg("verify").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAILED") && stdout.contains("line 3: hash chain broken"),
        "{stdout}"
    );

    let out = bin()
        .arg("verify")
        .arg(dir.path().join("missing.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
}

#[test]
fn a_deleted_journal_is_recreated_from_the_open_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut w = Writer::create(&path).unwrap();
    for i in 0..5 {
        w.append(sample::at(4, 0, 0), note(i)).unwrap();
    }
    std::fs::remove_file(&path).unwrap();
    w.append(sample::at(4, 0, 1), note(5)).unwrap();
    let r = journal::read(&path).unwrap();
    assert!(r.is_intact());
    assert_eq!(r.entries.len(), 6);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn when_the_journal_cannot_be_written_events_wait_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("jd");
    let path = jdir.join("j.jsonl");
    let mut w = Writer::create(&path).unwrap();
    w.append(sample::at(4, 0, 0), note(0)).unwrap();
    // The directory disappears and a plain file takes its place: nothing can be recreated.
    std::fs::remove_dir_all(&jdir).unwrap();
    std::fs::write(&jdir, b"in the way").unwrap();
    let e = w.append(sample::at(4, 0, 1), note(1)).unwrap_err();
    assert!(
        matches!(e, WriteError::FileGone { pending: 1, .. }),
        "{e:?}"
    );
    let e = w.append(sample::at(4, 0, 2), note(2)).unwrap_err();
    assert_eq!(e.pending(), 2);
    assert!(e.to_string().contains("2 event(s) waiting"), "{e}");
    std::fs::remove_file(&jdir).unwrap();
    assert_eq!(w.append(sample::at(4, 0, 3), note(3)).unwrap(), 3);
    assert_eq!(w.pending(), 0);
    let r = journal::read(&path).unwrap();
    assert!(r.is_intact());
    let texts: Vec<String> = r
        .entries
        .iter()
        .map(|e| match &e.event {
            Event::Note(n) => n.text.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        (0..4)
            .map(|i| format!("note number {i}"))
            .collect::<Vec<_>>()
    );
}

const DISK_FULL_CHILD: &str = "PM2I_DISK_FULL_CHILD";

/// Runs in a child (re-executed test binary): a file-size limit makes writes fail like a full disk.
#[test]
fn disk_full_child() {
    let Some(path) = std::env::var_os(DISK_FULL_CHILD).map(PathBuf::from) else {
        return;
    };
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut lim: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_FSIZE, &mut lim);
        let small = libc::rlimit {
            rlim_cur: 4096,
            rlim_max: lim.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &small), 0);
        let mut w = Writer::create(&path).unwrap();
        let mut ok = 0;
        let err = loop {
            match w.append(sample::at(4, 0, 0), note(ok)) {
                Ok(_) => ok += 1,
                Err(e) => break e,
            }
            assert!(ok < 1000, "the limit never hit");
        };
        assert!(
            matches!(err, WriteError::DiskFull { pending: 1, .. }),
            "{err:?}"
        );
        assert_eq!(
            w.append(sample::at(4, 0, 0), note(ok + 1))
                .unwrap_err()
                .pending(),
            2
        );
        // Space comes back: everything queued is written, in order, nothing torn.
        let big = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &big), 0);
        w.append(sample::at(4, 0, 0), note(ok + 2)).unwrap();
        assert_eq!(w.pending(), 0);
        println!("WRITTEN {}", ok + 3);
    }
}

#[test]
fn a_full_disk_is_an_error_value_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.jsonl");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "disk_full_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DISK_FULL_CHILD, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The harness prints its own text on the same line; take the number after the marker.
    let n: usize = stdout
        .split("WRITTEN ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("child said: {stdout}"));
    let r = journal::read(&path).unwrap();
    assert!(r.is_intact(), "{:?} {:?}", r.problems, r.torn_tail);
    assert_eq!(r.entries.len(), n);
    assert!(n > 5);
}

#[test]
fn a_second_responder_is_told_who_drives_and_gets_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let me = LockInfo::current("2026-02-17T04:12:00.000Z");
    let opened = sample::every_kind().remove(0);
    let Session::Driving {
        mut writer, lock, ..
    } = session::start(&path, &me, sample::at(4, 12, 0), opened).unwrap()
    else {
        panic!("first responder drives");
    };
    assert_eq!(mode(&lock::lock_path(&path)), 0o600);
    // A second responder (same host, another live process) resumes: read-only, told who drives.
    let other = LockInfo {
        pid: std::process::id() + 1,
        ..me.clone()
    };
    match session::resume(&path, &other, sample::at(4, 13, 0)).unwrap() {
        Session::ReadOnly { holder, outcome } => {
            assert_eq!(holder, me);
            assert_eq!(outcome.entries.len(), 1);
        }
        Session::Driving { .. } => panic!("two drivers"),
    }
    writer.append(sample::at(4, 13, 1), note(1)).unwrap();
    assert_eq!(
        journal::read(&path).unwrap().entries.len(),
        2,
        "the reader appended nothing"
    );
    drop(lock);
    assert!(!lock::lock_path(&path).exists(), "released on drop");
    match lock::acquire(&path, &other).unwrap() {
        Acquire::Driver(_) => {}
        Acquire::ReadOnly(h) => panic!("lock still held by {h}"),
    }
}

#[test]
fn a_lock_left_by_a_dead_process_is_taken_over_but_a_live_one_is_respected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let me = LockInfo::current("now");
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let held = LockInfo {
        pid: child.id(),
        user: "bob".into(),
        ..me.clone()
    };
    std::fs::write(lock::lock_path(&path), serde_json::to_vec(&held).unwrap()).unwrap();
    match lock::acquire(&path, &me).unwrap() {
        Acquire::ReadOnly(h) => assert_eq!(h, held),
        Acquire::Driver(_) => panic!("took a live driver's lock"),
    }
    // Another host's lock cannot be checked: respected even if that pid is not alive here.
    child.kill().unwrap();
    child.wait().unwrap();
    let remote = LockInfo {
        host: format!("{}-elsewhere", me.host),
        ..held.clone()
    };
    std::fs::write(lock::lock_path(&path), serde_json::to_vec(&remote).unwrap()).unwrap();
    assert!(matches!(
        lock::acquire(&path, &me).unwrap(),
        Acquire::ReadOnly(_)
    ));
    // Same host, dead pid (the responder's SSH session died with it): take over.
    std::fs::write(lock::lock_path(&path), serde_json::to_vec(&held).unwrap()).unwrap();
    let Acquire::Driver(l) = lock::acquire(&path, &me).unwrap() else {
        panic!("stale lock not taken over")
    };
    assert_eq!(l.info(), &me);
}

/// A file that is not a journal at all (thousands of unreadable lines): `report` refuses it
/// (exit 1), names the first problems and how many more, not one warning per line.
#[test]
fn report_of_a_file_that_is_no_journal_names_the_first_problems_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-journal.log");
    let text: String = (0..5000)
        .map(|i| format!("log line {i}: something\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    let out = bin().arg("report").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let warnings = err.lines().filter(|l| l.contains("warning")).count();
    assert!(warnings <= 21, "{warnings} warning lines:\n{err}");
    assert!(
        err.contains("4980 more problem(s)") && err.contains("verify"),
        "{err}"
    );
    // verify still lists every one.
    let v = bin().arg("verify").arg(&path).output().unwrap();
    let listed = String::from_utf8_lossy(&v.stdout).lines().count()
        + String::from_utf8_lossy(&v.stderr).lines().count();
    assert!(listed >= 5000, "verify listed {listed} lines");
}
