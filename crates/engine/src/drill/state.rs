//! The simulator's state: everything a drill world is, serialisable to `sim.json` so every
//! shim invocation loads it, advances it to "now", applies one command and saves it.
//! Times are milliseconds since the Unix epoch.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::runbook::Environment;

pub const PM2_VERSION: &str = "7.0.4";
pub const NODE_VERSION: &str = "20.11.1";
/// PM2 puts a process in `errored` after this many unstable restarts.
pub const MAX_UNSTABLE_RESTARTS: u32 = 15;
/// How long a started process shows `launching` before `online`.
pub const LAUNCH_MS: i64 = 1500;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimState {
    pub scenario: String,
    pub start_ms: i64,
    /// The latest time the state was advanced to.
    pub now_ms: i64,
    /// `PM2_HOME` as the simulated server names it (paths in `show`, `logs`).
    pub home: String,
    pub host: String,
    pub user: String,
    pub pm2_service: String,
    pub deployments: Vec<SiteDeployment>,
    pub daemon: Daemon,
    /// Whether the systemd unit that runs PM2 is active (a daemon the CLI spawns is not in it).
    pub unit_active: bool,
    pub unit_since_ms: i64,
    pub procs: Vec<SimProc>,
    pub next_id: u32,
    pub next_pid: u32,
    /// `pm2 save`'s list (names), `None` when no dump file exists.
    pub dump: Option<Vec<String>>,
    /// Apps that crash when started, by name (survives delete, cleared when a restart fixes it).
    pub broken: BTreeMap<String, Breakage>,
    pub faults: Vec<Fault>,
    pub faults_applied: usize,
    pub logs: Vec<LogLine>,
    pub df: String,
    pub free: String,
    pub commits: Vec<Commit>,
    pub workflow_runs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteDeployment {
    pub id: String,
    pub app: String,
    pub environment: Environment,
    /// The drill's directory for it (`<drill>/var/www/<basename>`).
    pub dir: String,
    pub config: String,
    pub processes: Vec<ProcSpec>,
    pub public_url: String,
    pub local_url: Option<String>,
    pub ready_path: String,
    pub ping_path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcSpec {
    pub name: String,
    /// 1: fork mode; more: cluster mode with that many instances.
    pub instances: u32,
    pub script: String,
    /// Resident memory of a healthy instance.
    pub mem_mb: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaemonStatus {
    Alive,
    /// Killed (SIGKILL): pid file and sockets left behind.
    DeadUnclean,
    /// Stopped by `pm2 kill`: files cleaned up.
    Killed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Daemon {
    pub status: DaemonStatus,
    pub pid: u32,
    pub started_ms: i64,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimStatus {
    Online,
    Launching,
    Stopped,
    Errored,
}

impl SimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SimStatus::Online => "online",
            SimStatus::Launching => "launching",
            SimStatus::Stopped => "stopped",
            SimStatus::Errored => "errored",
        }
    }
}

/// One PM2 process (a cluster app has one per instance, sharing the name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimProc {
    pub pm_id: u32,
    pub name: String,
    pub deployment: String,
    pub status: SimStatus,
    /// 0 when not running.
    pub pid: u32,
    pub restarts: u32,
    pub unstable_restarts: u32,
    pub uptime_ms: i64,
    pub created_ms: i64,
    /// Cluster instances of the app (1 = fork mode).
    pub instances: u32,
    pub instance_no: u32,
    pub script: String,
    pub cwd: String,
    pub mem_mb: f64,
    pub exit_code: Option<i64>,
    /// `launching` turns `online` at this time.
    pub online_at: Option<i64>,
    pub crash: Option<CrashRun>,
}

impl SimProc {
    pub fn is_cluster(&self) -> bool {
        self.instances > 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakKind {
    /// Exits with an error code shortly after each start.
    Crash,
    /// Killed by the kernel's OOM killer shortly after each start.
    Oom,
}

/// Why an app keeps dying, and whether a restart by the responder cures it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Breakage {
    pub kind: BreakKind,
    pub cycle_ms: i64,
    pub limit: u32,
    pub persists: bool,
    pub exit_code: i64,
    /// Written to the error log at each crash.
    pub reason: String,
}

/// A crash loop in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrashRun {
    pub since_ms: i64,
    /// Cycles (crashes) already applied.
    pub done: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultAction {
    Stop,
    Delete,
    CrashLoop,
    OomKill,
    KillDaemon,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    pub at_ms: i64,
    pub action: FaultAction,
    /// Process names, or `all`.
    pub targets: Vec<String>,
    pub breakage: Option<Breakage>,
    /// Who did it, for the logs (e.g. `deploy-to-prod.yml`).
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", content = "of", rename_all = "snake_case")]
pub enum LogSource {
    /// `$PM2_HOME/pm2.log`.
    Pm2,
    /// A process's stdout log.
    Out(String),
    /// A process's stderr log.
    Err(String),
    /// The kernel ring buffer (`journalctl -k`).
    Kernel,
    /// A systemd unit's journal (`journalctl -u`).
    Unit(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    pub at_ms: i64,
    pub source: LogSource,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    pub hash: String,
    pub at_ms: i64,
    pub message: String,
    /// Paths the commit touched (for `git log -- PATH`).
    pub paths: Vec<String>,
    /// Application id whose repository holds it.
    pub app: String,
}

impl SimState {
    pub fn deployment(&self, id: &str) -> Option<&SiteDeployment> {
        self.deployments.iter().find(|d| d.id == id)
    }

    pub fn spec(&self, name: &str) -> Option<(&SiteDeployment, &ProcSpec)> {
        self.deployments
            .iter()
            .find_map(|d| d.processes.iter().find(|p| p.name == name).map(|p| (d, p)))
    }

    pub fn log(&mut self, at_ms: i64, source: LogSource, text: impl Into<String>) {
        self.logs.push(LogLine {
            at_ms,
            source,
            text: text.into(),
        });
    }

    pub fn pm2_log(&mut self, at_ms: i64, text: impl Into<String>) {
        self.log(at_ms, LogSource::Pm2, format!("PM2 log: {}", text.into()));
    }

    pub fn take_pid(&mut self) -> u32 {
        let p = self.next_pid;
        self.next_pid += 1 + (p % 7);
        p
    }

    pub fn daemon_alive(&self) -> bool {
        self.daemon.status == DaemonStatus::Alive
    }
}
