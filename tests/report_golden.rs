//! The postmortem from a recorded journal (the runbook's own incident) against a golden file,
//! and the format compatibility of that recording.
use pm2_incident::incident::event::{Event, Mode};
use pm2_incident::incident::{fold, report, sample};
use pm2_incident::journal::{self, Writer};
use std::path::PathBuf;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal/inc-20260217-0412.jsonl")
}

/// Writes the fixture from `sample::runbook_incident()`; run once with PM2I_WRITE_FIXTURE=1.
fn write_fixture_if_asked() {
    if std::env::var_os("PM2I_WRITE_FIXTURE").is_none() {
        return;
    }
    let _ = std::fs::remove_file(fixture());
    let mut w = Writer::create(&fixture()).unwrap();
    for (ts, ev) in sample::runbook_incident() {
        w.append(ts, ev).unwrap();
    }
}

#[test]
fn recorded_journal_reads_back_as_the_events_that_were_recorded() {
    write_fixture_if_asked();
    let r = journal::read(&fixture()).unwrap();
    assert!(
        r.is_intact(),
        "problems: {:?} torn: {:?}",
        r.problems,
        r.torn_tail
    );
    let expected = sample::runbook_incident();
    assert_eq!(r.entries.len(), expected.len());
    for (i, (e, (ts, ev))) in r.entries.iter().zip(expected).enumerate() {
        assert_eq!(e.seq, i as u64);
        assert_eq!(e.ts, ts, "ts of seq {i}");
        assert_eq!(e.event, ev, "event of seq {i}");
    }
    // The recording holds a kind from a newer tool; it is kept, not fatal.
    assert!(r
        .entries
        .iter()
        .any(|e| matches!(&e.event, Event::Unknown(u) if u.kind == "pager_escalated")));
}

#[test]
fn report_matches_golden() {
    write_fixture_if_asked();
    let r = journal::read(&fixture()).unwrap();
    let md = report::render(&fold(&r.entries));
    insta::assert_snapshot!("inc_20260217_0412_report", md);
}

#[test]
fn report_numbers_come_from_the_events() {
    let r = journal::read(&fixture()).unwrap();
    let md = report::render(&fold(&r.entries));
    // Impact started 04:05:12 (back-dated), detected 04:11:30, acknowledged 04:12:02,
    // mitigated 04:16:10, resolved 04:21:00.
    assert!(
        md.contains("| Time to detect | impact started | detected | 6m 18s |"),
        "{md}"
    );
    assert!(md.contains("| Time to acknowledge | detected | acknowledged | 32.0 s |"));
    assert!(md.contains("| Time to mitigate | impact started | mitigated | 10m 58s |"));
    assert!(md.contains("| Time to resolve | impact started | resolved | 15m 48s |"));
    // Production: down from impact start until its health check passed at 04:15:30.
    assert!(md.contains("| flyer-crawler (production) | 10m 18s | 1 | 04:05:12 (impact start) | 04:15:30 | UP |"), "{md}");
    // Every command in the appendix with exit and duration.
    assert!(md.contains("| 6 | 04:20:00 | `pm2 save` | - | caution | exit 0 | 380 ms |"));
    assert!(md.contains("| Duration | 25 minutes 48 seconds |"));
}

#[test]
fn drills_are_labelled_and_excluded_from_metrics() {
    let mut entries = journal::read(&fixture()).unwrap().entries;
    if let Event::IncidentOpened(o) = &mut entries[0].event {
        o.mode = Mode::Drill;
    }
    let md = report::render(&fold(&entries));
    assert!(
        md.starts_with("# [DRILL] Incident Report: "),
        "{}",
        &md[..80]
    );
    assert!(md.contains("| Mode | DRILL |"));
    assert!(md.contains("DRILL: excluded from incident metrics."));
}
