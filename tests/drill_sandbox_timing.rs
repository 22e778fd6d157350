//! `drill --sandbox` keeps the scenario's timings and cluster mode on a real PM2 (the pinned
//! npm copy, throwaway homes): a crash loop crashes at its cadence until PM2 gives up after
//! its limit, an OOM-style fault SIGKILLs, a persistent cause survives a restart, a fault
//! timed in the drill waits for its time, and the production API runs as a cluster.
//! Durations are only checked from below (a loaded machine is slower, never faster).
mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use pm2_incident::drill::scenario::load;
use pm2_incident::drill::Scenario;
use pm2_incident::pm2::{ExecMode, ProcessStatus};
use pm2_incident::runbook::{Runbook, Source};
use support::drill_sandbox::{all_in, named, Sbx};

const API: &str = "flyer-crawler-api";
const WORKER: &str = "flyer-crawler-worker";

fn scenario(rb: &Runbook, faults: &str) -> Scenario {
    let text = format!(
        "id = \"timing\"\ntitle = \"t\"\nsummary = \"s\"\nbriefing = \"b\"\nexpected_root_cause = \"oom-killer\"\n{faults}"
    );
    load(
        Source {
            name: "timing.toml",
            text: &text,
        },
        &rb.inventory,
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
}

/// The status line of `GET path` on the stand-in at `url` (`http://127.0.0.1:PORT`).
fn http_status(url: &str, path: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return "refused".into();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or("").to_string()
}

/// Until the deployment's stand-in answers 200 on its ready path (a serving run).
fn wait_healthy(sb: &Sbx) {
    let url = sb.get().inventory.deployment[0].local_url.clone().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while !http_status(&url, "/api/health/ready").contains("200") {
        assert!(Instant::now() < until, "{url} never answered 200");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `pm2 restart NAME` in the sandbox, as the responder would.
fn restart(sb: &Sbx, name: &str) {
    let dir = std::path::PathBuf::from(&sb.get().inventory.deployment[0].dir);
    assert!(sb.get().pm2(&["restart", name], &dir).unwrap());
}

#[test]
fn a_crash_loop_keeps_its_cadence_in_a_cluster_and_a_restart_cures_it_once_pm2_gave_up() {
    let rb = Runbook::embedded().unwrap();
    // 4 s a crash, PM2 gives up at 5; one crash fell before the start.
    let s = scenario(
        &rb,
        "[[fault]]\nat = -4\naction = \"crash-loop\"\ntargets = [\"${api}\"]\ncycle_s = 4.0\nlimit = 5\nexit_code = 3\nreason = \"relation flyers does not exist\"\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let sb = Sbx::up(&rb, &s, tmp.path());
    let t0 = Instant::now();
    let l = sb.get().jlist().unwrap();
    // The production API is a cluster of two (the scenario's default), each instance in the
    // loop with the crash of the past counted, and PM2 not given up yet.
    let api = named(&l, API);
    assert_eq!(api.len(), 2, "{l:?}");
    assert!(
        api.iter().all(|p| p.exec_mode == Some(ExecMode::Cluster)),
        "{api:?}"
    );
    assert!(api.iter().all(|p| p.unstable_restarts >= 1), "{api:?}");
    assert!(!all_in(&l, API, ProcessStatus::Errored), "{api:?}");
    assert!(all_in(&l, WORKER, ProcessStatus::Online), "{l:?}");
    let l = sb.wait_list("PM2 to give up on the API", |l| {
        all_in(l, API, ProcessStatus::Errored)
    });
    // At least three more runs of 4 s each (the fourth may have begun before the start).
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(3 * 4000),
        "gave up after {took:?}"
    );
    assert!(
        named(&l, API).iter().all(|p| p.exit_code == Some(3)),
        "{l:?}"
    );
    // The cause went with PM2 giving up: a restart brings the API back for real.
    restart(&sb, API);
    sb.wait_list("the API online again", |l| {
        all_in(l, API, ProcessStatus::Online)
    });
    wait_healthy(&sb);
    sb.down();
}

#[test]
fn a_restart_in_the_middle_of_a_loop_cures_a_passing_cause() {
    let rb = Runbook::embedded().unwrap();
    // A slow loop PM2 would take minutes to give up on.
    let s = scenario(
        &rb,
        "[[fault]]\nat = -1\naction = \"crash-loop\"\ntargets = [\"${api}\"]\ncycle_s = 20.0\nlimit = 10\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let sb = Sbx::up(&rb, &s, tmp.path());
    let url = sb.get().inventory.deployment[0].local_url.clone().unwrap();
    // Crashing runs never serve.
    let l = sb.get().jlist().unwrap();
    assert!(!all_in(&l, API, ProcessStatus::Errored), "{l:?}");
    assert!(!http_status(&url, "/api/health/ready").contains("200"));
    restart(&sb, API);
    wait_healthy(&sb);
    sb.down();
}

#[test]
fn an_oom_kill_of_the_past_left_the_worker_errored_by_sigkill_and_a_restart_cures_it() {
    let rb = Runbook::embedded().unwrap();
    let s = pm2_incident::drill::builtin("oom-worker", &rb.inventory).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sb = Sbx::up(&rb, &s, tmp.path());
    let l = sb.get().jlist().unwrap();
    assert!(all_in(&l, WORKER, ProcessStatus::Errored), "{l:?}");
    assert!(all_in(&l, API, ProcessStatus::Online), "{l:?}");
    // PM2's own log says how each run ended: killed, not exited.
    let log = std::fs::read_to_string(sb.get().home.join("pm2.log")).unwrap();
    let kills = log
        .lines()
        .filter(|l| l.contains(&format!("App [{WORKER}:")) && l.contains("via signal [SIGKILL]"))
        .count();
    assert_eq!(kills, 15, "{log}");
    assert!(log.contains("too many unstable restarts (15)"), "{log}");
    restart(&sb, WORKER);
    sb.wait_list("the worker online again", |l| {
        all_in(l, WORKER, ProcessStatus::Online)
    });
    sb.down();
}

#[test]
fn a_persistent_cause_crashes_again_after_a_restart() {
    let rb = Runbook::embedded().unwrap();
    let s = scenario(
        &rb,
        "[[fault]]\nat = -60\naction = \"crash-loop\"\ntargets = [\"${worker}\"]\ncycle_s = 1.0\nlimit = 3\npersists = true\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let sb = Sbx::up(&rb, &s, tmp.path());
    let l = sb.get().jlist().unwrap();
    assert!(all_in(&l, WORKER, ProcessStatus::Errored), "{l:?}");
    let before = named(&l, WORKER)[0].restarts;
    restart(&sb, WORKER);
    sb.wait_list("the worker errored again after more crashes", |l| {
        all_in(l, WORKER, ProcessStatus::Errored)
            && named(l, WORKER).iter().all(|p| p.restarts > before)
    });
    sb.down();
}

#[test]
fn a_fault_timed_in_the_drill_waits_for_its_time() {
    let rb = Runbook::embedded().unwrap();
    let s = scenario(
        &rb,
        "[[fault]]\nat = 4\naction = \"stop\"\ntargets = [\"${test}\"]\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let sb = Sbx::up(&rb, &s, tmp.path());
    // Nothing of the future happened before the drill.
    let l = sb.get().jlist().unwrap();
    assert!(l.iter().all(|p| p.status == ProcessStatus::Online), "{l:?}");
    let clock = sb.get().start_clock();
    let until = Instant::now() + Duration::from_secs(120);
    while !clock.is_done() {
        assert!(Instant::now() < until, "the clock never came to the fault");
        std::thread::sleep(Duration::from_millis(100));
    }
    let done = clock.stop();
    assert_eq!(done.len(), 1, "{done:?}");
    assert!(done[0].error.is_none(), "{done:?}");
    assert!(done[0].after_ms >= 4000, "{done:?}");
    let l = sb.get().jlist().unwrap();
    for n in [
        "flyer-crawler-api-test",
        "flyer-crawler-worker-test",
        "flyer-crawler-analytics-worker-test",
    ] {
        assert!(all_in(&l, n, ProcessStatus::Stopped), "{n}: {l:?}");
    }
    assert!(all_in(&l, API, ProcessStatus::Online), "{l:?}");
    sb.down();
}
