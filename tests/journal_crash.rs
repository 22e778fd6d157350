//! A responder's process killed with SIGKILL at random moments: the journal always reads back
//! complete up to the last event the writer reported as recorded (synced), with an intact chain.
//! The child is this test binary re-executed; it prints `ACK <seq>` after each recorded event.
use pm2_incident::incident::event::{Event, Note, OutputLines, Stream};
use pm2_incident::incident::sample;
use pm2_incident::journal::{self, Writer};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "PM2I_CRASH_CHILD";
/// Runs per test; `scripts/crash-harness N` sets this for long runs outside CI.
const RUNS_ENV: &str = "PM2I_CRASH_RUNS";
const DEFAULT_RUNS: usize = 200;

/// Tiny xorshift: no extra dependency, and the seed is printed so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD).map(PathBuf::from) else {
        return;
    };
    let mut rng = Rng(std::process::id() as u64 | 1);
    let mut w = Writer::create(&path).unwrap();
    for i in 0u64.. {
        // Mixed sizes so kills land inside small and large writes.
        let n = (rng.next() % 40) as usize;
        let ev = if i % 3 == 0 {
            Event::OutputLines(OutputLines {
                cmd_id: i,
                stream: Stream::Stdout,
                lines: vec!["x".repeat(80); n],
            })
        } else {
            Event::Note(Note {
                author: "child".into(),
                text: "y".repeat(n * 50),
            })
        };
        let seq = w.append(sample::at(4, 0, 0), ev).unwrap();
        println!("ACK {seq}");
    }
}

#[test]
fn sigkill_at_random_moments_never_loses_a_recorded_event() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let runs: usize = std::env::var(RUNS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let started = Instant::now();
    let (mut torn, mut max_acked) = (0, 0);
    // Counted over every run, then asserted at the end, so a long run reports all failures.
    let (mut lost, mut unreadable, mut failures) = (0u64, 0u64, Vec::new());
    for run in 0..runs {
        let path = dir.path().join(format!("crash-{run}.jsonl"));
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // 0-40 ms: some kills land before the file exists, most mid-stream.
        std::thread::sleep(Duration::from_micros(rng.next() % 40_000));
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        child.wait().unwrap();
        let acked: Option<u64> = out
            .split("ACK ")
            .skip(1)
            .filter_map(|r| r.split_whitespace().next()?.parse().ok())
            .last();
        let Some(acked) = acked else {
            // Killed before the first event was recorded: whatever exists must still be valid.
            if path.exists() {
                match journal::read(&path) {
                    Ok(r) if r.problems.is_empty() => {}
                    Ok(r) => {
                        unreadable += 1;
                        failures.push(format!("run {run}: {:?}", r.problems));
                    }
                    Err(e) => {
                        unreadable += 1;
                        failures.push(format!("run {run}: {e}"));
                    }
                }
            }
            let _ = std::fs::remove_file(&path);
            continue;
        };
        max_acked = max_acked.max(acked);
        let r = match journal::read(&path) {
            Ok(r) => r,
            Err(e) => {
                unreadable += 1;
                lost += acked + 1;
                failures.push(format!("run {run}: {e}"));
                continue;
            }
        };
        if !r.problems.is_empty() {
            unreadable += 1;
            failures.push(format!("run {run}: {:?}", r.problems));
        }
        let n = r.entries.len() as u64;
        // Everything acknowledged is there; at most the one in flight beyond it.
        if n <= acked {
            lost += acked + 1 - n;
            failures.push(format!("run {run}: acked {acked}, read {n}"));
        } else if n > acked + 2 {
            failures.push(format!(
                "run {run}: acked {acked}, read {n} (more than one in flight)"
            ));
        }
        if !r.entries.iter().enumerate().all(|(i, e)| e.seq == i as u64) {
            failures.push(format!("run {run}: sequence numbers not 0..n"));
        }
        torn += r.torn_tail.is_some() as usize;
        let _ = std::fs::remove_file(&path);
    }
    // One line `scripts/crash-harness` reads back.
    eprintln!(
        "CRASH-HARNESS runs={runs} lost_synced_events={lost} unreadable_journals={unreadable} \
         torn_tails={torn} max_events_acked={} elapsed_ms={}",
        max_acked + 1,
        started.elapsed().as_millis()
    );
    assert!(
        failures.is_empty() && lost == 0 && unreadable == 0,
        "seed {seed}: {} failing run(s): {:?}",
        failures.len(),
        failures.iter().take(20).collect::<Vec<_>>()
    );
}
