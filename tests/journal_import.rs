//! A raw `pm2 jlist` dump opens as a one-observation incident with the environment stripped:
//! the canary secret in the dump never reaches the journal or the report. Checked on a recorded
//! dump and on a dump taken from a real PM2 (the shared fixture, throwaway PM2_HOME).
mod support;

use pm2_incident::incident::event::Event;
use pm2_incident::incident::{fold, report};
use pm2_incident::journal::import::{import_jlist, load_any, ts_from_name};
use pm2_incident::journal::{self};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::pm2_fixture::Pm2Fixture;

const CANARY: &str = "CANARY-7f3a9c-pm2i-do-not-leak";

fn dump() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/journal/pm2-incident-20260217-041240.json")
}

/// Imports `dump` to a journal and renders reports both ways; returns every byte produced.
fn everything_produced(dump: &Path, dir: &Path) -> Vec<u8> {
    let journal = dir.join("imported.jsonl");
    import_jlist(dump, &journal).unwrap();
    assert_eq!(
        std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut all = std::fs::read(&journal).unwrap();
    let from_journal = report::render(&fold(&journal::read(&journal).unwrap().entries));
    let from_dump = report::render(&fold(load_any(dump).unwrap().entries()));
    assert_eq!(
        from_journal, from_dump,
        "the dump and its imported journal tell the same story"
    );
    all.extend_from_slice(from_journal.as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .arg("report")
        .arg(dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    all.extend_from_slice(&out.stdout);
    all.extend_from_slice(&out.stderr);
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn recorded_dump_becomes_one_observation_without_secrets() {
    assert!(
        contains(&std::fs::read(dump()).unwrap(), CANARY),
        "the fixture must carry the canary"
    );
    let dir = tempfile::tempdir().unwrap();
    let produced = everything_produced(&dump(), dir.path());
    assert!(!contains(&produced, CANARY), "canary leaked");
    assert!(!contains(&produced, "DB_PASSWORD") && !contains(&produced, "node_args"));

    let loaded = load_any(&dump()).unwrap();
    let entries = loaded.entries();
    assert_eq!(entries.len(), 2);
    assert!(
        matches!(&entries[0].event, Event::IncidentOpened(o) if o.incident_id == "IMPORT-20260217-041240")
    );
    let Event::Pm2Observation(obs) = &entries[1].event else {
        panic!("{:?}", entries[1])
    };
    let summary: Vec<_> = obs
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.status.as_str(), p.pid, p.restarts))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("flyer-crawler-api", "errored", None, 15),
            ("flyer-crawler-worker", "online", Some(4101), 0),
            ("stock-alert-api", "stopped", None, 2),
        ]
    );
    assert_eq!(
        entries[1].ts,
        ts_from_name("pm2-incident-20260217-041240.json").unwrap()
    );
    let md = report::render(&fold(entries));
    assert!(
        md.contains("| flyer-crawler-api | 0 ms | 1 | 04:12:40 | - | DOWN |"),
        "{md}"
    );
}

#[test]
fn a_broken_dump_is_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pm2-incident-x.json");
    std::fs::write(&p, format!(r#"[{{"name": "a", "pm_id": "{CANARY}"}}]"#)).unwrap();
    let e = load_any(&p).err().unwrap().to_string();
    assert!(
        e.contains("pm2-incident-x.json") && e.contains("process #0: `pm_id` has the wrong type"),
        "{e}"
    );
    assert!(!e.contains(CANARY), "errors never echo dump content");
    std::fs::write(&p, "[{\"name\": ").unwrap();
    let e = load_any(&p).err().unwrap().to_string();
    assert!(e.contains("not a valid pm2 jlist dump"), "{e}");
}

#[test]
fn dump_from_a_real_pm2_keeps_its_canary_out() {
    let fx = Pm2Fixture::start(&["flyer-crawler-api", "crash-at-start"]);
    let out = fx.pm2_cmd(&["jlist"]);
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("pm2-incident-20260217-041240.json");
    std::fs::write(&dump, &out.stdout).unwrap();
    drop(out);
    assert!(
        contains(&std::fs::read(&dump).unwrap(), &fx.canary),
        "PM2 put the canary in jlist"
    );
    let produced = everything_produced(&dump, dir.path());
    assert!(!contains(&produced, &fx.canary), "canary leaked");
    let names: Vec<String> = match &load_any(&dump).unwrap().entries()[1].event {
        Event::Pm2Observation(o) => o
            .processes
            .iter()
            .map(|p| format!("{} {}", p.name, p.status))
            .collect(),
        other => panic!("{other:?}"),
    };
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("flyer-crawler-api online")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("crash-at-start ")),
        "{names:?}"
    );
}

/// The dump is read as it streams: cut anywhere or with a byte changed, it opens or fails
/// with an error naming the file, never a panic, and no error quotes the dump (its env holds
/// secrets).
#[test]
fn a_cut_or_damaged_dump_fails_cleanly_without_quoting_it() {
    let bytes = std::fs::read(dump()).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains(CANARY));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pm2-incident-20260217-041240.json");
    let step = (bytes.len() / 200).max(1);
    let mut failed = 0;
    for cut in (1..bytes.len()).step_by(step) {
        for damage in [None, Some(b'"'), Some(b'}'), Some(b'9')] {
            let mut b = bytes[..cut].to_vec();
            if let Some(x) = damage {
                b.extend_from_slice(&bytes[cut..]);
                b[cut] = x;
            }
            std::fs::write(&p, &b).unwrap();
            match load_any(&p) {
                Ok(_) => {}
                Err(e) => {
                    failed += 1;
                    let e = e.to_string();
                    assert!(e.contains("pm2-incident-20260217-041240.json"), "{e}");
                    assert!(!e.contains(CANARY), "{e}");
                }
            }
        }
    }
    assert!(failed > 100, "cut dumps are errors ({failed})");
}
