//! Parsing throughput (4-app and 500-app listings with fat environments) and one native
//! `getMonitorData` round trip against one `pm2 jlist` run, on a real PM2 fixture.
//! Run: `cargo bench --bench pm2_parse`. Results are recorded in BENCHMARKS.md.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pm2_incident::pm2::{parse_process_list, RpcClient, RpcOptions};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "../tests/support/pm2_fixture.rs"]
mod pm2_fixture;
use pm2_fixture::{synthetic_listing, Pm2Fixture};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_process_list");
    // 4 apps x 60 env vars ~ a small real server; 500 x 100 ~ 9 MB.
    for (apps, vars) in [(4usize, 60usize), (500, 100)] {
        let listing = synthetic_listing(apps, vars);
        g.throughput(Throughput::Bytes(listing.len() as u64));
        g.bench_with_input(
            BenchmarkId::new(format!("{apps}_apps"), listing.len()),
            listing.as_bytes(),
            |b, bytes| b.iter(|| parse_process_list(black_box(bytes)).map(|l| l.len())),
        );
    }
    g.finish();
}

fn native_vs_cli(c: &mut Criterion) {
    // 4 processes: flyer-crawler-api x2, a worker, stock-alert-api.
    let fx = Pm2Fixture::start(&[
        "flyer-crawler-api",
        "flyer-crawler-worker",
        "stock-alert-api",
    ]);
    let mut g = c.benchmark_group("read_listing_4_processes");
    g.bench_function("native_getMonitorData_connect_and_call", |b| {
        b.iter(|| {
            let mut cl = RpcClient::connect(fx.home.rpc_socket(), RpcOptions::default()).unwrap();
            cl.monitor_data().unwrap().len()
        })
    });
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("pm2_jlist_process", |b| {
        b.iter(|| {
            let out = fx.pm2_cmd(&["jlist"]);
            assert!(out.status.success());
            out.stdout.len()
        })
    });
    g.finish();

    // One plain ratio line, independent of criterion's statistics; only under `cargo bench`
    // (`cargo test --benches` runs each benchmark once, without `--bench`).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let time = |n: u32, f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed() / n
    };
    let native = time(200, &mut || {
        let mut cl = RpcClient::connect(fx.home.rpc_socket(), RpcOptions::default()).unwrap();
        black_box(cl.monitor_data().unwrap());
    });
    let cli = time(5, &mut || {
        black_box(fx.pm2_cmd(&["jlist"]));
    });
    println!(
        "native getMonitorData {:?} vs pm2 jlist {:?}: {:.0}x faster",
        native,
        cli,
        cli.as_secs_f64() / native.as_secs_f64()
    );
}

criterion_group!(benches, parse, native_vs_cli);
criterion_main!(benches);
