//! The drill's files (the only I/O of the drill besides the shims): a private directory with
//! `sim.json` (the state, mode 0600, changed under an flock), `bin/` shims that route
//! `pm2 curl systemctl journalctl df free git` into the simulator, `.pm2/` as `PM2_HOME`
//! (pm2.log, logs/, dump.pm2, pid file and sockets, refreshed after every command), and
//! `var/www/<site>` directories standing in for the inventory's deployments.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::scenario::Scenario;
use super::state::{DaemonStatus, LogSource, SimState};
use super::{http, pm2cli, sim};
use crate::health::HealthResult;
use crate::pm2::{Reading, SourceKind};
use crate::runbook::{vars, Runbook};

/// The tools the drill shims.
pub const SHIMS: &[&str] = &[
    "tail",
    "pm2",
    "curl",
    "systemctl",
    "journalctl",
    "df",
    "free",
    "git",
];
/// Env var naming the state file; the shims read it.
pub const STATE_ENV: &str = "PM2_INCIDENT_SIM";
/// Env var overriding the clock (ms since the epoch), for tests.
pub const NOW_ENV: &str = "PM2_INCIDENT_SIM_NOW_MS";
/// The scenario's workflow-run notes, in the drill's HOME (`cat ~/gitea-actions-runs.txt`).
pub const GITEA_RUNS_FILE: &str = "gitea-actions-runs.txt";
/// Fallback in PM2_HOME naming the state file, when the env var was scrubbed.
pub const STATE_POINTER: &str = "drill-sim.path";

/// Now, in ms since the epoch (`PM2_INCIDENT_SIM_NOW_MS` overrides it).
pub fn now_ms() -> i64 {
    if let Some(v) = std::env::var(NOW_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return v;
    }
    chrono::Utc::now().timestamp_millis()
}

pub struct DrillEnv {
    pub dir: PathBuf,
    pub bin: PathBuf,
    pub home: PathBuf,
    pub state_path: PathBuf,
    /// The runbook with the drill inventory (deployment dirs under `dir/var/www`):
    /// render commands with this one so `cd` and `dir` land in the drill.
    pub runbook: Runbook,
    pub scenario_id: String,
}

/// A new directory inside the drill's own (already private) directory; never an existing one.
fn new_dir(p: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().mode(mode).create(p)?;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

/// A file the drill creates once: O_EXCL|O_NOFOLLOW, nothing pre-planted is written through.
fn create_mode(p: &Path, text: &str, mode: u32) -> io::Result<()> {
    crate::safe_fs::create_new(p, mode)?.write_all(text.as_bytes())
}

/// A file the simulator refreshes after every command: never through a symlink, only our own.
fn write_mode(p: &Path, text: &str, mode: u32) -> io::Result<()> {
    crate::safe_fs::rewrite_owned(p, text.as_bytes(), mode)
}

impl DrillEnv {
    /// Make a new drill world under `base_dir` at `now_ms`. `exe` is the pm2-incident binary
    /// the shims call (`std::env::current_exe()` in the app; `CARGO_BIN_EXE_pm2-incident` in tests).
    pub fn create(
        scenario: &Scenario,
        rb: &Runbook,
        base_dir: &Path,
        exe: &Path,
        now_ms: i64,
    ) -> io::Result<DrillEnv> {
        // mkdtemp: a random name, 0700, never a directory someone prepared in advance; everything
        // below is created fresh inside it, so no other user can plant a file or a shim.
        let dir = crate::safe_fs::mkdtemp_in(
            base_dir,
            &format!("pm2-incident-drill-{}-", scenario.id()),
        )?;
        let bin = dir.join("bin");
        let home = dir.join(".pm2");
        new_dir(&bin, 0o700)?;
        new_dir(&home, 0o700)?;
        new_dir(&home.join("logs"), 0o700)?;
        // The drill inventory: each deployment's dir moved under the drill.
        let mut inv = rb.inventory.clone();
        for d in &mut inv.deployment {
            let base = Path::new(&d.dir)
                .file_name()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| d.id.get_ref().clone());
            let new_dir = dir.join("var/www").join(base);
            fs::create_dir_all(new_dir.join(".gitea/workflows"))?;
            d.dir = new_dir.display().to_string();
        }
        let mut runbook = rb.clone();
        runbook.vars = vars::inventory_vars(&inv);
        runbook.inventory = inv;
        let state_path = dir.join("sim.json");
        let st = sim::new_state(
            scenario,
            &runbook.inventory,
            &home.display().to_string(),
            now_ms,
        );
        for d in &st.deployments {
            create_mode(
                &Path::new(&d.dir).join(&d.config),
                &ecosystem_file(d),
                0o644,
            )?;
        }
        create_mode(
            &state_path,
            &serde_json::to_string(&st).map_err(io::Error::other)?,
            0o600,
        )?;
        materialize(&st, &home)?;
        create_mode(
            &home.join(STATE_POINTER),
            &format!("{}\n", state_path.display()),
            0o600,
        )?;
        // What the Gitea Actions web UI would show (the runbook's first root-cause step).
        let runs: String = st.workflow_runs.iter().map(|r| format!("{r}\n")).collect();
        create_mode(&dir.join(GITEA_RUNS_FILE), &runs, 0o644)?;
        let exe_q = vars::shell_quote(&exe.display().to_string());
        for tool in SHIMS {
            create_mode(&bin.join(tool), &format!("#!/bin/sh\n# pm2-incident drill shim: answers from the simulator, never a real {tool}.\nexec {exe_q} sim {tool} \"$@\"\n"), 0o755)?;
        }
        Ok(DrillEnv {
            dir,
            bin,
            home,
            state_path,
            runbook,
            scenario_id: scenario.id().to_string(),
        })
    }

    /// The whole environment for commands run in the drill (clear the rest):
    /// no variable leads to a real PM2 daemon.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "PATH".into(),
                format!("{}:/usr/bin:/bin", self.bin.display()),
            ),
            ("PM2_HOME".into(), self.home.display().to_string()),
            ("HOME".into(), self.dir.display().to_string()),
            (STATE_ENV.into(), self.state_path.display().to_string()),
            ("LANG".into(), "C.UTF-8".into()),
            (
                "TERM".into(),
                std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
            ),
        ]
    }

    /// The state advanced to `now_ms` (saved back, files refreshed).
    pub fn state_at(&self, now_ms: i64) -> io::Result<SimState> {
        with_state(&self.state_path, now_ms, |st| st.clone())
    }

    /// The poller's PM2 view at `now_ms`. Never revives a dead daemon.
    pub fn snapshot(&self, now_ms: i64) -> Reading {
        match self.state_at(now_ms) {
            Ok(st) => super::snapshot(&st),
            Err(e) => Reading::failed(SourceKind::Rpc, format!("drill state unreadable: {e}")),
        }
    }

    /// The poller's health round at `now_ms`, over the drill runbook's targets.
    pub fn health_round(&self, now_ms: i64) -> Vec<HealthResult> {
        let targets = self.runbook.inventory.health_targets();
        match self.state_at(now_ms) {
            Ok(st) => http::health_round(&st, &targets),
            Err(_) => Vec::new(),
        }
    }

    /// Run one simulated tool as the shim would (for callers that do not want a process).
    pub fn run(
        &self,
        tool: &str,
        args: &[String],
        cwd: &Path,
        now_ms: i64,
    ) -> io::Result<super::Output> {
        with_state(&self.state_path, now_ms, |st| {
            dispatch(st, tool, args, cwd, now_ms)
        })
    }

    /// Delete the drill directory.
    pub fn remove(self) -> io::Result<()> {
        fs::remove_dir_all(&self.dir)
    }
}

/// Run a tool against the state.
pub fn dispatch(
    st: &mut SimState,
    tool: &str,
    args: &[String],
    cwd: &Path,
    now_ms: i64,
) -> super::Output {
    sim::advance(st, now_ms);
    match tool {
        "pm2" => pm2cli::pm2(st, args, cwd, now_ms),
        "curl" => http::curl(st, args),
        "systemctl" => super::sys::systemctl(st, args),
        "journalctl" => super::sys::journalctl(st, args),
        "df" => super::sys::df(st, args),
        "free" => super::sys::free(st, args),
        "git" => super::sys::git(st, args, cwd),
        "tail" => super::sys::tail_varlog(st, args),
        other => super::Output::err(
            format!("pm2-incident sim: `{other}` is not simulated\n"),
            127,
        ),
    }
}

struct Flock(File);

impl Flock {
    fn exclusive(f: File) -> io::Result<Flock> {
        // SAFETY: flock on an fd we own; released when the File closes.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Flock(f))
    }
}

/// Load → advance(now) → `f` → save, under an exclusive lock; PM2_HOME files refreshed.
pub fn with_state<T>(
    path: &Path,
    now_ms: i64,
    f: impl FnOnce(&mut SimState) -> T,
) -> io::Result<T> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut lock = Flock::exclusive(file)?;
    let mut text = String::new();
    lock.0.read_to_string(&mut text)?;
    let mut st: SimState = serde_json::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a drill state: {e}", path.display()),
        )
    })?;
    sim::advance(&mut st, now_ms);
    let out = f(&mut st);
    let json = serde_json::to_string(&st).map_err(io::Error::other)?;
    lock.0.set_len(0)?;
    lock.0.seek(SeekFrom::Start(0))?;
    lock.0.write_all(json.as_bytes())?;
    let home = PathBuf::from(&st.home);
    if home.is_dir() {
        materialize(&st, &home)?;
    }
    Ok(out)
}

/// Write what PM2 keeps on disk: pm2.log, per-process logs, dump, pid file, sockets.
pub fn materialize(st: &SimState, home: &Path) -> io::Result<()> {
    let join = |v: Vec<String>| v.iter().map(|l| format!("{l}\n")).collect::<String>();
    write_mode(
        &home.join("pm2.log"),
        &join(pm2cli::log_file_lines(st, &LogSource::Pm2)),
        0o600,
    )?;
    fs::create_dir_all(home.join("logs"))?;
    for d in &st.deployments {
        for p in &d.processes {
            let ever = st.logs.iter().any(
                |l| matches!(&l.source, LogSource::Out(n) | LogSource::Err(n) if *n == p.name),
            );
            if !ever {
                continue;
            }
            for (kind, src) in [
                ("out", LogSource::Out(p.name.clone())),
                ("error", LogSource::Err(p.name.clone())),
            ] {
                write_mode(
                    &home.join(format!("logs/{}-{kind}.log", p.name)),
                    &join(pm2cli::log_file_lines(st, &src)),
                    0o600,
                )?;
            }
        }
    }
    match &st.dump {
        Some(names) => {
            let dump: Vec<serde_json::Value> = names
                .iter()
                // The simulator's resurrect brings every saved app back online.
                .map(|n| serde_json::json!({"name": n, "status": "online"}))
                .collect();
            write_mode(
                &home.join("dump.pm2"),
                &serde_json::Value::Array(dump).to_string(),
                0o600,
            )?;
        }
        None => {
            let _ = fs::remove_file(home.join("dump.pm2"));
        }
    }
    let sockets = ["rpc.sock", "pub.sock"];
    match st.daemon.status {
        DaemonStatus::Alive | DaemonStatus::DeadUnclean => {
            write_mode(&home.join("pm2.pid"), &st.daemon.pid.to_string(), 0o600)?;
            for s in sockets {
                let p = home.join(s);
                if !p.exists() {
                    // A bound-then-dropped listener leaves a socket file nobody listens on:
                    // exactly what a killed daemon leaves behind.
                    let _ = std::os::unix::net::UnixListener::bind(&p);
                }
            }
        }
        DaemonStatus::Killed => {
            let _ = fs::remove_file(home.join("pm2.pid"));
            for s in sockets {
                let _ = fs::remove_file(home.join(s));
            }
        }
    }
    Ok(())
}

/// A real CommonJS ecosystem file for the deployment, so `node -e "require(...)"` works.
fn ecosystem_file(d: &super::state::SiteDeployment) -> String {
    let mut s = String::from("// pm2-incident drill: stand-in for the site's ecosystem file (no app runs from it).\nmodule.exports = {\n  apps: [\n");
    for p in &d.processes {
        let mode = if p.instances > 1 {
            format!(", exec_mode: 'cluster', instances: {}", p.instances)
        } else {
            String::new()
        };
        s += &format!(
            "    {{ name: '{}', script: '{}'{mode} }},\n",
            p.name, p.script
        );
    }
    s += "  ],\n};\n";
    s
}
