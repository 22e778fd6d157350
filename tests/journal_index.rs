//! The replay index over a real journal file: states through the index equal a full fold, and a
//! journal that grows while it is being indexed (replay --follow) is indexed to its end.
use pm2_incident::incident::seek::Replay;
use pm2_incident::incident::{fold, Entry, Incident};
use pm2_incident::journal::index::{index, FileSource, Progress};
use pm2_incident::journal::scan::ScanOptions;
use pm2_incident::journal::synth::write_journal;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn indexed(path: &Path, every: usize) -> Replay {
    let mut r = Replay::from_source(Box::new(FileSource::new(path)), every);
    index(path, every, false, ScanOptions::default(), |p| {
        match p {
            Progress::Chunk { chunk, .. } => r.extend(*chunk),
            Progress::Done(out) => assert!(out.is_intact(), "{:?}", out.problems.first()),
            Progress::Failed(e) => panic!("{e}"),
        }
        true
    });
    r
}

#[test]
fn state_at_random_events_of_a_100k_journal_equals_the_full_fold() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("week.jsonl");
    write_journal(std::fs::File::create(&p).unwrap(), 100_000).unwrap();
    let r = indexed(&p, pm2_incident::incident::seek::DEFAULT_CHECKPOINT_EVERY);
    assert_eq!(r.len(), 100_000);
    let entries: Vec<Entry> = pm2_incident::journal::read(&p).unwrap().entries;
    let mut rng = 0x2545f4914f6cdd1du64;
    let mut ks: Vec<usize> = (0..12)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % 100_001) as usize
        })
        .chain([0, 255, 256, 99_999, 100_000])
        .collect();
    ks.sort_unstable();
    // One pass of the full fold, compared at each k.
    let mut inc = Incident::default();
    let mut at = 0;
    for k in ks {
        for e in &entries[at..k] {
            inc.apply(e);
        }
        at = k;
        let mut got = r.state_at(k);
        r.hydrate_all(&mut got); // output is read back from the file
        assert_eq!(got, inc, "state after {k} events");
    }
    let mut last = r.last().clone();
    r.hydrate_all(&mut last);
    assert_eq!(last, fold(&entries));
}

#[test]
fn a_journal_growing_while_indexed_is_followed_to_its_end() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("live.jsonl");
    let mut all = Vec::new();
    write_journal(&mut all, 6_000).unwrap();
    let cut = |n: usize| {
        all.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(n - 1)
            .map(|(i, _)| i + 1)
            .unwrap()
    };
    let (a, b) = (cut(3_000), cut(4_500));
    std::fs::write(&p, &all[..a]).unwrap();
    let (tx, rx) = mpsc::channel();
    let path = p.clone();
    std::thread::spawn(move || {
        index(&path, 64, true, ScanOptions::default(), |pr| {
            tx.send(pr).is_ok()
        })
    });
    let mut r = Replay::from_source(Box::new(FileSource::new(&p)), 64);
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    // Appended in pieces, one of them ending mid-line (a write in progress).
    f.write_all(&all[a..b + 40]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut appended_rest = false;
    while r.len() < 6_000 {
        assert!(
            Instant::now() < deadline,
            "followed only {} events",
            r.len()
        );
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Progress::Chunk { chunk, .. }) => r.extend(*chunk),
            Ok(Progress::Done(_)) => {}
            Ok(Progress::Failed(e)) => panic!("{e}"),
            Err(_) => {}
        }
        if r.len() >= 4_500 && !appended_rest {
            f.write_all(&all[b + 40..]).unwrap();
            appended_rest = true;
        }
    }
    assert_eq!(r.len(), 6_000);
    let entries = pm2_incident::journal::read(&p).unwrap().entries;
    let mut mid = r.state_at(4_321);
    r.hydrate_all(&mut mid);
    assert_eq!(mid, fold(&entries[..4_321]));
    let mut last = r.last().clone();
    r.hydrate_all(&mut last);
    assert_eq!(last, fold(&entries));
    drop(rx); // the indexer ends at its next send
}
