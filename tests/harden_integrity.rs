//! Issue 18 items 6 and 8: recorded text cannot drive the reader's terminal (OSC 0, OSC 52,
//! CSI, C1 in a process name, a note and command output), and a journal cut at its end or
//! edited is caught by `verify --head` and marked by `report`, which then exits non-zero.
use pm2_incident::incident::event::{Event, Note, OutputLines, Stream};
use pm2_incident::incident::sample;
use pm2_incident::journal::reader::Head;
use pm2_incident::journal::{self, Writer};
use std::path::Path;
use std::process::Command;

const OSC0: &str = "\x1b]0;pwned-title\x07";
const OSC52: &str = "\x1b]52;c;cm0gLXJmIH4=\x1b\\";
const CSI: &str = "\x1b[2J\x1b[H";
const C1: &str = "\u{9b}31m";

fn bin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The runbook's incident with hostile text in a process name, a note and command output.
fn hostile_journal(path: &Path) {
    let mut w = Writer::create(path).unwrap();
    for (ts, mut ev) in sample::runbook_incident() {
        if let Event::Pm2Observation(o) = &mut ev {
            if let Some(p) = o.processes.first_mut() {
                p.name = format!("api{OSC0}{C1}");
            }
        }
        w.append(ts, ev).unwrap();
    }
    let ts = sample::at(5, 0, 0);
    w.append(
        ts,
        Event::Note(Note {
            author: "x".into(),
            text: format!("copy this {OSC52}"),
        }),
    )
    .unwrap();
    w.append(
        ts,
        Event::OutputLines(OutputLines {
            cmd_id: 1,
            stream: Stream::Stdout,
            lines: vec![format!("out {CSI} \x7f")],
        }),
    )
    .unwrap();
}

fn assert_clean(what: &str, s: &str) {
    for bad in ['\x1b', '\x07', '\u{9b}', '\x7f'] {
        assert!(!s.contains(bad), "{what} contains {bad:?}:\n{s}");
    }
}

#[test]
fn report_and_verify_escape_terminal_sequences() {
    let d = tempfile::tempdir().unwrap();
    let j = d.path().join("j\x1b]0;x\x07.jsonl");
    hostile_journal(&j);
    let (code, out, err) = bin(&["report", j.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_clean("report", &out);
    assert_clean("report stderr", &err);
    assert!(
        out.contains("copy this \\x1b]52;c;"),
        "note not shown escaped"
    );
    let (_, out, err) = bin(&["verify", j.to_str().unwrap()]);
    assert_clean("verify", &out);
    assert_clean("verify stderr", &err);
    // The report written to a file is escaped too (someone will `cat` it).
    let md = d.path().join("r.md");
    bin(&["report", j.to_str().unwrap(), "-o", md.to_str().unwrap()]);
    assert_clean("report file", &std::fs::read_to_string(&md).unwrap());
}

#[test]
fn verify_head_catches_a_removed_last_line_and_an_edit() {
    let d = tempfile::tempdir().unwrap();
    let j = d.path().join("j.jsonl");
    hostile_journal(&j);
    let head = Head::of(&journal::read(&j).unwrap());
    let jp = j.to_str().unwrap();
    let (code, out, _) = bin(&["verify", "--head", &head.hash, jp]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing removed or changed"), "{out}");
    // Remove the last line: the chain alone still verifies, the head does not.
    let text = std::fs::read_to_string(&j).unwrap();
    let cut = &text[..text[..text.len() - 1].rfind('\n').unwrap() + 1];
    std::fs::write(&j, cut).unwrap();
    let (code, out, _) = bin(&["verify", jp]);
    assert_eq!(code, 0, "without the head a cut is invisible: {out}");
    let (code, out, _) = bin(&["verify", "--head", &head.hash, jp]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAILED") && out.contains("is not in the journal"),
        "{out}"
    );
    // A malformed head is a usage error, not a verdict.
    let (code, _, err) = bin(&["verify", "--head", "abc", jp]);
    assert_eq!(code, 2);
    assert!(err.contains("64 hex digits"), "{err}");
    // Appending after the head is not tampering.
    let short_head = Head::of(&journal::read(&j).unwrap());
    let mut w = Writer::resume(&j).unwrap().0;
    w.append(
        sample::at(6, 0, 0),
        Event::Note(Note {
            author: "a".into(),
            text: "later".into(),
        }),
    )
    .unwrap();
    let (code, out, _) = bin(&["verify", "--head", &short_head.hash, jp]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 line(s) appended since"), "{out}");
}

#[test]
fn report_on_a_tampered_journal_says_so_first_and_exits_non_zero() {
    let d = tempfile::tempdir().unwrap();
    let j = d.path().join("j.jsonl");
    hostile_journal(&j);
    let jp = j.to_str().unwrap();
    let (code, out, _) = bin(&["report", jp]);
    assert_eq!(code, 0);
    let head = Head::of(&journal::read(&j).unwrap());
    assert!(
        out.contains(&format!("Journal head: {head}")),
        "head not in the report"
    );
    // Edit a value in the middle: the chain breaks at the next line.
    let text = std::fs::read_to_string(&j).unwrap();
    std::fs::write(&j, text.replacen("\"copy this ", "\"paste this ", 1)).unwrap();
    let (code, out, err) = bin(&["report", jp]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.lines().next().unwrap().contains("FAILED VERIFICATION"),
        "first line: {}",
        out.lines().next().unwrap()
    );
    assert!(err.contains("--allow-tampered"), "{err}");
    let (code, out, _) = bin(&["report", "--allow-tampered", jp]);
    assert_eq!(code, 0);
    assert!(out.starts_with("> **WARNING: THIS JOURNAL FAILED VERIFICATION**"));
}
