//! The shims end to end: a DrillEnv in a temp dir, real `sh`, real `jq`, real `grep`, the
//! built binary behind the shims, the scrubbed environment, and an injected clock.
use std::path::Path;
use std::process::Command;

use pm2_incident::drill::{self, env::NOW_ENV, DrillEnv};
use pm2_incident::runbook::Runbook;

const START: i64 = 1_795_000_000_000;
const EXE: &str = env!("CARGO_BIN_EXE_pm2-incident");

fn world(id: &str, tmp: &Path) -> DrillEnv {
    let rb = Runbook::embedded().expect("runbook");
    let s = drill::builtin(id, &rb.inventory).expect("scenario");
    DrillEnv::create(&s, &rb, tmp, Path::new(EXE), START).expect("drill env")
}

/// `sh -c SCRIPT` in `dir` with only the drill's environment, at simulated time `at`.
fn sh(d: &DrillEnv, dir: &Path, at: i64, script: &str) -> (i32, String, String) {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .envs(d.env())
        .env(NOW_ENV, at.to_string())
        .output()
        .expect("sh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn prod_dir(d: &DrillEnv) -> std::path::PathBuf {
    Path::new(
        &d.runbook
            .inventory
            .deployment("flyer-crawler-prod")
            .unwrap()
            .dir,
    )
    .to_path_buf()
}

#[test]
fn jlist_through_jq_gives_the_simulated_state() {
    let tmp = tempfile::tempdir().unwrap();
    let d = world("test-killed", tmp.path());
    let (code, out, err) = sh(
        &d,
        tmp.path(),
        START + 1000,
        "pm2 jlist | jq -c '.[] | {name, status: .pm2_env.status}'",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8, "{out}");
    assert_eq!(
        lines[0],
        r#"{"name":"flyer-crawler-api","status":"online"}"#
    );
    assert_eq!(
        lines[2],
        r#"{"name":"flyer-crawler-worker","status":"online"}"#
    );
    assert_eq!(
        lines[5],
        r#"{"name":"flyer-crawler-worker-test","status":"stopped"}"#
    );
    let (_, out, _) = sh(
        &d,
        tmp.path(),
        START + 1000,
        "pm2 list | grep -c -- '-test .* stopped'",
    );
    assert_eq!(out.trim(), "3");
    // The runbook's `pm2 list | grep stock-alert`.
    let (code, out, _) = sh(&d, tmp.path(), START + 1000, "pm2 list | grep stock-alert");
    assert_eq!(code, 0);
    assert!(
        out.contains("stock-alert-api") && out.contains("online"),
        "{out}"
    );
}

#[test]
fn start_in_the_production_dir_brings_production_online_after_the_launch_delay() {
    let tmp = tempfile::tempdir().unwrap();
    let d = world("delete-all", tmp.path());
    let prod = prod_dir(&d);
    let (_, out, _) = sh(&d, &prod, START + 1000, "pm2 jlist");
    assert_eq!(out.trim(), "[]");
    let (code, out, err) = sh(&d, &prod, START + 60_000, "pm2 start ecosystem.config.cjs");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("not running, starting..."), "{out}");
    let status = "pm2 jlist | jq -r '.[] | .name + \" \" + .pm2_env.status'";
    let (_, out, _) = sh(&d, &prod, START + 60_500, status);
    assert!(out.lines().all(|l| l.ends_with(" launching")), "{out}");
    assert_eq!(out.lines().count(), 4, "api x2 + 2 workers: {out}");
    let (_, out, _) = sh(&d, &prod, START + 61_600, status);
    assert!(out.lines().all(|l| l.ends_with(" online")), "{out}");
    // The runbook's gate check through the local route, with real jq.
    let (code, out, _) = sh(
        &d,
        &prod,
        START + 62_000,
        "curl -s http://localhost:3001/api/health/ready | jq -r '.data.status'",
    );
    assert_eq!((code, out.trim()), (0, "healthy"));
    // Stock Alert is still down through NGINX.
    let (_, out, _) = sh(&d, &prod, START + 62_000, "curl -s -o /dev/null -w '%{http_code}' https://stock-alert.projectium.com/api/health/ready");
    assert_eq!(out, "502");
    // The poller sees the same world.
    let snap = d.snapshot(START + 62_000);
    assert_eq!(snap.processes.map(|p| p.len()), Some(4));
    let h = d.health_round(START + 62_000);
    let prod_ok: Vec<bool> = h
        .iter()
        .filter(|r| r.target.deployment == "flyer-crawler-prod")
        .map(|r| r.verdict.is_healthy())
        .collect();
    assert_eq!(prod_ok, [true, true]);
}

#[test]
fn daemon_killed_trap_ping_revives_an_empty_daemon() {
    let tmp = tempfile::tempdir().unwrap();
    let d = world("daemon-killed", tmp.path());
    assert!(d.home.join("rpc.sock").exists(), "stale socket left behind");
    assert_eq!(
        d.snapshot(START + 1000).kind(),
        pm2_incident::pm2::DaemonKind::Died
    );
    let (code, out, _) = sh(
        &d,
        tmp.path(),
        START + 2000,
        "systemctl status pm2-gitea-runner --no-pager",
    );
    assert_eq!(code, 3);
    assert!(out.contains("code=killed, signal=KILL"), "{out}");
    let (code, out, _) = sh(&d, tmp.path(), START + 3000, "pm2 ping");
    assert_eq!(code, 0);
    assert!(
        out.contains("Spawning PM2 daemon with pm2_home=") && out.ends_with("{ msg: 'pong' }\n"),
        "{out}"
    );
    let snap = d.snapshot(START + 4000);
    assert_eq!(snap.kind(), pm2_incident::pm2::DaemonKind::Up);
    assert_eq!(snap.processes.map(|p| p.len()), Some(0));
    let (_, out, _) = sh(&d, tmp.path(), START + 5000, "pm2 jlist");
    assert_eq!(
        out.trim(),
        "[]",
        "the second command finds the new empty daemon, no spawn message"
    );
}

#[test]
fn system_clues_and_files_are_where_the_runbook_looks() {
    let tmp = tempfile::tempdir().unwrap();
    let d = world("oom-worker", tmp.path());
    let prod = prod_dir(&d);
    let (_, out, _) = sh(
        &d,
        &prod,
        START + 1000,
        r#"journalctl -k -n 50 --no-pager | grep -i "killed\|oom\|memory" | tail -1"#,
    );
    assert!(
        out.contains("kernel: Out of memory: Killed process"),
        "{out}"
    );
    let (_, out, _) = sh(&d, &prod, START + 1000, "free -h | grep Mem");
    assert!(out.contains("160Mi"), "{out}");
    let (_, out, _) = sh(&d, &prod, START + 1000, "df -h /");
    assert_eq!(out.lines().count(), 2);
    assert!(out.lines().nth(1).unwrap().ends_with("/"), "{out}");
    let (_, out, _) = sh(&d, &prod, START + 1000, "git log --oneline -3");
    assert_eq!(out.lines().count(), 3, "{out}");
    let (code, _, err) = sh(&d, tmp.path(), START + 1000, "git log --oneline -5");
    assert_eq!(code, 128, "outside the app directory git has no repository");
    assert!(err.starts_with("fatal: not a git repository"));
    // ~/.pm2 is PM2_HOME: the runbook's `tail ~/.pm2/logs/...` reads real files.
    let (_, out, _) = sh(
        &d,
        &prod,
        START + 1000,
        "tail -3 ~/.pm2/pm2.log; ls ~/.pm2/logs/ | grep -c worker",
    );
    assert!(out.contains("too many unstable restarts (15)"), "{out}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&d.state_path).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn the_environment_is_scrubbed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = world("delete-all", tmp.path());
    let (_, out, _) = sh(
        &d,
        tmp.path(),
        START,
        "env | cut -d= -f1 | sort | tr '\\n' ' '",
    );
    assert_eq!(
        out.trim(),
        format!(
            "HOME LANG PATH PM2_HOME {} {NOW_ENV} PWD TERM",
            drill::env::STATE_ENV
        )
        .trim()
    );
    let (_, out, _) = sh(&d, tmp.path(), START, "command -v pm2");
    assert_eq!(out.trim(), d.bin.join("pm2").display().to_string());
}

#[test]
fn tail_reads_the_drill_files_and_never_the_hosts_var_log() {
    let tmp = tempfile::tempdir().unwrap();
    let d = world("delete-all", tmp.path());
    // The runbook's `cat ~/.pm2/pm2.log | tail -100` and `tail -100 ~/.pm2/logs/...`: real drill files.
    let (code, out, err) = sh(&d, tmp.path(), START + 1000, "tail -n 3 ~/.pm2/pm2.log");
    assert_eq!(code, 0, "{err}");
    assert!(!out.is_empty() && out.lines().count() <= 3, "{out}");
    // `tail -50 /var/log/auth.log`: the simulated server's, never this machine's.
    let (code, out, err) = sh(&d, tmp.path(), START + 1000, "tail -50 /var/log/auth.log");
    assert_eq!(code, 0, "{err}");
    if let Ok(host) = std::fs::read_to_string("/var/log/auth.log") {
        for l in host.lines().filter(|l| l.len() > 20).take(20) {
            assert!(!out.contains(l), "host auth.log leaked into the drill: {l}");
        }
    }
    let (code, _, err) = sh(&d, tmp.path(), START + 1000, "tail /var/log/syslog");
    assert_eq!(code, 1);
    assert!(err.contains("No such file"), "{err}");
}
