//! A real PM2 daemon in a throwaway, short `PM2_HOME`, running the sandbox apps.
//!
//! - `pm2@7.0.4` is installed from npm once into `target/pm2-npm/` (an flock makes parallel
//!   test binaries wait for one installer).
//! - Each fixture gets its own `/tmp/p2iXXXXXX` home (socket paths stay far below 107 bytes),
//!   free ports, and a canary secret in every app's environment.
//! - Drop runs `pm2 kill` against that home only, then SIGKILLs any process whose environment
//!   names that home (daemon, apps orphaned by a SIGKILLed daemon). Nothing else is touched.
#![allow(dead_code)]

use pm2_incident::pm2::{pid_alive, read_pid_file, Pm2Home, Process, RpcClient, RpcOptions};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PM2_VERSION: &str = "7.0.4";
pub const CANARY_VAR: &str = "PM2I_CANARY_SECRET";

/// Every app in `assets/sandbox/sandbox.config.cjs`.
pub const ALL_APPS: &[&str] = &[
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
    "flyer-crawler-api-test",
    "flyer-crawler-worker-test",
    "flyer-crawler-analytics-worker-test",
    "stock-alert-api",
    "crash-at-start",
];

pub fn sandbox_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sandbox")
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp for integration tests and benches.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Path of the pinned `pm2` CLI, installing it on first use.
pub fn pm2_bin() -> PathBuf {
    let dir = target_dir().join("pm2-npm");
    let bin = dir.join("node_modules/pm2/bin/pm2");
    let marker = dir.join(format!(".installed-{PM2_VERSION}"));
    std::fs::create_dir_all(&dir).expect("create target/pm2-npm");
    let lock = File::create(target_dir().join("pm2-npm.lock")).expect("create pm2-npm.lock");
    // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock target/pm2-npm.lock failed");
    if !marker.exists() || !bin.exists() {
        let out = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
            ])
            .arg("--prefix")
            .arg(&dir)
            .arg(format!("pm2@{PM2_VERSION}"))
            .stdin(Stdio::null())
            .output()
            .expect("run npm (is Node/npm installed?)");
        assert!(
            out.status.success(),
            "npm install pm2@{PM2_VERSION} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&marker, PM2_VERSION).expect("write install marker");
    }
    drop(lock);
    bin
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Run a command with a timeout; kills it (by its pid) when late.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn command");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => out.expect("wait for command"),
        Err(_) => {
            // SAFETY: signalling the child we spawned, by pid.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("command {cmd:?} did not finish within {timeout:?}");
        }
    }
}

pub struct Pm2Fixture {
    tmp: tempfile::TempDir,
    pub home: Pm2Home,
    pub pm2: PathBuf,
    pub canary: String,
    /// App name -> HTTP port, for the apps that serve HTTP.
    pub ports: BTreeMap<&'static str, u16>,
    pub daemon_pid: u32,
}

impl Pm2Fixture {
    /// Start a daemon running `apps` (names from [`ALL_APPS`]) and wait until the HTTP apps
    /// are online (and `crash-at-start`, if present, is errored).
    pub fn start(apps: &[&str]) -> Pm2Fixture {
        let pm2 = pm2_bin();
        let tmp = tempfile::Builder::new()
            .prefix("p2i")
            .tempdir_in("/tmp")
            .expect("create PM2_HOME under /tmp");
        let home = Pm2Home::new(tmp.path()).expect("short PM2_HOME");
        // The temp dir name is random, so the canary is unique per fixture.
        let canary = format!(
            "cnry-{}-{}-S3CR3T",
            tmp.path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("x"),
            std::process::id()
        );
        let mut ports = BTreeMap::new();
        for (app, _, _) in HTTP_APPS {
            ports.insert(*app, free_port());
        }
        let mut fx = Pm2Fixture {
            tmp,
            home,
            pm2,
            canary,
            ports,
            daemon_pid: 0,
        };
        let out = fx.pm2_cmd(&[
            "start",
            &sandbox_dir().join("sandbox.config.cjs").to_string_lossy(),
            "--only",
            &apps.join(","),
        ]);
        assert!(
            out.status.success(),
            "pm2 start failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        fx.daemon_pid = read_pid_file(&fx.home.pid_file()).expect("pm2.pid after start");
        let want: Vec<String> = apps.iter().map(|s| s.to_string()).collect();
        fx.wait_until(Duration::from_secs(30), "all apps settled", |list| {
            want.iter().all(|name| {
                let mine: Vec<&Process> = list.iter().filter(|p| &p.name == name).collect();
                let expected = if name == "flyer-crawler-api" { 2 } else { 1 };
                let target = if name == "crash-at-start" {
                    "errored"
                } else {
                    "online"
                };
                mine.len() == expected && mine.iter().all(|p| p.status.as_str() == target)
            })
        });
        for (app, port) in &fx.ports {
            if apps.contains(app) {
                wait_tcp(*port, Duration::from_secs(15));
            }
        }
        fx
    }

    /// Start a daemon running the apps of other ecosystem files (not the sandbox's),
    /// with `env` added to the `pm2` CLI's environment (the apps inherit it, and the
    /// canary); waits until each `(name, instances)` in `expect` is online.
    pub fn start_configs(
        configs: &[PathBuf],
        env: &[(String, String)],
        expect: &[(&str, usize)],
    ) -> Pm2Fixture {
        let pm2 = pm2_bin();
        let tmp = tempfile::Builder::new()
            .prefix("p2i")
            .tempdir_in("/tmp")
            .expect("create PM2_HOME under /tmp");
        let home = Pm2Home::new(tmp.path()).expect("short PM2_HOME");
        let canary = format!(
            "cnry-{}-{}-S3CR3T",
            tmp.path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("x"),
            std::process::id()
        );
        let mut fx = Pm2Fixture {
            tmp,
            home,
            pm2,
            canary,
            ports: BTreeMap::new(),
            daemon_pid: 0,
        };
        for c in configs {
            let mut cmd = fx.command(&["start", &c.to_string_lossy()]);
            for (k, v) in env {
                cmd.env(k, v);
            }
            let out = run_with_timeout(cmd, Duration::from_secs(60));
            assert!(
                out.status.success(),
                "pm2 start {} failed: {}",
                c.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        fx.daemon_pid = read_pid_file(&fx.home.pid_file()).expect("pm2.pid after start");
        fx.wait_until(Duration::from_secs(30), "apps online", |list| {
            expect.iter().all(|(name, n)| {
                let mine: Vec<&Process> = list.iter().filter(|p| p.name == *name).collect();
                mine.len() == *n && mine.iter().all(|p| p.status.as_str() == "online")
            })
        });
        fx
    }

    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// The `pm2` CLI against this fixture's home, with the canary and ports in its environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.pm2);
        cmd.args(args)
            .env("PM2_HOME", self.tmp.path())
            .env(CANARY_VAR, &self.canary)
            .env_remove("PM2_DAEMON_RPC_PORT")
            .env_remove("PM2_DAEMON_PUB_PORT");
        for (app, port_var, control_var) in HTTP_APPS {
            // A fixture of other apps (`start_configs`) has no sandbox ports.
            if let Some(port) = self.ports.get(app) {
                cmd.env(port_var, port.to_string());
                cmd.env(control_var, self.control_file(app));
            }
        }
        cmd
    }

    /// The file an HTTP app reads its health mode from on every request (all cluster
    /// instances agree). See assets/sandbox/health-api.js for the modes.
    pub fn control_file(&self, app: &str) -> PathBuf {
        self.tmp.path().join(format!("control-{app}"))
    }

    /// Make `app` answer healthy / unhealthy / slow / html / hang / error500 from now on.
    pub fn set_health_mode(&self, app: &str, mode: &str, slow_ms: u64) {
        std::fs::write(self.control_file(app), format!("{mode} {slow_ms}\n"))
            .expect("write control file");
    }

    /// SIGKILL this home's daemon (by pid) and wait until it is gone: a crashed daemon.
    pub fn kill_daemon(&self) {
        // SAFETY: SIGKILL to the daemon of our own throwaway PM2_HOME, by pid.
        assert_eq!(
            unsafe { libc::kill(self.daemon_pid as libc::pid_t, libc::SIGKILL) },
            0
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while pid_alive(self.daemon_pid) {
            assert!(Instant::now() < deadline, "daemon survived SIGKILL");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pm2_cmd(&self, args: &[&str]) -> Output {
        run_with_timeout(self.command(args), Duration::from_secs(60))
    }

    /// A native listing via rpc.sock (the library under test).
    pub fn listing(&self) -> Vec<Process> {
        RpcClient::connect(self.home.rpc_socket(), RpcOptions::default())
            .and_then(|mut c| c.monitor_data())
            .unwrap_or_else(|e| panic!("native listing failed: {e}"))
    }

    /// Poll the native listing until `pred` holds; panics with `what` on timeout.
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        mut pred: impl FnMut(&[Process]) -> bool,
    ) -> Vec<Process> {
        let deadline = Instant::now() + timeout;
        loop {
            let list = RpcClient::connect(self.home.rpc_socket(), RpcOptions::default())
                .and_then(|mut c| c.monitor_data());
            if let Ok(list) = &list {
                if pred(list) {
                    return list.clone();
                }
            }
            if Instant::now() >= deadline {
                let summary: Vec<String> = match &list {
                    Ok(l) => l
                        .iter()
                        .map(|p| format!("{}#{}={}", p.name, p.pm_id, p.status))
                        .collect(),
                    Err(e) => vec![e.to_string()],
                };
                panic!("timed out after {timeout:?} waiting for {what}; last: {summary:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Pids of every process whose environment names this fixture's PM2_HOME.
    pub fn processes_of_this_home(&self) -> Vec<u32> {
        pm2_incident::drill::sandbox::processes_of_home(self.tmp.path())
            .into_iter()
            .filter(|pid| pid_alive(*pid))
            .collect()
    }
}

/// The HTTP apps and the env vars the ecosystem files read: (app, port var, control-file var).
pub const HTTP_APPS: &[(&str, &str, &str)] = &[
    (
        "flyer-crawler-api",
        "FLYER_API_PORT",
        "FLYER_API_CONTROL_FILE",
    ),
    (
        "flyer-crawler-api-test",
        "FLYER_API_TEST_PORT",
        "FLYER_API_TEST_CONTROL_FILE",
    ),
    (
        "stock-alert-api",
        "STOCK_ALERT_PORT",
        "STOCK_ALERT_CONTROL_FILE",
    ),
];

pub fn wait_tcp(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "port {port} not listening after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Pm2Fixture {
    fn drop(&mut self) {
        if pid_alive(self.daemon_pid) && self.home.rpc_socket().exists() {
            let mut cmd = self.command(&["kill"]);
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Ok(mut child) = cmd.spawn() {
                let deadline = Instant::now() + Duration::from_secs(15);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // Whatever is left of this home only: daemon, orphaned apps.
        for _ in 0..3 {
            let left = self.processes_of_this_home();
            if left.is_empty() {
                break;
            }
            for pid in left {
                // SAFETY: SIGKILL to a pid whose environment names our private PM2_HOME.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A listing of `n` apps with fat environments (secrets in both places PM2 puts them).
pub fn synthetic_listing(n: usize, env_vars: usize) -> String {
    let mut env = String::new();
    for i in 0..env_vars {
        if i > 0 {
            env.push(',');
        }
        env.push_str(&format!(r#""VAR_{i}":"value-{i}-{}""#, "x".repeat(60)));
    }
    let procs: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"pid":{pid},"name":"app-{i}","pm2_env":{{{env},"SECRET":"hunter2","env":{{{env},"SECRET":"hunter2"}},"name":"app-{i}","namespace":"default","pm_id":{i},"status":"online","exec_mode":"fork_mode","restart_time":{i},"unstable_restarts":0,"pm_uptime":1795894251013,"created_at":1795894251000,"axm_monitor":{{"Heap Size":{{"value":"9.73","unit":"MiB"}},"HTTP":{{"value":0.5,"unit":"req/min"}}}}}},"pm_id":{i},"monit":{{"memory":56455168,"cpu":0.3}}}}"#,
                pid = 1000 + i
            )
        })
        .collect();
    format!("[{}]", procs.join(","))
}
