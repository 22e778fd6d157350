//! Journal costs: append rate with `sync_data` per event, reading + folding a 100k-event journal,
//! building the replay checkpoints, and seeking to an arbitrary event.
//! Run: `cargo bench --bench journal`. Results are recorded in BENCHMARKS.md.
use chrono::Duration;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pm2_incident::incident::event::*;
use pm2_incident::incident::sample::{at, row};
use pm2_incident::incident::seek::{Cursor, Replay, DEFAULT_CHECKPOINT_EVERY};
use pm2_incident::incident::{fold, Entry};
use pm2_incident::journal::line::{encode, hash, GENESIS};
use pm2_incident::journal::{self, Writer};
use std::hint::black_box;
use std::path::Path;

const EVENTS: usize = 100_000;

/// A plausible long incident: observations of 8 processes, health checks, commands with output.
fn event(i: usize) -> Event {
    let names = [
        "flyer-crawler-api",
        "flyer-crawler-worker",
        "flyer-crawler-analytics-worker",
        "stock-alert-api",
        "stock-alert-scheduler",
        "flyer-crawler-api-test",
        "flyer-crawler-worker-test",
        "flyer-crawler-analytics-worker-test",
    ];
    let cmd = (i / 10) as u64;
    match i % 10 {
        0 => Event::Pm2Observation(Observation {
            source: "rpc".into(),
            processes: names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    row(
                        k as u32,
                        n,
                        if (i / 10 + k).is_multiple_of(7) {
                            "errored"
                        } else {
                            "online"
                        },
                    )
                })
                .collect(),
        }),
        1 => Event::HealthResult(HealthResult {
            url: "https://flyer-crawler.projectium.com/api/health/ready".into(),
            app: "flyer-crawler".into(),
            env: "production".into(),
            status_code: Some(if i % 20 == 1 { 502 } else { 200 }),
            verdict: if i % 20 == 1 {
                pm2_incident::health::Verdict::BadGateway { code: 502 }
            } else {
                pm2_incident::health::Verdict::Healthy
            },
            up: i % 20 != 1,
            latency_ms: Some(40),
        }),
        2 => Event::CommandStarted(CommandStarted {
            cmd_id: cmd,
            text: "pm2 logs flyer-crawler-api --lines 20 --nostream".into(),
            dir: Some("/var/www/flyer-crawler.projectium.com".into()),
            guard: GuardVerdict {
                class: pm2_incident::guard::Class::Safe,
                reason: "read-only".into(),
            },
            confirmed_by: None,
        }),
        3..=7 => Event::OutputLines(OutputLines {
            cmd_id: cmd,
            stream: Stream::Stdout,
            lines: vec![
                "0|flyer-cr | 2026-02-17T04:12:00: GET /api/health/ready 502 3.1 ms - 64"
                    .into();
                4
            ],
        }),
        8 => Event::CommandFinished(CommandFinished {
            cmd_id: cmd,
            exit_code: Some(0),
            signal: None,
            duration_ms: 412,
            output_lines_dropped: 0,
            timed_out: false,
        }),
        _ => Event::Note(Note {
            author: "alice".into(),
            text: format!("checked item {i}"),
        }),
    }
}

/// The 100k fixture is encoded with the journal's own line format and chain, then written in
/// one go: appending it through the Writer would spend minutes in `sync_data` alone.
fn write_journal(path: &Path, n: usize) {
    let mut prev = GENESIS.to_string();
    let mut out = String::new();
    for i in 0..n {
        let ts = at(4, 0, 0) + Duration::milliseconds(i as i64 * 250);
        let line = encode(i as u64, ts, &prev, &event(i));
        prev = hash(line.as_bytes());
        out.push_str(&line);
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Writer::create(&dir.path().join("append.jsonl")).unwrap();
    let mut g = c.benchmark_group("journal_append_sync");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("note", |b| {
        b.iter(|| {
            i += 1;
            w.append(
                at(4, 0, 0),
                Event::Note(Note {
                    author: "alice".into(),
                    text: format!("n{i}"),
                }),
            )
            .unwrap()
        })
    });
    g.bench_function("observation_8_processes", |b| {
        b.iter(|| {
            i += 1;
            w.append(at(4, 0, 0), event(i * 10)).unwrap()
        })
    });
    g.finish();
}

fn read_fold_seek(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("100k.jsonl");
    write_journal(&path, EVENTS);
    let bytes = std::fs::metadata(&path).unwrap().len();
    eprintln!("100k-event journal: {bytes} bytes");
    let mut g = c.benchmark_group("journal_100k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.bench_function("read_verify", |b| {
        b.iter(|| journal::read(black_box(&path)).unwrap().entries.len())
    });
    let read = journal::read(&path).unwrap();
    assert!(read.is_intact(), "fixture chain must verify");
    let entries: Vec<Entry> = read.entries;
    g.bench_function("fold", |b| b.iter(|| fold(black_box(&entries)).events));
    g.bench_function("read_verify_fold", |b| {
        b.iter(|| fold(&journal::read(black_box(&path)).unwrap().entries).events)
    });
    g.bench_function("build_replay_checkpoints", |b| {
        b.iter(|| Replay::new(entries.clone(), DEFAULT_CHECKPOINT_EVERY).len())
    });
    g.finish();

    let replay = Replay::new(entries.clone(), DEFAULT_CHECKPOINT_EVERY);
    let mut g = c.benchmark_group("journal_100k_seek");
    let mut x = 0x2545f4914f6cdd1du64;
    g.bench_function("state_at_random_event", |b| {
        b.iter(|| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            replay.state_at((x % EVENTS as u64) as usize).events
        })
    });
    let mut cursor = Cursor::default();
    replay.seek(&mut cursor, 50_000);
    g.bench_function("cursor_step_forward_one_event", |b| {
        b.iter(|| {
            let next = if cursor.position() >= EVENTS {
                50_000
            } else {
                cursor.position() + 1
            };
            replay.seek(&mut cursor, next);
            cursor.state().events
        })
    });
    g.bench_function("cursor_step_back_one_event", |b| {
        b.iter(|| {
            let back = if cursor.position() <= 1 {
                50_000
            } else {
                cursor.position() - 1
            };
            replay.seek(&mut cursor, back);
            cursor.state().events
        })
    });
    g.bench_function("state_at_worst_case_999_after_checkpoint", |b| {
        b.iter(|| replay.state_at(black_box(98_999)).events)
    });
    g.bench_function("full_refold_to_event_99999_for_comparison", |b| {
        b.iter(|| fold(&entries[..99_999]).events)
    });
    g.finish();
}

criterion_group!(benches, append, read_fold_seek);
criterion_main!(benches);
