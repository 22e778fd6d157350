//! Progress over time: drills recorded by the real binary end up in the history in
//! order, `drill --history` shows them with each responder's trend, and a corrupt
//! history line is reported by file:line and left exactly as it was.
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use pm2_incident::drill::history::{self, Record, RestoreTime, World};
use pm2_incident::drill::ExpectedSeverity;
use pm2_incident::incident::event::Severity;
use support::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_pm2-incident");

fn rec(n: i64, who: &str, restore: Option<i64>, dangerous: usize) -> Record {
    Record {
        v: history::VERSION,
        at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap() + chrono::Duration::days(n),
        responder: who.into(),
        scenario: "delete-all".into(),
        site: "projectium.com".into(),
        world: World::Simulated,
        duration_secs: 900,
        severity_after_secs: Some(120 - 10 * n),
        severity_called: Some(Severity::P1),
        severity_expected: ExpectedSeverity::P1,
        severity_correct: Some(true),
        production_restores: vec![
            RestoreTime {
                process: "api".into(),
                after_secs: restore.map(|r| r - 30),
            },
            RestoreTime {
                process: "worker".into(),
                after_secs: restore,
            },
        ],
        priority_order_followed: Some(true),
        gate_respected: Some(true),
        dangerous_attempts: dangerous,
        cautions_confirmed: 0,
        empty_daemon_starts: 0,
        evidence_saved_after_secs: Some(40),
        evidence_saved_before_changes: true,
        comms_sent: 1,
        root_cause_named: true,
        journal: None,
    }
}

#[test]
fn trends_follow_each_responder_oldest_first() {
    let rs = vec![
        rec(0, "ana", Some(700), 2),
        rec(1, "bo", Some(300), 0),
        rec(2, "ana", Some(400), 1),
        rec(3, "ana", Some(100), 0),
    ];
    let t = history::trends(&rs);
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].responder.as_str(), t[0].drills), ("ana", 3));
    assert_eq!(t[0].restore_secs, [Some(700), Some(400), Some(100)]);
    assert_eq!(t[0].restore_change_secs, Some(-600));
    assert_eq!(t[0].mistakes, [2, 1, 0]);
    assert_eq!(t[0].restore_spark.chars().count(), 3);
    assert_eq!(t[0].restore_spark.chars().next(), Some('█'));
    assert!(t[0].restore_spark.chars().nth(2) < t[0].restore_spark.chars().nth(1));
    assert_eq!(
        (t[1].responder.as_str(), t[1].restore_change_secs),
        ("bo", None)
    );
    // A production process never restored: no restore time, a gap in the line.
    let unrestored = rec(4, "cy", None, 0);
    assert_eq!(unrestored.production_restored_secs(), None);
    assert_eq!(history::sparkline(&[Some(10), None, Some(0)]), "█·▁");
}

#[test]
fn corrupt_line_is_reported_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pm2-incident/drills.jsonl");
    history::append(&path, &rec(0, "ana", Some(500), 0)).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A torn last line (no newline), as a crash or a hand edit leaves it.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"v\":1,\"at\":\"2026-03-02T10:0");
    std::fs::write(&path, &text).unwrap();
    history::append(&path, &rec(1, "ana", Some(300), 0)).unwrap();
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.starts_with(&text),
        "the bad line is kept byte for byte"
    );
    let h = history::read(&path).unwrap();
    assert_eq!(h.records.len(), 2);
    assert_eq!(h.bad.len(), 1);
    assert_eq!(h.bad[0].line, 2);
    // The command reports it (file:line), still shows the good ones, exits 1, and the
    // file is unchanged.
    let out = Command::new(BIN)
        .args(["drill", "--history"])
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2: not a drill record", path.display())),
        "{stderr}"
    );
    assert_eq!(stdout.matches("delete-all").count(), 3, "{stdout}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
}

/// One short drill in tmux: accept the proposed severity, quit, leave the debrief.
fn short_drill(state: &Path, tmp: &Path, scenario: &str, who: &str, restore: bool) {
    let cmd = format!(
        "cd {t}; TMPDIR={t} XDG_STATE_HOME={s} {BIN} drill {scenario} --responder {who}; echo EXITED $?; sleep 60",
        t = tmp.display(),
        s = state.display()
    );
    let t = Tmux::start(&format!("hist-{scenario}-{who}"), 120, 36, &cmd);
    let long = Duration::from_secs(30);
    t.wait_text("any key starts", long);
    t.keys(&["Space"]);
    t.wait_text("l/h step", long);
    for _ in 0..5 {
        t.keys(&["l"]);
    }
    t.wait_text("Classify Severity", long);
    // Enter accepts once the first reading gave the assessment something to propose.
    t.wait_text("Enter: accept P1", long);
    t.keys(&["Enter"]);
    t.wait_text("Critical", long);
    if restore {
        t.keys(&[":"]);
        t.type_text(
            "cd $HOME/var/www/flyer-crawler.projectium.com && pm2 start ecosystem.config.cjs",
        );
        t.keys(&["Enter"]);
        t.wait_text("exit 0", long);
    }
    t.keys(&["q"]);
    t.wait_text("Drill debrief", long);
    t.keys(&["q"]);
    t.wait_text("EXITED 0", long);
}

#[test]
fn three_drills_recorded_show_in_order_with_the_trend() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    short_drill(&state, dir.path(), "delete-all", "ana", false);
    short_drill(&state, dir.path(), "daemon-killed", "bo", false);
    short_drill(&state, dir.path(), "delete-all", "ana", true);
    let out = Command::new(BIN)
        .args(["drill", "--history"])
        .env("XDG_STATE_HOME", &state)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" ana ") || l.contains(" bo "))
        .filter(|l| l.starts_with("20"))
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows[0].contains("delete-all") && rows[0].contains("P1✓"),
        "{text}"
    );
    assert!(
        rows[1].contains("daemon-killed") && rows[1].contains(" bo "),
        "{text}"
    );
    assert!(rows[2].contains("delete-all"), "{text}");
    assert!(text.contains("ana · delete-all (2 drills)"), "{text}");
    assert!(text.contains("bo · daemon-killed (1 drill)"), "{text}");
    // JSON for a team's own records: the same three, in order, with the trend.
    let out = Command::new(BIN)
        .args(["drill", "--history", "--json"])
        .env("XDG_STATE_HOME", &state)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let recs = v["records"].as_array().unwrap();
    let ids: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["responder"].as_str().unwrap(),
                r["scenario"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("ana", "delete-all"),
            ("bo", "daemon-killed"),
            ("ana", "delete-all")
        ]
    );
    assert_eq!(recs[0]["severity_called"], "P1");
    assert_eq!(recs[0]["severity_correct"], true);
    let trend = &v["trends"][0];
    assert_eq!(trend["drills"], 2);
    assert_eq!(trend["severity_spark"].as_str().unwrap().chars().count(), 2);
    assert!(v["bad_lines"].as_array().unwrap().is_empty());
    // The simulated servers are gone.
    let left = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pm2-incident-drill")
        })
        .count();
    assert_eq!(left, 0);
}
