//! The I/O of a snapshot: read PM2 (never spawning a daemon unless the CLI
//! fallback was asked for) while the health round runs.
use std::time::Duration;

use serde::Serialize;

use crate::assess::Pm2View;
use crate::health::{HealthChecker, HealthResult};
use crate::pm2::{probe_daemon, CliSource, DaemonState, Pm2Home, Process, RpcClient, RpcOptions};
use crate::runbook::Runbook;

/// Where the process list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Pm2Source {
    /// `$PM2_HOME/rpc.sock`, read-only calls only (never starts a daemon).
    #[default]
    Rpc,
    /// `pm2 jlist`: starts an empty daemon when none runs, hiding a crashed one.
    Cli,
}

/// What PM2 told us.
#[derive(Debug, Clone, Serialize)]
pub struct Pm2Reading {
    /// `up`, `not_running`, `died`, `permission_denied`, `timeout`, `error`.
    pub daemon: &'static str,
    /// Human description of the daemon state.
    pub detail: String,
    pub version: Option<String>,
    /// The daemon's pid (alive when up; the dead one when it died).
    pub pid: Option<u32>,
    /// `None` when the list could not be read.
    pub processes: Option<Vec<Process>>,
    /// Set when the list came from the `pm2` CLI.
    pub warning: Option<String>,
}

impl Pm2Reading {
    pub fn view(&self) -> Pm2View<'_> {
        match (&self.processes, self.daemon) {
            (Some(list), _) => Pm2View::Listed(list),
            (None, "not_running" | "died") => Pm2View::DaemonDown { reason: &self.detail },
            (None, _) => Pm2View::Unreadable { reason: &self.detail },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub pm2: Pm2Reading,
    pub health: Vec<HealthResult>,
    /// Why the health round could not run, if it could not.
    pub health_error: Option<String>,
}

pub fn read_pm2(home: &Pm2Home, source: Pm2Source, pm2_bin: &str) -> Pm2Reading {
    if source == Pm2Source::Cli {
        let cli = CliSource {
            pm2_bin: pm2_bin.into(),
            timeout: Duration::from_secs(15),
            pm2_home: Some(home.dir().to_path_buf()),
        };
        return match cli.jlist() {
            Ok(list) => Pm2Reading {
                daemon: "up",
                detail: "read with `pm2 jlist`".into(),
                version: None,
                pid: None,
                processes: Some(list),
                warning: Some(crate::pm2::CLI_WARNING.to_string()),
            },
            Err(e) => Pm2Reading {
                daemon: "error",
                detail: format!("`pm2 jlist` failed: {e}"),
                version: None,
                pid: None,
                processes: None,
                warning: Some(crate::pm2::CLI_WARNING.to_string()),
            },
        };
    }
    let state = probe_daemon(home);
    let detail = format!("daemon {state}");
    let mut r = Pm2Reading {
        daemon: "error",
        detail,
        version: None,
        pid: None,
        processes: None,
        warning: None,
    };
    match state {
        DaemonState::Up { version, pid } => {
            r.daemon = "up";
            r.version = Some(version);
            r.pid = pid;
            let opts = RpcOptions {
                connect_timeout: Duration::from_secs(1),
                reply_timeout: Duration::from_secs(5),
                ..RpcOptions::default()
            };
            match RpcClient::connect(home.rpc_socket(), opts).and_then(|mut c| c.monitor_data()) {
                Ok(list) => r.processes = Some(list),
                Err(e) => r.detail = format!("daemon up but its process list could not be read: {e}"),
            }
        }
        DaemonState::NotRunning => r.daemon = "not_running",
        DaemonState::DiedUncleanly { last_pid, .. } => {
            r.daemon = "died";
            r.pid = last_pid;
        }
        DaemonState::PermissionDenied { .. } => r.daemon = "permission_denied",
        DaemonState::Timeout { .. } => r.daemon = "timeout",
        DaemonState::Error { .. } => r.daemon = "error",
    }
    r
}

/// Read PM2 on a thread while the health round runs on this one.
pub fn gather(rb: &Runbook, home: &Pm2Home, source: Pm2Source, pm2_bin: &str) -> Snapshot {
    let targets = rb.inventory.health_targets();
    std::thread::scope(|s| {
        let pm2 = s.spawn(|| read_pm2(home, source, pm2_bin));
        let (health, health_error) = match HealthChecker::from_inventory(&rb.inventory)
            .and_then(|c| c.check_all_blocking(&targets))
        {
            Ok(h) => (h, None),
            Err(e) => (vec![], Some(e.to_string())),
        };
        let pm2 = pm2.join().unwrap_or_else(|_| Pm2Reading {
            daemon: "error",
            detail: "reading PM2 failed unexpectedly".into(),
            version: None,
            pid: None,
            processes: None,
            warning: None,
        });
        Snapshot { pm2, health, health_error }
    })
}
