//! Against a real PM2 7.0.4 daemon in a throwaway PM2_HOME (one daemon for the whole file:
//! each start costs seconds). The scenarios run in order in one test, each a function.
mod support;

use pm2_incident::pm2::{
    probe_daemon, BusMsg, CliSource, DaemonState, EventSubscriber, LogStream, Pm2Event, Process,
    ProcessEventKind, ProcessStatus, ReadCall, Reply, RpcClient, RpcOptions, SubscriberOptions,
};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use support::pm2_fixture::{Pm2Fixture, ALL_APPS, PM2_VERSION};

/// Everything the library handed us, serialized, for the canary check at the end.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn add(&mut self, x: &impl std::fmt::Debug) {
        self.0.push(format!("{x:?}"));
    }
    fn add_json(&mut self, x: &impl serde::Serialize) {
        self.0.push(serde_json::to_string(x).unwrap());
    }
}

fn find<'a>(list: &'a [Process], name: &str) -> Vec<&'a Process> {
    list.iter().filter(|p| p.name == name).collect()
}

fn one<'a>(list: &'a [Process], name: &str) -> &'a Process {
    let v = find(list, name);
    assert_eq!(v.len(), 1, "expected one {name}, got {}", v.len());
    v[0]
}

fn is_process_event(m: &BusMsg, name: &str, kind: ProcessEventKind) -> bool {
    matches!(m, BusMsg::Event(Pm2Event::Process(e)) if e.name == name && e.kind == kind)
}

#[test]
fn real_pm2_daemon_scenarios() {
    let fx = Pm2Fixture::start(ALL_APPS);
    let mut seen = Seen::default();

    probe_reports_up_with_version(&fx, &mut seen);
    native_listing_equals_pm2_jlist(&fx, &mut seen);
    pipelined_calls_on_the_real_daemon(&fx, &mut seen);
    sandbox_apps_serve_health_and_obey_their_control(&fx);
    the_pm2_subcommand_shows_the_table_without_secrets(&fx);

    let sub = EventSubscriber::spawn(&fx.home, SubscriberOptions::default());
    let (ok, msgs) = sub.wait_for(Duration::from_secs(5), |m| *m == BusMsg::Connected);
    assert!(ok, "subscriber never connected: {msgs:?}");

    kill_9_of_an_app_gives_exit_online_and_more_restarts(&fx, &sub, &mut seen);
    stop_gives_stopped(&fx, &sub, &mut seen);
    crashing_app_is_errored_after_restart_overlimit(&fx, &sub, &mut seen);
    delete_removes_the_app(&fx, &mut seen);
    pm2_kill_gives_kill_event_then_end_of_stream(&fx, &sub, &mut seen);

    // The canary is in PM2's raw output (so this check could fail) but in nothing we return.
    for s in &seen.0 {
        assert!(
            !s.contains(&fx.canary),
            "canary leaked into: {}",
            &s[..s.len().min(200)]
        );
    }
    assert!(seen.0.len() > 10);
}

fn probe_reports_up_with_version(fx: &Pm2Fixture, seen: &mut Seen) {
    let st = probe_daemon(&fx.home);
    assert_eq!(
        st,
        DaemonState::Up {
            version: PM2_VERSION.into(),
            pid: Some(fx.daemon_pid)
        }
    );
    seen.add(&st);
    let mut c = RpcClient::connect(fx.home.rpc_socket(), RpcOptions::default()).unwrap();
    c.ping().unwrap();
    assert_eq!(c.version().unwrap(), PM2_VERSION);
}

fn native_listing_equals_pm2_jlist(fx: &Pm2Fixture, seen: &mut Seen) {
    let native = fx.listing();
    let raw = fx.pm2_cmd(&["jlist"]);
    assert!(raw.status.success(), "pm2 jlist: {}", raw.status);
    let stdout = String::from_utf8_lossy(&raw.stdout);
    // The canary really is in PM2's output (twice per app), so the leak checks mean something.
    assert!(
        stdout.matches(&fx.canary).count() >= 2 * ALL_APPS.len(),
        "canary not found in raw pm2 jlist"
    );
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("[{"))
        .expect("jlist array line");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let mut from_cli: Vec<(String, u64, String, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["pm_id"].as_u64().unwrap(),
                p["pm2_env"]["status"].as_str().unwrap().to_string(),
                p["pm2_env"]["restart_time"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut from_native: Vec<(String, u64, String, u64)> = native
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.pm_id as u64,
                p.status.to_string(),
                p.restarts,
            )
        })
        .collect();
    from_cli.sort();
    from_native.sort();
    assert_eq!(from_native, from_cli);
    assert_eq!(
        native.len(),
        ALL_APPS.len() + 1,
        "flyer-crawler-api has 2 instances"
    );

    // Model details on real data.
    let api = find(&native, "flyer-crawler-api");
    assert_eq!(api.len(), 2);
    assert!(api
        .iter()
        .all(|p| p.exec_mode.as_ref().map(|m| m.as_str()) == Some("cluster_mode")));
    assert!(api
        .iter()
        .all(|p| p.pid.is_some() && p.uptime_since_ms.is_some()));
    let crash = one(&native, "crash-at-start");
    assert_eq!(crash.status, ProcessStatus::Errored);
    assert_eq!(crash.pid, None);
    assert_eq!(crash.exit_code, Some(1));
    let stock = one(&native, "stock-alert-api");
    assert!(stock
        .out_log
        .as_deref()
        .unwrap()
        .starts_with(fx.dir().to_str().unwrap()));
    seen.add_json(&native);
    seen.add(&native);

    // The CLI fallback gives the same listing (the daemon is up, so it starts none).
    let cli = CliSource {
        pm2_bin: fx.pm2.clone(),
        timeout: Duration::from_secs(30),
        pm2_home: Some(fx.dir().to_path_buf()),
    };
    let via_cli = cli.jlist().unwrap();
    let mut names: Vec<_> = via_cli.iter().map(|p| (p.pm_id, p.name.clone())).collect();
    names.sort();
    let mut want: Vec<_> = native.iter().map(|p| (p.pm_id, p.name.clone())).collect();
    want.sort();
    assert_eq!(names, want);
    seen.add_json(&via_cli);
}

fn pipelined_calls_on_the_real_daemon(fx: &Pm2Fixture, seen: &mut Seen) {
    let mut c = RpcClient::connect(fx.home.rpc_socket(), RpcOptions::default()).unwrap();
    let r = c
        .call_many(&[
            ReadCall::GetMonitorData,
            ReadCall::Ping,
            ReadCall::GetVersion,
        ])
        .unwrap();
    assert!(matches!(&r[0], Ok(Reply::Processes(l)) if l.len() == ALL_APPS.len() + 1));
    assert!(matches!(r[1], Ok(Reply::Pong)));
    assert!(matches!(&r[2], Ok(Reply::Version(v)) if v == PM2_VERSION));
    seen.add(&r);
    // The same connection stays usable.
    c.ping().unwrap();
}

fn kill_9_of_an_app_gives_exit_online_and_more_restarts(
    fx: &Pm2Fixture,
    sub: &EventSubscriber,
    seen: &mut Seen,
) {
    let before = fx.listing();
    let app = one(&before, "stock-alert-api").clone();
    let pid = app.pid.expect("stock-alert-api pid");
    // SAFETY: SIGKILL to an app pid of our own fixture's daemon.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);

    let (ok, msgs) = sub.wait_for(Duration::from_secs(15), |m| {
        is_process_event(m, "stock-alert-api", ProcessEventKind::Online)
    });
    assert!(ok, "no online event after kill -9: {msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| is_process_event(m, "stock-alert-api", ProcessEventKind::Exit)),
        "no exit event before online: {msgs:?}"
    );
    // The killing signal only shows in PM2's own log.
    let signal_seen = |m: &BusMsg| {
        matches!(m, BusMsg::Event(Pm2Event::Log(l))
            if l.stream == LogStream::Pm2 && l.data.contains("stock-alert-api") && l.data.contains("SIGKILL"))
    };
    if !msgs.iter().any(signal_seen) {
        let (ok, more) = sub.wait_for(Duration::from_secs(5), signal_seen);
        assert!(ok, "no log:PM2 line naming SIGKILL: {more:?}");
        seen.add(&more);
    }
    seen.add(&msgs);

    let after = fx.wait_until(
        Duration::from_secs(15),
        "stock-alert-api back online",
        |l| {
            find(l, "stock-alert-api").first().is_some_and(|p| {
                p.status == ProcessStatus::Online && p.pid.is_some_and(|p| p != pid)
            })
        },
    );
    assert!(one(&after, "stock-alert-api").restarts > app.restarts);
}

fn stop_gives_stopped(fx: &Pm2Fixture, sub: &EventSubscriber, seen: &mut Seen) {
    let out = fx.pm2_cmd(&["stop", "flyer-crawler-worker"]);
    assert!(out.status.success(), "pm2 stop: {}", out.status);
    let list = fx.listing();
    let w = one(&list, "flyer-crawler-worker");
    assert_eq!(w.status, ProcessStatus::Stopped);
    assert_eq!(w.pid, None);
    // Others untouched.
    assert_eq!(
        one(&list, "flyer-crawler-worker-test").status,
        ProcessStatus::Online
    );
    let (ok, msgs) = sub.wait_for(Duration::from_secs(10), |m| {
        matches!(m, BusMsg::Event(Pm2Event::Process(e))
            if e.name == "flyer-crawler-worker" && e.kind == ProcessEventKind::Stop && e.manually)
    });
    assert!(ok, "no stop event: {msgs:?}");
    seen.add(&msgs);
    seen.add_json(&list);
}

fn crashing_app_is_errored_after_restart_overlimit(
    fx: &Pm2Fixture,
    sub: &EventSubscriber,
    seen: &mut Seen,
) {
    let out = fx.pm2_cmd(&["restart", "crash-at-start"]);
    assert!(
        out.status.success(),
        "pm2 restart crash-at-start: {}",
        out.status
    );
    let (ok, msgs) = sub.wait_for(Duration::from_secs(20), |m| {
        is_process_event(m, "crash-at-start", ProcessEventKind::RestartOverlimit)
    });
    assert!(ok, "no restart overlimit event: {msgs:?}");
    seen.add(&msgs);
    let list = fx.wait_until(Duration::from_secs(10), "crash-at-start errored", |l| {
        find(l, "crash-at-start")
            .first()
            .is_some_and(|p| p.status == ProcessStatus::Errored)
    });
    let c = one(&list, "crash-at-start");
    assert!(c.restarts >= 3, "restarts {}", c.restarts);
    assert_eq!(c.exit_code, Some(1));
    // The app's stderr line arrives as a log event.
    assert!(
        msgs.iter().any(|m| matches!(m, BusMsg::Event(Pm2Event::Log(l))
            if l.stream == LogStream::Err && l.name == "crash-at-start" && l.data.contains("DATABASE_URL"))),
        "no log:err line from crash-at-start"
    );
}

fn delete_removes_the_app(fx: &Pm2Fixture, seen: &mut Seen) {
    let out = fx.pm2_cmd(&["delete", "flyer-crawler-analytics-worker-test"]);
    assert!(out.status.success(), "pm2 delete: {}", out.status);
    let list = fx.listing();
    assert!(find(&list, "flyer-crawler-analytics-worker-test").is_empty());
    assert_eq!(list.len(), ALL_APPS.len());
    seen.add_json(&list);
}

fn pm2_kill_gives_kill_event_then_end_of_stream(
    fx: &Pm2Fixture,
    sub: &EventSubscriber,
    seen: &mut Seen,
) {
    let out = fx.pm2_cmd(&["kill"]);
    assert!(out.status.success(), "pm2 kill: {}", out.status);
    let (ok, msgs) = sub.wait_for(Duration::from_secs(15), |m| {
        matches!(m, BusMsg::Disconnected { .. })
    });
    assert!(ok, "no end of stream after pm2 kill: {msgs:?}");
    let kill_at = msgs
        .iter()
        .position(|m| matches!(m, BusMsg::Event(Pm2Event::Kill { .. })))
        .unwrap_or_else(|| panic!("no pm2:kill event: {msgs:?}"));
    // Apps exit before pm2:kill; after it only the end of stream (and daemon log lines).
    assert!(
        !msgs[kill_at..]
            .iter()
            .any(|m| matches!(m, BusMsg::Event(Pm2Event::Process(_)))),
        "process events after pm2:kill: {msgs:?}"
    );
    seen.add(&msgs);
    // A clean kill removes the socket: not running (not "died").
    assert_eq!(probe_daemon(&fx.home), DaemonState::NotRunning);
    assert!(!fx.home.rpc_socket().exists());
}

/// A plain HTTP/1.0 GET: (status, content type, body), or Err on timeout / connection error.
fn http_get(port: u16, path: &str, timeout: Duration) -> Result<(u16, String, String), String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).map_err(|e| e.to_string())?;
    let (head, body) = buf.split_once("\r\n\r\n").ok_or("no header end")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    let ctype = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    Ok((status, ctype, body.to_string()))
}

fn sandbox_apps_serve_health_and_obey_their_control(fx: &Pm2Fixture) {
    let api = fx.ports["flyer-crawler-api"];
    let t = Duration::from_secs(5);
    // The runbook's shape: {"data":{"status":"healthy","services":{...}}}
    let (code, ctype, body) = http_get(api, "/api/health/ready", t).unwrap();
    assert_eq!((code, ctype.as_str()), (200, "application/json"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["status"], "healthy");
    assert_eq!(v["data"]["services"]["database"]["status"], "healthy");
    assert_eq!(http_get(api, "/api/health/ping", t).unwrap().0, 200);
    for app in ["flyer-crawler-api-test", "stock-alert-api"] {
        let (code, _, body) = http_get(fx.ports[app], "/api/health/ready", t).unwrap();
        assert_eq!(code, 200, "{app}");
        assert!(
            body.contains(&format!("\"app\":\"{app}\"")),
            "{app}: {body}"
        );
    }

    // Both cluster instances follow the control file: every answer is unhealthy.
    fx.set_health_mode("flyer-crawler-api", "unhealthy", 0);
    let mut instances = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let (code, _, body) = http_get(api, "/api/health/ready", t).unwrap();
        assert_eq!(code, 503);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["data"]["status"], "unhealthy");
        instances.insert(v["data"]["instance"].as_str().unwrap_or("?").to_string());
    }
    assert_eq!(
        instances.len(),
        2,
        "both cluster instances answered: {instances:?}"
    );

    fx.set_health_mode("flyer-crawler-api", "html", 0);
    let (code, ctype, body) = http_get(api, "/api/health/ready", t).unwrap();
    assert_eq!((code, ctype.as_str()), (502, "text/html"));
    assert!(body.contains("502 Bad Gateway"));

    fx.set_health_mode("flyer-crawler-api", "slow", 400);
    let start = Instant::now();
    assert_eq!(http_get(api, "/api/health/ready", t).unwrap().0, 200);
    assert!(start.elapsed() >= Duration::from_millis(400));

    fx.set_health_mode("flyer-crawler-api", "hang", 0);
    assert!(http_get(api, "/api/health/ready", Duration::from_millis(300)).is_err());

    // The admin endpoint switches modes too (and writes the shared control file).
    let (code, _, body) = http_get(api, "/__sandbox/mode?set=healthy", t).unwrap();
    assert_eq!(code, 200, "{body}");
    for _ in 0..4 {
        assert_eq!(http_get(api, "/api/health/ready", t).unwrap().0, 200);
    }
    // Another app was not affected by any of this.
    assert_eq!(
        http_get(fx.ports["stock-alert-api"], "/api/health/ready", t)
            .unwrap()
            .0,
        200
    );
}

fn the_pm2_subcommand_shows_the_table_without_secrets(fx: &Pm2Fixture) {
    let bin = env!("CARGO_BIN_EXE_pm2-incident");
    let home = fx.dir().to_str().unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(["pm2", "--pm2-home", home])
            .args(extra)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(&fx.canary),
            "canary printed by pm2-incident pm2 {extra:?}"
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            all,
        )
    };
    let (code, stdout, _) = run(&[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.starts_with(&format!(
        "PM2 daemon: up (PM2 {PM2_VERSION}, pid {})",
        fx.daemon_pid
    )));
    assert_eq!(stdout.matches("flyer-crawler-api ").count(), 2, "{stdout}");
    assert!(stdout
        .lines()
        .any(|l| l.contains("crash-at-start") && l.contains("errored")));

    let (code, stdout, _) = run(&["--json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["daemon"]["state"], "up");
    assert_eq!(v["processes"].as_array().unwrap().len(), ALL_APPS.len() + 1);

    let pm2 = fx.pm2.to_str().unwrap();
    let (code, _, all) = run(&[
        "--pm2-source",
        "cli",
        "--pm2-bin",
        pm2,
        "--pm2-timeout-ms",
        "30000",
    ]);
    assert_eq!(code, Some(0), "{all}");
    assert!(
        all.contains("STARTS a new, empty one"),
        "CLI source must warn"
    );
    assert!(all.contains("stock-alert-api"));
}
