//! The shipped scenarios load, their expected severity is what `assess` computes from the
//! simulated state, broken scenarios give file:line:col errors, and the simulator's
//! dynamics (crash loops, launch delay, the dead-daemon trap) behave like PM2.
use std::path::Path;

use pm2_incident::assess::{self, Level, Observation, Pm2View};
use pm2_incident::drill::{self, http, pm2cli, scenario, sim, ExpectedSeverity, SimState};
use pm2_incident::pm2::ProcessStatus;
use pm2_incident::runbook::{Runbook, Source};

const START: i64 = 1_795_000_000_000;

fn rb() -> Runbook {
    Runbook::embedded().expect("embedded runbook")
}

fn level(rb: &Runbook, st: &SimState) -> Level {
    let snap = drill::snapshot(st);
    let health = http::health_round(st, &rb.inventory.health_targets());
    let detail = snap.detail();
    let pm2 = Pm2View::from_parts(snap.processes.as_deref(), Some(snap.kind()), &detail);
    assess::assess(
        rb,
        &Observation {
            pm2,
            health: &health,
        },
    )
    .severity
    .level
}

fn want(e: ExpectedSeverity) -> Level {
    match e {
        ExpectedSeverity::P1 => Level::P1,
        ExpectedSeverity::P2 => Level::P2,
        ExpectedSeverity::P3 => Level::P3,
    }
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

#[test]
fn five_scenarios_ship_and_list() {
    let l = drill::list();
    let ids: Vec<&str> = l.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "delete-all",
            "api-crash-loop",
            "test-killed",
            "oom-worker",
            "daemon-killed"
        ]
    );
    let sev: Vec<&str> = l.iter().map(|(_, _, s)| s.as_str()).collect();
    assert_eq!(sev, ["P1", "P2", "P3", "P2", "P1"]);
}

#[test]
fn root_cause_ids_match_the_runbook() {
    let rb = rb();
    let ids: Vec<String> = rb
        .procedure
        .steps()
        .flat_map(|(_, s)| s.root_cause.iter().map(|r| r.id.get_ref().clone()))
        .collect();
    assert_eq!(ids, scenario::ROOT_CAUSES);
}

#[test]
fn expected_severity_is_what_assess_computes() {
    let rb = rb();
    for (id, _, expected) in drill::list() {
        let s = drill::builtin(&id, &rb.inventory).unwrap_or_else(|e| panic!("{id}: {e:?}"));
        let mut st = sim::new_state(&s, &rb.inventory, "/tmp/drill-home", START);
        // Just after the start, and five minutes on with nobody touching anything.
        for at in [START + 1_000, START + 300_000] {
            sim::advance(&mut st, at);
            assert_eq!(
                level(&rb, &st),
                want(expected),
                "{id} at +{}s",
                (at - START) / 1000
            );
        }
    }
}

#[test]
fn delete_all_leaves_an_empty_list_and_502s() {
    let rb = rb();
    let s = drill::builtin("delete-all", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    assert!(st.procs.is_empty());
    let out = pm2cli::pm2(&mut st, &args("jlist"), Path::new("/"), START + 1000);
    assert_eq!(out.stdout.trim(), "[]");
    let out = http::curl(
        &st,
        &args(
            "-s -o /dev/null -w %{http_code} https://flyer-crawler.projectium.com/api/health/ready",
        ),
    );
    assert_eq!((out.stdout.as_str(), out.code), ("502", 0));
    let out = http::curl(&st, &args("-s http://localhost:3001/api/health/ready"));
    assert_eq!((out.stdout.as_str(), out.code), ("", 7));
    let out = http::curl(&st, &args("http://localhost:3001/api/health/ready"));
    assert!(
        out.stderr
            .starts_with("curl: (7) Failed to connect to localhost port 3001"),
        "{}",
        out.stderr
    );
    let out = http::curl(&st, &args("https://nope.example.com/"));
    assert_eq!(out.code, 6);
    assert!(out
        .stderr
        .contains("Could not resolve host: nope.example.com"));
    // pm2.log keeps the evidence of what deleted them.
    let log = pm2cli::pm2(
        &mut st,
        &args("logs --nostream --lines 200"),
        Path::new("/"),
        START + 2000,
    )
    .stdout;
    assert!(log.contains("Stopping app:flyer-crawler-api id:0"), "{log}");
}

#[test]
fn crash_loop_rises_then_errors_after_fifteen() {
    let rb = rb();
    let s = drill::builtin("api-crash-loop", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    let restarts = |st: &SimState| {
        st.procs
            .iter()
            .find(|p| p.name == "flyer-crawler-api")
            .map(|p| p.restarts)
            .unwrap()
    };
    let r0 = restarts(&st);
    sim::advance(&mut st, START + 12_000);
    assert!(
        restarts(&st) > r0,
        "restarts rise: {r0} -> {}",
        restarts(&st)
    );
    assert!(st
        .procs
        .iter()
        .any(|p| p.name == "flyer-crawler-api" && p.crash.is_some()));
    sim::advance(&mut st, START + 600_000);
    let api: Vec<_> = st
        .procs
        .iter()
        .filter(|p| p.name == "flyer-crawler-api")
        .collect();
    assert_eq!(api.len(), 2, "cluster x2");
    for p in api {
        assert_eq!(
            (p.status.as_str(), p.unstable_restarts, p.pid),
            ("errored", 15, 0)
        );
    }
    assert!(st
        .logs
        .iter()
        .any(|l| l.text.contains("had too many unstable restarts (15)")));
    // The database restore has finished: a restart cures it.
    let out = pm2cli::pm2(
        &mut st,
        &args("restart flyer-crawler-api"),
        Path::new("/"),
        START + 601_000,
    );
    assert!(
        out.stdout
            .contains("Applying action restartProcessId on app [flyer-crawler-api](ids: [ 0, 1 ])"),
        "{}",
        out.stdout
    );
    sim::advance(&mut st, START + 603_000);
    assert!(st
        .procs
        .iter()
        .filter(|p| p.name == "flyer-crawler-api")
        .all(|p| p.status.as_str() == "online"));
    assert_eq!(level(&rb, &st), Level::None);
}

#[test]
fn oom_worker_leaves_kernel_evidence() {
    let rb = rb();
    let s = drill::builtin("oom-worker", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    let k = drill::sys::journalctl(&st, &args("-k -n 50 --no-pager")).stdout;
    let worker_pids: Vec<&str> = k.lines().filter(|l| l.contains("Killed process")).collect();
    assert_eq!(worker_pids.len(), 15, "{k}");
    assert!(
        worker_pids[0].contains("kernel: Out of memory: Killed process")
            && worker_pids[0].contains("(node)")
    );
    let w = st
        .procs
        .iter()
        .find(|p| p.name == "flyer-crawler-worker")
        .unwrap();
    assert_eq!((w.status.as_str(), w.restarts), ("errored", 15));
    // The API still answers healthy; the queue service shows the dead worker.
    let body = http::curl(
        &st,
        &args("-s https://flyer-crawler.projectium.com/api/health/ready"),
    )
    .stdout;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["status"], "healthy");
    assert_eq!(v["data"]["services"]["queue"]["status"], "degraded");
    let out = pm2cli::pm2(
        &mut st,
        &args("show flyer-crawler-worker"),
        Path::new("/"),
        START + 1000,
    );
    assert!(
        out.stdout.contains("│ status            │ errored"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("│ unstable restarts │ 15"),
        "{}",
        out.stdout
    );
}

#[test]
fn dead_daemon_trap_any_pm2_command_starts_an_empty_daemon() {
    let rb = rb();
    let s = drill::builtin("daemon-killed", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    let snap = drill::snapshot(&st);
    assert_eq!(
        (snap.kind().as_str(), snap.processes.is_none()),
        ("died", true)
    );
    // Observation through the poller does not revive it.
    assert_eq!(drill::snapshot(&st).kind().as_str(), "died");
    let sys = drill::sys::systemctl(&st, &args("status pm2-gitea-runner --no-pager"));
    assert_eq!(sys.code, 3);
    assert!(
        sys.stdout.contains("Active: failed (Result: signal)")
            && sys.stdout.contains("status=9/KILL"),
        "{}",
        sys.stdout
    );
    let out = pm2cli::pm2(&mut st, &args("list"), Path::new("/"), START + 5000);
    assert!(
        out.stdout.starts_with(
            "[PM2] Spawning PM2 daemon with pm2_home=/h\n[PM2] PM2 Successfully daemonized\n"
        ),
        "{}",
        out.stdout
    );
    let snap = drill::snapshot(&st);
    assert_eq!(snap.kind().as_str(), "up");
    assert_eq!(
        snap.processes.as_deref().map(<[_]>::len),
        Some(0),
        "new daemon, zero processes: evidence gone"
    );
    // Now the list looks like "everything deleted", and `pm2 save` would refuse to save nothing.
    let out = pm2cli::pm2(&mut st, &args("save"), Path::new("/"), START + 6000);
    assert!(out
        .stdout
        .contains("PM2 is not managing any process, skipping save"));
    // The old dump is still there: resurrect brings the apps back.
    let out = pm2cli::pm2(&mut st, &args("resurrect"), Path::new("/"), START + 7000);
    assert!(out
        .stdout
        .contains("Restoring processes located in /h/dump.pm2"));
    sim::advance(&mut st, START + 9000);
    assert_eq!(
        st.procs
            .iter()
            .filter(|p| p.status.as_str() == "online")
            .count(),
        8
    );
}

#[test]
fn pm2_all_is_faithful_and_unknown_names_error() {
    let rb = rb();
    let s = drill::builtin("test-killed", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    let out = pm2cli::pm2(&mut st, &args("stop nope"), Path::new("/"), START + 1000);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "[PM2][ERROR] Process or Namespace nope not found\n"
    );
    let out = pm2cli::pm2(&mut st, &args("frobnicate"), Path::new("/"), START + 1000);
    assert!(out.code == 1 && out.stdout.contains("Command not found"));
    let out = pm2cli::pm2(&mut st, &args("stop all"), Path::new("/"), START + 2000);
    assert_eq!(out.code, 0);
    assert!(st.procs.iter().all(|p| p.status.as_str() == "stopped"));
    let list = pm2cli::pm2(&mut st, &args("ls"), Path::new("/"), START + 3000).stdout;
    assert!(list.starts_with("┌────┬"), "{list}");
    assert!(list.contains("│ 0  │ flyer-crawler-api "), "{list}");
    let parsed = pm2_incident::pm2::parse_process_list(
        pm2cli::pm2(&mut st, &args("jlist"), Path::new("/"), START + 3000)
            .stdout
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(parsed.len(), 8);
    assert!(parsed
        .iter()
        .all(|p| p.status == ProcessStatus::Stopped && p.pid.is_none()));
}

#[test]
fn start_of_a_config_brings_that_deployment_up_after_the_launch_delay() {
    let rb = rb();
    let s = drill::builtin("delete-all", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    let dir = Path::new("/var/www/flyer-crawler.projectium.com");
    let out = pm2cli::pm2(
        &mut st,
        &args("start ecosystem.config.cjs --only flyer-crawler-api"),
        dir,
        START + 10_000,
    );
    assert!(
        out.stdout
            .contains("[PM2][WARN] Applications flyer-crawler-api not running, starting..."),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("App [flyer-crawler-api] launched (2 instances)"));
    assert!(st.procs.iter().all(|p| p.status.as_str() == "launching"));
    sim::advance(&mut st, START + 11_499);
    assert!(st.procs.iter().all(|p| p.status.as_str() == "launching"));
    sim::advance(&mut st, START + 11_500);
    assert!(st.procs.iter().all(|p| p.status.as_str() == "online"));
    // Starting the same file again restarts what runs (PM2 7's _startJson), starts the rest.
    let out = pm2cli::pm2(
        &mut st,
        &args("start ecosystem.config.cjs"),
        dir,
        START + 20_000,
    );
    assert!(
        out.stdout
            .contains("Applying action restartProcessId on app [flyer-crawler-api](ids: [ 0, 1 ])"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("Applications flyer-crawler-worker, flyer-crawler-analytics-worker not running"));
    // The wrong file for the directory is not found.
    let out = pm2cli::pm2(
        &mut st,
        &args("start ecosystem-test.config.cjs"),
        dir,
        START + 21_000,
    );
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (1, "[PM2][ERROR] File ecosystem-test.config.cjs not found\n")
    );
}

fn errors_of(text: &str) -> Vec<String> {
    let rb = rb();
    match scenario::load(
        Source {
            name: "bad.toml",
            text,
        },
        &rb.inventory,
    ) {
        Ok(_) => vec![],
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

const MIN: &str = "id = \"x\"\ntitle = \"t\"\nsummary = \"s\"\nbriefing = \"b\"\nexpected_severity = \"P1\"\nexpected_root_cause = \"oom-killer\"\n";

#[test]
fn broken_scenarios_give_file_line_col() {
    assert!(errors_of(MIN).is_empty());
    let e = errors_of(&format!("{MIN}colour = \"red\"\n"));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("bad.toml:7:1: unknown field `colour`"),
        "{e:?}"
    );
    let e = errors_of(&MIN.replace("oom-killer", "gremlins"));
    assert!(
        e[0].starts_with("bad.toml:6:23: unknown root cause `gremlins`"),
        "{e:?}"
    );
    let e = errors_of(&MIN.replace("\"P1\"", "\"P0\""));
    assert!(
        e[0].starts_with("bad.toml:5:21: unknown variant `P0`"),
        "{e:?}"
    );
    let e = errors_of(&format!(
        "{MIN}\n[[fault]]\nat = 0\naction = \"delete\"\ntargets = [\"flyer-crawler-apii\"]\n"
    ));
    assert!(
        e[0].starts_with("bad.toml:11:11: `flyer-crawler-apii` is not a process of the inventory"),
        "{e:?}"
    );
    let e = errors_of(&format!(
        "{MIN}\n[[fault]]\nat = 0\naction = \"explode\"\ntargets = [\"all\"]\n"
    ));
    assert!(
        e[0].starts_with("bad.toml:10:10: unknown variant `explode`"),
        "{e:?}"
    );
    let e = errors_of(&format!(
        "{MIN}\n[[clue]]\nsource = \"unit\"\nat = 0\ntext = \"x\"\n"
    ));
    assert!(
        e[0].starts_with("bad.toml:9:10: a `unit` clue needs"),
        "{e:?}"
    );
}

#[test]
fn a_persistent_crash_loop_comes_back_after_a_restart() {
    let rb = rb();
    let text = format!(
        "{MIN}\n[[fault]]\nat = 0\naction = \"crash-loop\"\ntargets = [\"stock-alert-api\"]\ncycle_s = 1.0\nlimit = 3\npersists = true\nreason = \"TypeError: x is undefined\"\n"
    );
    let s = scenario::load(
        Source {
            name: "persist.toml",
            text: &text,
        },
        &rb.inventory,
    )
    .unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    let stock = |st: &SimState| {
        st.procs
            .iter()
            .find(|p| p.name == "stock-alert-api")
            .cloned()
            .unwrap()
    };
    sim::advance(&mut st, START + 10_000);
    assert_eq!(
        (stock(&st).status.as_str(), stock(&st).restarts),
        ("errored", 3)
    );
    pm2cli::pm2(
        &mut st,
        &args("restart stock-alert-api"),
        Path::new("/"),
        START + 11_000,
    );
    sim::advance(&mut st, START + 30_000);
    let p = stock(&st);
    assert_eq!(
        (p.status.as_str(), p.restarts, p.unstable_restarts),
        ("errored", 7, 3),
        "1 manual + 3 more crashes"
    );
    let err = pm2cli::pm2(
        &mut st,
        &args("logs stock-alert-api --nostream --lines 2"),
        Path::new("/"),
        START + 30_000,
    )
    .stdout;
    assert!(err.contains("TypeError: x is undefined"), "{err}");
}

#[test]
fn silent_jlist_on_a_dead_daemon_stays_valid_json() {
    let rb = rb();
    let s = drill::builtin("daemon-killed", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    let out = pm2cli::pm2(&mut st, &args("jlist -s"), Path::new("/"), START + 1000);
    assert_eq!(out.stdout, "[]\n");
}

#[test]
fn bus_events_follow_the_crash_loop() {
    let rb = rb();
    let s = drill::builtin("api-crash-loop", &rb.inventory).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    sim::advance(&mut st, START + 8_000);
    let ev = drill::bus::events_between(&st, START, START + 8_000);
    let kinds: Vec<(&str, &str)> = ev
        .iter()
        .map(|e| (e.process.as_str(), e.event.as_str()))
        .collect();
    // Two crashes (T+4s, T+8s) of both instances: exit then online each time.
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ("flyer-crawler-api", "exit"))
            .count(),
        4,
        "{kinds:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.event == "exit" && e.detail.ends_with("code 1 signal SIGINT")),
        "{ev:?}"
    );
    sim::advance(&mut st, START + 600_000);
    let late = drill::bus::events_between(&st, START + 8_000, START + 600_000);
    assert!(
        late.iter()
            .any(|e| e.process == "flyer-crawler-api" && e.event == "errored"),
        "{late:?}"
    );
}
