//! `--host` over a real OpenSSH: a throwaway sshd on 127.0.0.1 (tests/support/sshd.rs), real
//! PM2 homes behind it reached as separate host aliases, the product's own ssh client driven
//! through `PM2_INCIDENT_SSH_COMMAND="ssh -F <test config>"`.
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use pm2_incident::pm2::DaemonState;
use pm2_incident::remote::{observe_remote, Dest, Session, SessionOptions, SshCommand};
use support::pm2_fixture::{Pm2Fixture, ALL_APPS};
use support::sandbox_site::SandboxSite;
use support::sshd::{sockets_under, ssh_processes_mentioning, Sshd};

fn bin(rt: &Path, sshd: &Sshd, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(args)
        .env("PM2_INCIDENT_SSH_COMMAND", sshd.ssh_command())
        .env("XDG_RUNTIME_DIR", rt)
        .env("NO_COLOR", "1")
        .output()
        .expect("run pm2-incident")
}

fn local(fx: &Pm2Fixture, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(args)
        .env("PM2_HOME", fx.dir())
        .env("NO_COLOR", "1")
        .output()
        .expect("run pm2-incident")
}

/// Latencies differ between any two runs; everything else must match.
fn mask_ms(s: &str) -> String {
    s.lines()
        .map(|l| match l.strip_suffix(" ms") {
            Some(head) => format!(
                "{} N ms",
                head.trim_end_matches(|c: char| c.is_ascii_digit())
                    .trim_end()
            ),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Live figures (latency, cpu, memory, PM2's metrics) move between any two reads.
fn mask_json(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("host");
    }
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                for k in ["latency_ms", "cpu_percent", "memory_bytes", "metrics"] {
                    if o.contains_key(k) {
                        o.insert(k.into(), serde_json::Value::Null);
                    }
                }
                o.values_mut().for_each(walk);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

fn all_but_crashing() -> Vec<&'static str> {
    ALL_APPS
        .iter()
        .copied()
        .filter(|a| *a != "crash-at-start")
        .collect()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_clean(rt: &Path) {
    let left: Vec<_> = std::fs::read_dir(rt)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind in the runtime dir: {left:?}");
    assert!(sockets_under(rt).is_empty());
    let procs = ssh_processes_mentioning(&rt.display().to_string());
    assert!(procs.is_empty(), "ssh processes left running: {procs:?}");
}

#[test]
fn snapshot_over_ssh_matches_the_local_snapshot_and_leaves_nothing_behind() {
    let fx = Pm2Fixture::start(&all_but_crashing());
    // A saved list: both judge the inventory's fit with it (read over ssh remotely).
    assert!(fx.pm2_cmd(&["save"]).status.success());
    let site = SandboxSite::new(&fx);
    let mut sshd = Sshd::start();
    let host = sshd.alias("web1", Some(fx.dir()));
    let rt = tempfile::tempdir().unwrap();
    let inv = site.inventory.display().to_string();

    for situation in ["healthy", "api stopped"] {
        if situation == "api stopped" {
            assert!(fx.pm2_cmd(&["stop", "flyer-crawler-api"]).status.success());
        }
        let l = local(&fx, &["snapshot", "--inventory", &inv]);
        let r = bin(
            rt.path(),
            &sshd,
            &["snapshot", "--inventory", &inv, "--host", &host],
        );
        // Deployments and the freeze file are read from this machine's /proc and state
        // directory: a local-only section, not part of what ssh reads.
        let lt: String = text(&l)
            .lines()
            .filter(|l| {
                !l.starts_with("deploy running:")
                    && !l.starts_with("freeze")
                    && !l.starts_with("deployments are")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let rtxt = text(&r);
        let mut lines = rtxt.lines();
        assert_eq!(
            lines.next(),
            Some("Host web1"),
            "{rtxt}\n{}",
            String::from_utf8_lossy(&r.stderr)
        );
        let rest: Vec<&str> = lines.collect();
        assert_eq!(
            mask_ms(&rest.join("\n")),
            mask_ms(lt.trim_end_matches('\n')),
            "{situation}: remote differs from local\n--- local\n{lt}\n--- remote\n{rtxt}"
        );
        assert_eq!(r.status.code(), l.status.code(), "{situation}");
        assert!(!rtxt.contains(&fx.canary));

        let lj = local(&fx, &["snapshot", "--json", "--inventory", &inv]);
        let rj = bin(
            rt.path(),
            &sshd,
            &["snapshot", "--json", "--inventory", &inv, "--host", &host],
        );
        let rv: serde_json::Value = serde_json::from_slice(&rj.stdout).expect("remote JSON");
        assert_eq!(rv["host"], "web1");
        let mut lv: serde_json::Value = serde_json::from_slice(&lj.stdout).expect("local JSON");
        lv.as_object_mut().unwrap().remove("deploys");
        assert_eq!(mask_json(rv), mask_json(lv), "{situation}: JSON differs");
        assert_clean(rt.path());
    }
    // The stopped API shows as refused on its local_url, seen from the server's side.
    let rj = bin(
        rt.path(),
        &sshd,
        &["snapshot", "--json", "--inventory", &inv, "--host", &host],
    );
    let v: serde_json::Value = serde_json::from_slice(&rj.stdout).unwrap();
    let local_prod = v["health"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| {
            h["target"]["deployment"] == "flyer-crawler-prod" && h["target"]["route"] == "local"
        })
        .unwrap();
    assert_eq!(local_prod["verdict"]["verdict"], "refused", "{local_prod}");

    // `pm2 --host` lists the same processes; no daemon was started anywhere.
    let p = bin(rt.path(), &sshd, &["pm2", "--host", &host]);
    let out = text(&p);
    assert!(
        out.starts_with("Host: web1\nPM2 daemon: up (PM2 7.0.4"),
        "{out}"
    );
    assert!(
        out.contains("flyer-crawler-api") && out.contains("stopped"),
        "{out}"
    );
    assert_eq!(p.status.code(), Some(0));
    assert_eq!(
        pm2_incident::pm2::liveness::read_pid_file(&fx.home.pid_file()),
        Some(fx.daemon_pid)
    );
    assert_clean(rt.path());
}

#[test]
fn several_hosts_print_all_and_exit_with_the_worst() {
    let fx = Pm2Fixture::start(&all_but_crashing());
    let site = SandboxSite::new(&fx);
    let empty = tempfile::Builder::new()
        .prefix("p2ie")
        .tempdir_in("/tmp")
        .unwrap();
    let mut sshd = Sshd::start();
    let good = sshd.alias("good", Some(fx.dir()));
    let dead = sshd.alias("dead", Some(empty.path()));
    let rt = tempfile::tempdir().unwrap();
    let inv = site.inventory.display().to_string();
    let r = bin(
        rt.path(),
        &sshd,
        &[
            "snapshot",
            "--json",
            "--inventory",
            &inv,
            "--host",
            &good,
            "--host",
            &dead,
            "--host",
            "nosuch.invalid",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.stdout)));
    let arr = v.as_array().expect("an array with several hosts");
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0]["host"], "good");
    assert_eq!(arr[0]["severity"]["level"], "none");
    assert_eq!(arr[1]["pm2"]["daemon"], "not_running");
    assert_ne!(arr[1]["severity"]["level"], "none");
    // The unreachable host says why, and is never "no incident".
    assert_eq!(arr[2]["pm2"]["daemon"], "error");
    assert!(arr[2]["pm2"]["detail"]
        .as_str()
        .unwrap()
        .contains("nosuch.invalid"));
    assert_eq!(arr[2]["severity"]["level"], "unknown");
    // No daemon was started in the empty home.
    assert!(!empty.path().join("rpc.sock").exists() && !empty.path().join("pm2.pid").exists());
    let worst = arr
        .iter()
        .map(|h| match h["severity"]["level"].as_str().unwrap() {
            "P1" => 3,
            "unknown" => 4,
            "P2" => 2,
            "P3" => 1,
            _ => 0,
        })
        .collect::<Vec<_>>();
    let expect = if worst.contains(&3) { 3 } else { 4 };
    assert_eq!(r.status.code(), Some(expect));
    assert_clean(rt.path());
}

#[test]
fn a_killed_master_shows_as_down_and_the_next_reading_recovers() {
    let fx = Pm2Fixture::start(&["flyer-crawler-api"]);
    let mut sshd = Sshd::start();
    let host = sshd.alias("web1", None);
    let rt = tempfile::tempdir().unwrap();
    let session = Session::connect(
        SshCommand::parse(Some(&sshd.ssh_command())),
        Dest::parse(&host).unwrap(),
        SessionOptions {
            runtime_base: Some(rt.path().to_path_buf()),
            ..SessionOptions::default()
        },
    )
    .expect("connect");
    let r = observe_remote(&session, Some(fx.dir()), 3000);
    assert!(
        matches!(r.reading.daemon, DaemonState::Up { .. }),
        "{:?}",
        r.reading
    );
    assert_eq!(r.reading.processes.as_ref().map(Vec::len), Some(2));
    let pid = session.master_pid().expect("master pid");
    // SAFETY: the master this test's session started, by pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(100));
    assert!(!session.is_up(), "the dead master must show as down");
    // The forwarded socket no longer answers: the old local home reads as an error, not as
    // a dead daemon.
    let again = observe_remote(&session, Some(fx.dir()), 3000);
    assert!(
        matches!(again.reading.daemon, DaemonState::Up { .. }),
        "{:?}",
        again.reading
    );
    assert!(again.reconnected, "the reading says it reconnected");
    assert_ne!(session.master_pid(), Some(pid));
    assert!(session.is_up());
    let dir = session.runtime_dir().to_path_buf();
    drop(session);
    assert!(!dir.exists(), "runtime dir removed on close");
    assert!(ssh_processes_mentioning(&rt.path().display().to_string()).is_empty());
}

#[test]
fn pm2_watch_over_ssh_follows_the_forwarded_bus_and_cleans_up_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let fx = Pm2Fixture::start(&["flyer-crawler-worker"]);
    let mut sshd = Sshd::start();
    let host = sshd.alias("web1", Some(fx.dir()));
    let rt = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(["pm2", "--watch", "--host", &host])
        .env("PM2_INCIDENT_SSH_COMMAND", sshd.ssh_command())
        .env("XDG_RUNTIME_DIR", rt.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let wait_line = |pred: &dyn Fn(&str) -> bool, what: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if pred(&l) => return l,
                Ok(_) => {}
                Err(_) => panic!("no line for {what}"),
            }
        }
    };
    wait_line(&|l| l == "bus: connected", "the bus");
    assert!(fx
        .pm2_cmd(&["stop", "flyer-crawler-worker"])
        .status
        .success());
    let l = wait_line(
        &|l| l.starts_with("event:") && l.contains("flyer-crawler-worker"),
        "the stop event",
    );
    assert!(l.contains("stop") || l.contains("exit"), "{l}");
    // SAFETY: the child this test spawned, by pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let st = child.wait().unwrap();
    assert!(
        st.code().is_some(),
        "ended through its handler, not killed: {st:?}"
    );
    assert_clean(rt.path());
}

#[test]
fn an_unknown_host_key_is_refused_with_a_clear_error_and_nothing_left() {
    let mut sshd = Sshd::start();
    let other_known = sshd.dir.path().join("empty_known_hosts");
    std::fs::write(&other_known, "").unwrap();
    let host = sshd.alias_with_config(
        "stranger",
        &format!("  UserKnownHostsFile {}\n", other_known.display()),
    );
    let rt = tempfile::tempdir().unwrap();
    let out = bin(rt.path(), &sshd, &["snapshot", "--json", "--host", &host]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let detail = v["pm2"]["detail"].as_str().unwrap();
    assert!(
        detail.contains("stranger") && detail.contains("Host key verification failed"),
        "{detail}"
    );
    assert_eq!(v["severity"]["level"], "unknown");
    assert_eq!(out.status.code(), Some(4));
    // The key was not learnt: the file the config names is still empty.
    assert_eq!(std::fs::read_to_string(&other_known).unwrap(), "");
    assert_clean(rt.path());
}
