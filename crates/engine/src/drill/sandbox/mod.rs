//! `drill --sandbox`: the scenario on a real PM2 in a throwaway `PM2_HOME`. Each
//! inventory process becomes a small Node stand-in (`assets/sandbox/standin.js`) started
//! from an ecosystem file written per deployment, in cluster mode where the scenario runs
//! it so; the faults are injected with the real `pm2` CLI and real signals against that
//! home only, those of the past before the drill starts (`plan`), those due during it by a
//! clock thread (`clock`); teardown ends every process whose environment names that home
//! (by pid), then removes the directory.
pub mod clock;
mod inject;
pub mod plan;

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::scenario::{concrete_name, Scenario};
use crate::runbook::Inventory;
use plan::Plan;

const STANDIN: &str = include_str!("../../../../../assets/sandbox/standin.js");

/// What the responder is told about the sandbox in the briefing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brief {
    /// The throwaway `PM2_HOME`.
    pub home: String,
    /// The `pm2` CLI running there.
    pub pm2: String,
    /// The faults injected before the start, and how many are still to come.
    pub injected: Vec<String>,
}

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
    /// The scenario on this PM2: settings, faults before and during the drill.
    pub plan: Plan,
}

fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// One app entry of a stand-in ecosystem file. No `restart_delay`: with it set, PM2 7 shows
/// an app it gave up on as `waiting restart` forever instead of `errored` (`God.handleExit`
/// sets that status after its overlimit check).
fn app_entry(name: &str, standin: &Path, cwd: &Path, st: &plan::ProcSettings, env: &str) -> String {
    let mode = if st.instances > 1 {
        format!("exec_mode: 'cluster', instances: {}, ", st.instances)
    } else {
        String::new()
    };
    format!(
        "    {{ name: {n}, script: {s}, cwd: {c}, {mode}min_uptime: {mu}, max_restarts: {mr},\n      env: {{ {env} }} }},\n",
        n = js(name),
        s = js(&standin.display().to_string()),
        c = js(&cwd.display().to_string()),
        mu = st.min_uptime_ms,
        mr = st.max_restarts,
    )
}

impl Sandbox {
    /// Write the stand-ins, ecosystem files and the sandbox inventory for scenario `s`
    /// under a new private directory in `base` (keep `base` short: PM2's socket paths must
    /// fit 107 bytes).
    pub fn create(inv: &Inventory, s: &Scenario, base: &Path, pm2: &Path) -> io::Result<Sandbox> {
        let dir = crate::safe_fs::mkdtemp_in(base, "p2i-sbx-")?;
        let home = dir.join("h");
        let bin = dir.join("bin");
        for d in [&home, &bin, &dir.join("crash"), &dir.join("apps")] {
            std::fs::create_dir(d)?;
        }
        std::os::unix::fs::symlink(pm2, bin.join("pm2"))?;
        let standin = dir.join("standin.js");
        std::fs::write(&standin, STANDIN)?;
        let plan = plan::plan(s, &super::scenario::inventory_names(inv));
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
                let env = format!(
                    "{port_env}STANDIN_NAME: {n}, READY_PATH: {r}, PING_PATH: {pi}, HEALTH_FORMAT: {f}, CRASH_FLAG: {cf}",
                    n = js(&name),
                    r = js(&d.ready_path),
                    pi = js(&d.ping_path),
                    f = js(&serde_json::to_value(d.health_format)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()),
                    cf = js(&crash.display().to_string()),
                );
                apps.push_str(&app_entry(
                    &name,
                    &standin,
                    &app_dir,
                    &plan.settings_of(&name),
                    &env,
                ));
            }
            let mut text = String::new();
            let _ = write!(
                text,
                "// sandbox stand-ins for {}\nmodule.exports = {{\n  apps: [\n{apps}  ],\n}};\n",
                d.id.get_ref()
            );
            std::fs::write(app_dir.join(&d.config), text)?;
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
            plan,
        })
    }

    /// Environment for every `pm2` run in the sandbox (and the responder's commands).
    pub fn env(&self) -> Vec<(String, String)> {
        self.handle().env()
    }

    /// What the sandbox's threads need to act on it.
    fn handle(&self) -> inject::Handle {
        inject::Handle {
            dir: self.dir.clone(),
            home: self.home.clone(),
            pm2: self.pm2.clone(),
        }
    }

    /// Run the sandbox's `pm2` with `args` in `cwd`; output is dropped (it can carry env).
    pub fn pm2(&self, args: &[&str], cwd: &Path) -> io::Result<bool> {
        self.handle().pm2(args, cwd)
    }

    /// Start every deployment, wait for each health endpoint, take away what the scenario
    /// does not run at first, then `pm2 save` (when the scenario saved).
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
                wait_tcp(&addr, Duration::from_secs(60))?;
            }
        }
        for n in self.names() {
            if !self.plan.initially.contains(&n) {
                self.pm2(&["delete", &n], &self.dir)?;
            }
        }
        if self.plan.saved {
            self.pm2(&["save", "--force"], &self.dir)?;
        }
        Ok(())
    }

    /// Every process name of the sandbox inventory.
    fn names(&self) -> Vec<String> {
        super::scenario::inventory_names(&self.inventory)
    }

    /// Apply the faults of the past for real, in time order, each waited for until it
    /// shows (PM2 gave up on a crash loop, or its crashes before the start happened; the
    /// daemon's pid dead and its apps gone).
    pub fn inject(&self) -> io::Result<()> {
        let h = self.handle();
        for step in &self.plan.before {
            h.apply(step, inject::Phase::Before)?;
        }
        Ok(())
    }

    /// What the briefing says: where the PM2 runs, what was injected, what is to come.
    pub fn brief(&self) -> Brief {
        Brief {
            home: self.home.display().to_string(),
            pm2: self.pm2.display().to_string(),
            injected: plan::describe(&self.plan),
        }
    }

    /// Start the clock of the faults due during the drill (from now).
    pub fn start_clock(&self) -> clock::Clock {
        clock::Clock::start(self.handle(), self.plan.clone())
    }

    /// PM2's own list in the sandbox home (allow-listed fields only). Starts a daemon when
    /// none runs, like any `pm2` command.
    pub fn jlist(&self) -> io::Result<Vec<crate::pm2::Process>> {
        self.handle().jlist()
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
            let until = Instant::now() + Duration::from_secs(5);
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
