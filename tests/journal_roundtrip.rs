//! Every event kind survives the journal byte for byte; the line format is the documented one.
use pm2_incident::incident::event::{Event, UnknownEvent, KNOWN_KINDS};
use pm2_incident::incident::sample;
use pm2_incident::journal::line::{decode, encode, GENESIS};
use pm2_incident::journal::{self, Writer};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

#[test]
fn samples_cover_every_known_kind() {
    let events = sample::every_kind();
    let kinds: BTreeSet<&str> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds.len(), events.len(), "one sample per kind");
    for e in &events {
        assert_eq!(
            e.to_object()["kind"],
            e.kind(),
            "kind() matches the serialized tag"
        );
    }
    let known: BTreeSet<&str> = KNOWN_KINDS.iter().copied().collect();
    assert_eq!(kinds, known);
}

#[test]
fn every_kind_round_trips_through_a_journal_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.jsonl");
    let mut w = Writer::create(&path).unwrap();
    let events = sample::every_kind();
    let t0 = sample::at(4, 0, 0);
    for (i, ev) in events.iter().enumerate() {
        // Sub-millisecond parts are dropped on write: the journal keeps milliseconds.
        let ts = t0 + chrono::Duration::microseconds(i as i64 * 1_234_567 + 999);
        assert_eq!(w.append(ts, ev.clone()).unwrap(), i as u64);
    }
    let r = journal::read(&path).unwrap();
    assert!(r.is_intact(), "{:?}", r.problems);
    assert_eq!(r.entries.len(), events.len());
    for (i, (e, ev)) in r.entries.iter().zip(&events).enumerate() {
        assert_eq!(&e.event, ev, "kind {}", ev.kind());
        let want = t0 + chrono::Duration::milliseconds((i as i64 * 1_234_567 + 999) / 1000);
        assert_eq!(e.ts, want);
    }
}

#[test]
fn line_format_is_seq_ts_prev_then_the_event_and_chains_by_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.jsonl");
    let mut w = Writer::create(&path).unwrap();
    for ev in sample::every_kind().into_iter().take(3) {
        w.append(sample::at(4, 12, 0), ev).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    let mut prev = GENESIS.to_string();
    for (i, l) in lines.iter().enumerate() {
        let head = format!(
            "{{\"seq\":{i},\"ts\":\"2026-02-17T04:12:00.000Z\",\"prev\":\"{prev}\",\"kind\":\""
        );
        assert!(l.starts_with(&head), "line {i}: {l}");
        prev = hex::encode(Sha256::digest(l.as_bytes()));
    }
    assert!(text.ends_with('\n'));
}

#[test]
fn unknown_future_kinds_are_kept_verbatim() {
    let line = br#"{"seq":0,"ts":"2026-02-17T04:12:00.000Z","prev":"00","kind":"pager_escalated","to":"secondary","n":[1,2]}"#;
    let d = decode(line).unwrap();
    let Event::Unknown(UnknownEvent { kind, fields }) = &d.event else {
        panic!("{:?}", d.event)
    };
    assert_eq!(kind, "pager_escalated");
    assert_eq!(fields["to"], "secondary");
    // Written again (e.g. copied by a newer tool's export), it is the same event.
    let again = encode(0, d.ts, "00", &d.event);
    assert_eq!(decode(again.as_bytes()).unwrap().event, d.event);
}

#[test]
fn a_malformed_known_event_is_reported_with_its_line_and_the_rest_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.jsonl");
    let mut w = Writer::create(&path).unwrap();
    for ev in sample::every_kind().into_iter().take(4) {
        w.append(sample::at(4, 12, 0), ev).unwrap();
    }
    drop(w);
    // Line 2 becomes a `note` missing its text: same bytes length, different meaning.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[1] = lines[1].replacen("\"kind\":\"pm2_observation\"", "\"kind\":\"note\"", 1);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let r = journal::read(&path).unwrap();
    assert_eq!(r.entries.len(), 3);
    let msgs: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        msgs[0].starts_with("line 2: unreadable: event of kind `note` is malformed"),
        "{msgs:?}"
    );
    assert!(msgs[1].starts_with("line 3: hash chain broken"), "{msgs:?}");
}

#[test]
fn mangled_journals_never_panic_the_reader_fold_or_report() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/journal/inc-20260217-0412.jsonl");
    let good = std::fs::read(path).unwrap();
    let mut x = 0x853c49e6748fea9bu64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..300 {
        let mut bad = good.clone();
        for _ in 0..(rnd() % 8 + 1) {
            let i = (rnd() % bad.len() as u64) as usize;
            match rnd() % 3 {
                0 => bad[i] = rnd() as u8,
                1 => bad.truncate(i),
                _ => bad.insert(i, b"\n{}\"\\\xff"[(rnd() % 6) as usize]),
            }
            if bad.is_empty() {
                break;
            }
        }
        let r = pm2_incident::journal::reader::parse(&bad);
        let md = pm2_incident::incident::report::render(&pm2_incident::incident::fold(&r.entries));
        assert!(md.starts_with('#'));
    }
}
