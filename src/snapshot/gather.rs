//! The I/O of a snapshot: read PM2 (never spawning a daemon unless the CLI
//! fallback was asked for) while the health round runs.
use serde::Serialize;

use crate::assess::Pm2View;
use crate::health::{HealthChecker, HealthResult};
use crate::pm2::source::{observe, SourceArgs};
use crate::pm2::{DaemonState, Process};
use crate::runbook::Runbook;

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
        Pm2View::from_reading(self.processes.as_deref(), self.daemon, &self.detail)
    }
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub pm2: Pm2Reading,
    pub health: Vec<HealthResult>,
    /// Why the health round could not run, if it could not.
    pub health_error: Option<String>,
}

/// The daemon's state in one word, for JSON and for the journal.
pub fn daemon_word(d: &DaemonState) -> &'static str {
    match d {
        DaemonState::Up { .. } => "up",
        DaemonState::NotRunning => "not_running",
        DaemonState::DiedUncleanly { .. } => "died",
        DaemonState::PermissionDenied { .. } => "permission_denied",
        DaemonState::Timeout { .. } => "timeout",
        DaemonState::Error { .. } => "error",
    }
}

/// One reading of PM2 through the configured source (rpc.sock unless asked otherwise).
pub fn read_pm2(args: &SourceArgs) -> Pm2Reading {
    let obs = observe(args);
    let (version, pid) = match &obs.daemon {
        DaemonState::Up { version, pid } => (Some(version.clone()), *pid),
        DaemonState::DiedUncleanly { last_pid, .. } => (None, *last_pid),
        _ => (None, None),
    };
    let mut detail = format!("daemon {}", obs.daemon);
    if let (Some(e), true) = (&obs.error, matches!(obs.daemon, DaemonState::Up { .. })) {
        detail = format!("daemon up but its process list could not be read: {e}");
    }
    Pm2Reading {
        daemon: daemon_word(&obs.daemon),
        detail,
        version,
        pid,
        processes: obs.processes,
        warning: obs.warnings.first().cloned(),
    }
}

/// Read PM2 on a thread while the health round runs on this one.
pub fn gather(rb: &Runbook, source: &SourceArgs) -> Snapshot {
    let targets = rb.inventory.health_targets();
    std::thread::scope(|s| {
        let pm2 = s.spawn(|| read_pm2(source));
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
        Snapshot {
            pm2,
            health,
            health_error,
        }
    })
}
