//! One scan for running deployments: read every process of `/proc` and classify it, on
//! this machine's real process table (the cost the 1 s poller of `respond` pays), plus
//! the pure classification of a synthetic 2,000-process table.
//! Run: `cargo bench --bench deploy_scan`. Results are recorded in BENCHMARKS.md.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use pm2_incident::deploy::procfs::ProcInfo;
use pm2_incident::deploy::{find, scan_with, Rules};

fn rules() -> Rules {
    Rules {
        dirs: vec![
            ("prod".into(), PathBuf::from("/var/www/app.com")),
            ("test".into(), PathBuf::from("/var/www/app-test.com")),
        ],
        runner_services: vec![],
        exclude: vec![std::process::id() as i32],
    }
}

fn synthetic(n: i32) -> Vec<ProcInfo> {
    (2..n + 2)
        .map(|pid| ProcInfo {
            pid,
            ppid: if pid % 10 == 0 { 1 } else { pid - 1 },
            pgid: pid - pid % 10,
            uid: 1000,
            comm: if pid % 7 == 0 { "node" } else { "bash" }.into(),
            argv: vec![
                if pid % 7 == 0 { "node" } else { "bash" }.into(),
                "x.js".into(),
            ],
            cwd: Some(PathBuf::from(if pid % 3 == 0 {
                "/var/www/app.com"
            } else {
                "/home/u"
            })),
            start_ticks: pid as u64,
            age_secs: 60,
        })
        .collect()
}

fn scan(c: &mut Criterion) {
    let n = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
                .count()
        })
        .unwrap_or(0);
    eprintln!("processes on this machine: {n}");
    let r = rules();
    c.bench_function("deploy scan of /proc (this machine)", |b| {
        b.iter(|| scan_with(Path::new("/proc"), &r))
    });
    let table = synthetic(2000);
    let users = HashMap::new();
    c.bench_function("classify 2000 synthetic processes", |b| {
        b.iter(|| find(&table, &r, &users))
    });
}

criterion_group!(benches, scan);
criterion_main!(benches);
