//! `drill --sandbox`: the scenario on a real PM2 in a throwaway `PM2_HOME`. Each
//! inventory process becomes a small Node stand-in (`assets/sandbox/standin.js`) started
//! from an ecosystem file written per deployment; the fault is injected with the real
//! `pm2` CLI against that home only; teardown ends every process whose environment
//! names that home (by pid), then removes the directory.
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::scenario::{concrete_name, Scenario};
use super::state::FaultAction;
use crate::runbook::Inventory;

const STANDIN: &str = include_str!("../../../../assets/sandbox/standin.js");

/// A sandbox PM2 server built from an inventory.
#[derive(Debug)]
pub struct Sandbox {
    pub dir: PathBuf,
    /// The throwaway `PM2_HOME`.
    pub home: PathBuf,
    /// The `pm2` CLI used (pinned npm copy or `--pm2 PATH`), linked as `dir/bin/pm2`.
    pub pm2: PathBuf,
    /// The inventory with each deployment's dir, URLs and ports moved into the sandbox.
    pub inventory: Inventory,
}

fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl Sandbox {
    /// Write the stand-ins, ecosystem files and the sandbox inventory under a new
    /// private directory in `base` (keep `base` short: PM2's socket paths must fit 107 bytes).
    pub fn create(inv: &Inventory, base: &Path, pm2: &Path) -> io::Result<Sandbox> {
        let dir = crate::safe_fs::mkdtemp_in(base, "p2i-sbx-")?;
        let home = dir.join("h");
        let bin = dir.join("bin");
        for d in [&home, &bin, &dir.join("crash"), &dir.join("apps")] {
            std::fs::create_dir(d)?;
        }
        std::os::unix::fs::symlink(pm2, bin.join("pm2"))?;
        let standin = dir.join("standin.js");
        std::fs::write(&standin, STANDIN)?;
        let mut sb = inv.clone();
        for (i, d) in sb.deployment.iter_mut().enumerate() {
            let app_dir = dir.join("apps").join(i.to_string());
            std::fs::create_dir(&app_dir)?;
            let port = free_port()?;
            let mut apps = String::new();
            for (k, p) in d.processes.get_ref().iter().enumerate() {
                let name = concrete_name(p);
                let crash = dir.join("crash").join(&name);
                let port_env = if k == 0 {
                    format!("PORT: \"{port}\", ")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    apps,
                    "    {{ name: {n}, script: {s}, cwd: {c}, min_uptime: 2000, max_restarts: 15, restart_delay: 200,\n      env: {{ {port_env}STANDIN_NAME: {n}, READY_PATH: {r}, PING_PATH: {pi}, HEALTH_FORMAT: {f}, CRASH_FLAG: {cf} }} }},",
                    n = js(&name),
                    s = js(&standin.display().to_string()),
                    c = js(&app_dir.display().to_string()),
                    r = js(&d.ready_path),
                    pi = js(&d.ping_path),
                    f = js(&serde_json::to_value(d.health_format)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()),
                    cf = js(&crash.display().to_string()),
                );
            }
            std::fs::write(
                app_dir.join(&d.config),
                format!("// sandbox stand-ins for {}\nmodule.exports = {{\n  apps: [\n{apps}  ],\n}};\n", d.id.get_ref()),
            )?;
            d.dir = app_dir.display().to_string();
            // No NGINX in the sandbox: health goes straight to the stand-in's port.
            d.public_url = String::new();
            d.local_url = Some(format!("http://127.0.0.1:{port}"));
        }
        Ok(Sandbox {
            dir,
            home,
            pm2: pm2.to_path_buf(),
            inventory: sb,
        })
    }

    /// Environment for every `pm2` run in the sandbox (and the responder's commands).
    pub fn env(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        vec![
            ("PM2_HOME".into(), self.home.display().to_string()),
            (
                "PATH".into(),
                format!("{}:{path}", self.dir.join("bin").display()),
            ),
        ]
    }

    /// Run the sandbox's `pm2` with `args` in `cwd`; output is dropped (it can carry env).
    pub fn pm2(&self, args: &[&str], cwd: &Path) -> io::Result<bool> {
        let mut c = Command::new(&self.pm2);
        c.args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in self.env() {
            c.env(k, v);
        }
        Ok(c.status()?.success())
    }

    /// Start every deployment, wait for each health endpoint, then `pm2 save`.
    pub fn start(&self) -> io::Result<()> {
        for d in &self.inventory.deployment {
            if !self.pm2(&["start", &d.config], Path::new(&d.dir))? {
                return Err(io::Error::other(format!(
                    "pm2 start {} failed in the sandbox",
                    d.config
                )));
            }
        }
        for d in &self.inventory.deployment {
            if let Some(u) = &d.local_url {
                let addr = u.trim_start_matches("http://").to_string();
                wait_tcp(&addr, Duration::from_secs(20))?;
            }
        }
        self.pm2(&["save", "--force"], &self.dir)?;
        Ok(())
    }

    /// Every process name of the sandbox inventory.
    fn names(&self) -> Vec<String> {
        super::scenario::inventory_names(&self.inventory)
    }

    /// Apply the scenario's faults for real, in time order (all before the drill starts).
    pub fn inject(&self, s: &Scenario) -> io::Result<()> {
        let mut faults: Vec<_> = s.fault.iter().collect();
        faults.sort_by_key(|f| f.at);
        let mut kill_daemon = s.initial.daemon == super::scenario::InitialDaemon::Killed;
        for f in faults {
            let targets: Vec<String> = if f.targets().iter().any(|t| t == "all") {
                // Each process by name: this tool never sends `all` to a PM2, even a sandbox's.
                self.names()
            } else {
                f.targets().to_vec()
            };
            match f.action {
                FaultAction::Delete | FaultAction::Stop => {
                    let verb = if f.action == FaultAction::Delete {
                        "delete"
                    } else {
                        "stop"
                    };
                    for t in &targets {
                        self.pm2(&[verb, t], &self.dir)?;
                    }
                }
                FaultAction::CrashLoop | FaultAction::OomKill => {
                    for t in &targets {
                        let reason = if f.reason.is_empty() {
                            "crash"
                        } else {
                            &f.reason
                        };
                        std::fs::write(self.dir.join("crash").join(t), reason)?;
                        self.pm2(&["restart", t], &self.dir)?;
                    }
                    self.wait_errored(&targets, Duration::from_secs(60))?;
                    if !f.persists {
                        // The cause is gone once PM2 gave up: a restart brings it back.
                        for t in &targets {
                            let _ = std::fs::remove_file(self.dir.join("crash").join(t));
                        }
                    }
                }
                FaultAction::KillDaemon => kill_daemon = true,
            }
        }
        if kill_daemon {
            let pid = self
                .daemon_pid()
                .ok_or_else(|| io::Error::other("no pm2.pid"))?;
            // SAFETY: a signal to the sandbox daemon's own pid, read from its home.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        Ok(())
    }

    fn daemon_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.home.join("pm2.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// PM2's own list in the sandbox home (allow-listed fields only).
    pub fn jlist(&self) -> io::Result<Vec<crate::pm2::Process>> {
        let mut c = Command::new(&self.pm2);
        c.arg("jlist")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in self.env() {
            c.env(k, v);
        }
        let out = c.output()?;
        crate::pm2::parse_process_list(&out.stdout).map_err(|e| io::Error::other(e.to_string()))
    }

    fn wait_errored(&self, names: &[String], timeout: Duration) -> io::Result<()> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            let list = self.jlist()?;
            let done = names.iter().all(|n| {
                list.iter()
                    .filter(|p| &p.name == n)
                    .all(|p| p.status == crate::pm2::ProcessStatus::Errored)
            });
            if done {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(io::Error::other(
            "the crash loop did not reach errored in time",
        ))
    }

    /// Pids of live processes whose environment names this sandbox's home.
    pub fn processes(&self) -> Vec<u32> {
        processes_of_home(&self.home)
    }

    /// End every process of the sandbox (SIGTERM, then SIGKILL), then remove its files.
    pub fn teardown(self) -> io::Result<()> {
        for sig in [libc::SIGTERM, libc::SIGKILL] {
            for pid in self.processes() {
                // SAFETY: a signal to a pid whose environment carries this sandbox's home.
                unsafe { libc::kill(pid as i32, sig) };
            }
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until && !self.processes().is_empty() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let left = self.processes();
        if !left.is_empty() {
            return Err(io::Error::other(format!(
                "sandbox processes still alive: {left:?} (left {} in place)",
                self.dir.display()
            )));
        }
        std::fs::remove_dir_all(&self.dir)
    }
}

/// Pids (not this one) whose `/proc/PID/environ` holds `PM2_HOME=<home>`.
pub fn processes_of_home(home: &Path) -> Vec<u32> {
    let needle = format!("PM2_HOME={}", home.display());
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            // Zombies keep their environ readable as empty: they are gone for our purpose.
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

fn wait_tcp(addr: &str, timeout: Duration) -> io::Result<()> {
    let until = Instant::now() + timeout;
    loop {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if Instant::now() > until {
            return Err(io::Error::other(format!("{addr}: no answer in time")));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pinned npm PM2 next to this build (`target/pm2-npm`), when installed.
pub fn pinned_pm2(exe: &Path) -> Option<PathBuf> {
    exe.ancestors()
        .map(|a| a.join("pm2-npm/node_modules/pm2/bin/pm2"))
        .find(|p| p.is_file())
}
