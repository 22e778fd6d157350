//! One health round over 50 real endpoints on 127.0.0.1, 10 of which accept and never
//! answer, with a 1 s timeout: the round should take about one timeout, not ten. A
//! 50-fast round is the baseline. Run: `cargo bench --bench health_round`.
//! Results are recorded in BENCHMARKS.md.
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use pm2_incident::health::{CheckOptions, HealthChecker, Verdict};

#[path = "../tests/health_support/mod.rs"]
mod health_support;
use health_support::{target, Behavior, Server, HEALTHY};

fn round(c: &mut Criterion) {
    let fast = Server::start(Behavior::json(200, HEALTHY));
    let hang = Server::start(Behavior::Hang);
    let mixed: Vec<_> = (0..50)
        .map(|i| {
            if i % 5 == 0 {
                target(&hang.url(&format!("/hang/{i}")))
            } else {
                target(&fast.url(&format!("/api/health/ready?n={i}")))
            }
        })
        .collect();
    let all_fast: Vec<_> = (0..50)
        .map(|i| target(&fast.url(&format!("/api/health/ready?n={i}"))))
        .collect();
    let checker = HealthChecker::new(CheckOptions {
        timeout: Duration::from_secs(1),
        ..CheckOptions::default()
    })
    .expect("client");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // One checked round first: the numbers mean nothing if the verdicts are wrong.
    let start = Instant::now();
    let results = rt.block_on(checker.check_all(&mixed));
    let took = start.elapsed();
    let timeouts = results
        .iter()
        .filter(|r| r.verdict == Verdict::Timeout)
        .count();
    let healthy: Vec<u64> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Healthy)
        .map(|r| r.latency_ms)
        .collect();
    assert_eq!((timeouts, healthy.len()), (10, 40), "verdicts of the round");
    eprintln!(
        "health_round check: 50 endpoints (10 hanging) in {took:?}; slowest healthy {} ms",
        healthy.iter().max().unwrap_or(&0)
    );

    let mut g = c.benchmark_group("health_round");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(12));
    g.bench_function("50_endpoints_10_hanging_1s_timeout", |b| {
        b.iter(|| rt.block_on(checker.check_all(&mixed)))
    });
    g.finish();

    let mut g = c.benchmark_group("health_round");
    g.sample_size(30);
    g.bench_function("50_endpoints_all_fast", |b| {
        b.iter(|| rt.block_on(checker.check_all(&all_fast)))
    });
    g.bench_function("50_endpoints_all_fast_blocking", |b| {
        b.iter(|| checker.check_all_blocking(&all_fast).expect("runtime"))
    });
    g.finish();
}

criterion_group!(benches, round);
criterion_main!(benches);
