//! Measures the replay index of a journal the way `replay` builds it (same code, no terminal):
//!   replay_probe index FILE [SEEKS [THREADS]] — index to the end; time, snapshots, peak RSS, seek times
//!   replay_probe decode FILE         — one thread: hash only, decode only (where time goes)
//! Numbers go to BENCHMARKS.md (issue #19); inputs from `scripts/gen-journal`.
use pm2_incident::incident::seek::{Cursor, Replay, DEFAULT_CHECKPOINT_EVERY};
use pm2_incident::journal::index::{index, FileSource, Progress};
use pm2_incident::journal::line::{decode, hash};
use pm2_incident::journal::scan::ScanOptions;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// Live heap bytes, to split the index's memory into its parts (RSS alone cannot).
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn peak_heap_mb() -> f64 {
    PEAK.load(Relaxed) as f64 / 1048576.0
}

fn live_mb() -> f64 {
    LIVE.load(Relaxed) as f64 / 1048576.0
}

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(file)) = (args.first(), args.get(1)) else {
        eprintln!("usage: replay_probe index FILE [SEEKS] | replay_probe decode FILE");
        return ExitCode::from(2);
    };
    let path = Path::new(file);
    match mode.as_str() {
        "index" => {
            let seeks: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
            let t = Instant::now();
            let mut r =
                Replay::from_source(Box::new(FileSource::new(path)), DEFAULT_CHECKPOINT_EVERY);
            let mut first = None;
            let mut failed = None;
            let opts = match args.get(3).and_then(|s| s.parse().ok()) {
                Some(threads) => ScanOptions { threads },
                None => ScanOptions::default(),
            };
            let mut take = |p: Progress| match p {
                Progress::Chunk { chunk, .. } => {
                    r.extend(*chunk);
                    first.get_or_insert(t.elapsed());
                }
                Progress::Done(_) => {}
                Progress::Failed(e) => failed = Some(e),
            };
            if std::env::var_os("PROBE_THREADED").is_some() {
                // As the app does: the index on its own thread, chunks taken on this one.
                let (tx, rx) = std::sync::mpsc::channel();
                let p = path.to_path_buf();
                std::thread::spawn(move || {
                    index(&p, DEFAULT_CHECKPOINT_EVERY, false, opts, |m| {
                        tx.send(m).is_ok()
                    })
                });
                rx.into_iter().for_each(&mut take);
            } else {
                index(path, DEFAULT_CHECKPOINT_EVERY, false, opts, |m| {
                    take(m);
                    true
                });
            }
            if let Some(e) = failed {
                eprintln!("replay_probe: {e}");
                return ExitCode::from(1);
            }
            let all = t.elapsed();
            println!(
                "{file}: {} events; first chunk {:.0} ms; indexed in {:.2} s; {} snapshots every {}; peak RSS {:.0} MB",
                r.len(),
                first.unwrap_or_default().as_secs_f64() * 1e3,
                all.as_secs_f64(),
                r.snapshots(),
                r.every(),
                peak_rss_mb()
            );
            let last = r.last().clone();
            let with_index = live_mb();
            let marks = r.len() * std::mem::size_of::<pm2_incident::incident::seek::Mark>();
            println!(
                "held: {} marks of {} B; timeline {} x {} B; commands {} x {} B; notes {}; outages {}",
                r.len(),
                std::mem::size_of::<pm2_incident::incident::seek::Mark>(),
                last.timeline.len(),
                std::mem::size_of::<pm2_incident::incident::fold::TimelineEntry>(),
                last.commands.len(),
                std::mem::size_of::<pm2_incident::incident::fold::CommandRecord>(),
                last.notes.len(),
                last.availability.apps.iter().map(|a| a.outages.len()).sum::<usize>()
            );
            // Seeks to pseudo-random events (a jump: nearest snapshot, then the events after it).
            let mut rng = 0x9e3779b97f4a7c15u64;
            let mut times: Vec<f64> = (0..seeks)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let n = (rng % (r.len() as u64 + 1)) as usize;
                    let mut c = Cursor::default();
                    let t = Instant::now();
                    r.seek(&mut c, n);
                    std::hint::black_box(c.state().events);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            times.sort_by(|a, b| a.total_cmp(b));
            if !times.is_empty() {
                println!(
                    "seek ({seeks} random jumps): median {:.2} ms, p99 {:.2} ms, max {:.2} ms; peak RSS {:.0} MB",
                    times[times.len() / 2],
                    times[times.len() * 99 / 100],
                    times[times.len() - 1],
                    peak_rss_mb()
                );
            }
            // What the replay holds beyond its final state: marks, snapshots' own parts.
            drop(r);
            let state = live_mb();
            println!(
                "live heap: {with_index:.0} MB indexed = final state {state:.0} MB + marks {:.0} MB + snapshots and the rest {:.0} MB",
                marks as f64 / 1048576.0,
                with_index - state - marks as f64 / 1048576.0
            );
            drop(last);
        }
        "report" => {
            let t = Instant::now();
            let (inc, _, mut timeline) =
                match pm2_incident::journal::report::fold(path, ScanOptions::default()) {
                    Ok(x) => x,
                    Err(e) => {
                        eprintln!("replay_probe: {e}");
                        return ExitCode::from(1);
                    }
                };
            let folded = t.elapsed();
            let heap = live_mb();
            let t = Instant::now();
            let mut sink = std::io::sink();
            let _ = pm2_incident::incident::report::render_to(&mut sink, &inc, &mut timeline);
            println!(
                "{file}: folded in {:.2} s (live heap {heap:.0} MB, peak {:.0} MB: {} commands, {} notes); rendered in {:.2} s; peak RSS {:.0} MB",
                folded.as_secs_f64(),
                peak_heap_mb(),
                inc.commands.len(),
                inc.notes.len(),
                t.elapsed().as_secs_f64(),
                peak_rss_mb()
            );
        }
        "decode" => {
            let bytes = std::fs::read(path).unwrap_or_default();
            let lines: Vec<&[u8]> = bytes
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            let t = Instant::now();
            let mut h = 0usize;
            for l in &lines {
                h += hash(l).len();
            }
            let th = t.elapsed();
            let t = Instant::now();
            let mut ok = 0usize;
            for l in &lines {
                ok += usize::from(decode(l).is_ok());
            }
            let td = t.elapsed();
            let entries: Vec<_> = lines
                .iter()
                .filter_map(|l| decode(l).ok())
                .map(|d| pm2_incident::incident::Entry {
                    seq: d.seq,
                    ts: d.ts,
                    event: d.event,
                })
                .collect();
            let t = Instant::now();
            let mut inc = pm2_incident::incident::Incident::default();
            for (i, e) in entries.iter().enumerate() {
                inc.apply_at(e, pm2_incident::incident::fold::OutputAt::Journal(i as u64));
            }
            let ta = t.elapsed();
            let t = Instant::now();
            let mut b =
                pm2_incident::incident::seek::Builder::new(DEFAULT_CHECKPOINT_EVERY).located();
            for (i, e) in entries.iter().enumerate() {
                b.push(e, i as u64);
            }
            std::hint::black_box(b.take());
            let tb = t.elapsed();
            println!(
                "{file}: {} lines; hash {:.2} s; decode {:.2} s ({ok} ok, {h}); apply {:.2} s; index builder {:.2} s",
                lines.len(),
                th.as_secs_f64(),
                td.as_secs_f64(),
                ta.as_secs_f64(),
                tb.as_secs_f64()
            );
        }
        _ => {
            eprintln!("replay_probe: unknown mode {mode:?}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
