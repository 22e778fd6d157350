//! One reading of PM2 from the configured source: rpc.sock by default, the `pm2` CLI only
//! when asked (`--pm2-source cli`). Shared by every command that reads PM2 (the command
//! line builds a [`SourceArgs`] and calls [`observe`]). [`Reading`] is THE observation type:
//! the live poller, the drill simulator and replay all produce it.
use super::cli_fallback::{CliSource, CLI_WARNING};
use super::home::Pm2Home;
use super::liveness::{probe_daemon_with, DaemonKind, DaemonState};
use super::model::Process;
use super::rpc::{RpcClient, RpcOptions};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The daemon's rpc.sock: never starts a daemon.
    #[default]
    Rpc,
    /// `pm2 jlist`: STARTS a new, empty daemon when none runs.
    Cli,
}

/// Where and how to read PM2 (the command line's `--pm2-*` options).
#[derive(Debug, Clone)]
pub struct SourceArgs {
    /// rpc (rpc.sock, never starts a daemon) or cli (`pm2 jlist`, starts one if none runs).
    pub source: SourceKind,
    /// The pm2 executable for the CLI source.
    pub pm2_bin: PathBuf,
    /// PM2_HOME to read (default: $PM2_HOME, else ~/.pm2).
    pub pm2_home: Option<PathBuf>,
    /// Give up on PM2 after this many milliseconds.
    pub timeout_ms: u64,
}

impl Default for SourceArgs {
    fn default() -> Self {
        Self {
            source: SourceKind::Rpc,
            pm2_bin: PathBuf::from("pm2"),
            pm2_home: None,
            timeout_ms: 5000,
        }
    }
}

/// What PM2 looked like. `processes: None` means unknown (not "no processes").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub source: SourceKind,
    /// Daemon state seen through rpc.sock *before* anything else ran.
    pub daemon: DaemonState,
    pub processes: Option<Vec<Process>>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
}

impl Reading {
    /// A reading that could not be taken at all (no PM2 home, a failed reader thread).
    pub fn failed(source: SourceKind, reason: String) -> Reading {
        Reading {
            source,
            daemon: DaemonState::Error {
                reason: reason.clone(),
            },
            processes: None,
            warnings: vec![],
            error: Some(reason),
        }
    }

    /// A daemon that answered with its list.
    pub fn listed(version: &str, pid: u32, processes: Vec<Process>) -> Reading {
        Reading {
            source: SourceKind::Rpc,
            daemon: DaemonState::Up {
                version: version.to_string(),
                pid: Some(pid),
            },
            processes: Some(processes),
            warnings: vec![],
            error: None,
        }
    }

    pub fn kind(&self) -> DaemonKind {
        self.daemon.kind()
    }

    /// One line for people: the daemon's state, or why its list could not be read.
    pub fn detail(&self) -> String {
        match (&self.error, &self.daemon) {
            (Some(e), DaemonState::Up { .. }) => {
                format!("daemon up but its process list could not be read: {e}")
            }
            _ => format!("daemon {}", self.daemon),
        }
    }

    /// The daemon's version, when it answered.
    pub fn version(&self) -> Option<&str> {
        match &self.daemon {
            DaemonState::Up { version, .. } => Some(version),
            _ => None,
        }
    }

    /// The daemon's pid: the live one, or the dead one `pm2.pid` still names.
    pub fn pid(&self) -> Option<u32> {
        match &self.daemon {
            DaemonState::Up { pid, .. } => *pid,
            DaemonState::DiedUncleanly { last_pid, .. } => *last_pid,
            _ => None,
        }
    }
}

impl SourceArgs {
    pub fn home(&self) -> Result<Pm2Home, super::home::HomeError> {
        match &self.pm2_home {
            Some(h) => Pm2Home::new(h),
            None => Pm2Home::from_env(),
        }
    }

    fn rpc_options(&self) -> RpcOptions {
        let t = Duration::from_millis(self.timeout_ms.max(1));
        RpcOptions {
            connect_timeout: t,
            reply_timeout: t,
            ..RpcOptions::default()
        }
    }
}

/// Read PM2 once. Never panics; every failure lands in `error` with `processes: None`.
pub fn observe(args: &SourceArgs) -> Reading {
    let home = match args.home() {
        Ok(h) => h,
        Err(e) => {
            return Reading {
                source: args.source,
                daemon: DaemonState::Error {
                    reason: e.to_string(),
                },
                processes: None,
                warnings: vec![],
                error: Some(e.to_string()),
            }
        }
    };
    let opts = args.rpc_options();
    // Liveness first, natively: with the CLI source this is the only record of a dead daemon.
    let daemon = probe_daemon_with(&home, opts);
    let mut obs = Reading {
        source: args.source,
        daemon,
        processes: None,
        warnings: vec![],
        error: None,
    };
    match args.source {
        SourceKind::Rpc => {
            if !matches!(obs.daemon, DaemonState::Up { .. }) {
                obs.error = Some(format!("PM2 daemon {}", obs.daemon));
                return obs;
            }
            match RpcClient::connect(home.rpc_socket(), opts).and_then(|mut c| c.monitor_data()) {
                Ok(p) => obs.processes = Some(p),
                Err(e) => obs.error = Some(e.to_string()),
            }
        }
        SourceKind::Cli => {
            obs.warnings.push(CLI_WARNING.to_string());
            let cli = CliSource {
                pm2_bin: args.pm2_bin.clone(),
                timeout: Duration::from_millis(args.timeout_ms.max(1)),
                pm2_home: Some(home.dir().to_path_buf()),
            };
            match cli.jlist() {
                Ok(p) => obs.processes = Some(p),
                Err(e) => obs.error = Some(e.to_string()),
            }
        }
    }
    obs
}

/// [`observe`] for async callers: runs on tokio's blocking pool (every step has a timeout).
pub async fn observe_async(args: SourceArgs) -> Reading {
    let source = args.source;
    match tokio::task::spawn_blocking(move || observe(&args)).await {
        Ok(obs) => obs,
        Err(e) => Reading::failed(source, format!("PM2 reader task failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_source_without_daemon_is_unknown_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        let args = SourceArgs {
            pm2_home: Some(dir.path().to_path_buf()),
            ..SourceArgs::default()
        };
        let obs = observe(&args);
        assert_eq!(obs.daemon, DaemonState::NotRunning);
        assert_eq!(obs.processes, None);
        assert!(obs.error.unwrap().contains("not running"));
    }

    #[test]
    fn cli_source_warns_and_records_liveness_first() {
        let dir = tempfile::tempdir().unwrap();
        let args = SourceArgs {
            source: SourceKind::Cli,
            pm2_bin: dir.path().join("no-such-pm2"),
            pm2_home: Some(dir.path().to_path_buf()),
            timeout_ms: 2000,
        };
        let obs = observe(&args);
        assert_eq!(obs.daemon, DaemonState::NotRunning);
        assert_eq!(obs.warnings, vec![CLI_WARNING.to_string()]);
        assert!(obs.error.unwrap().contains("cannot run"));
    }

    #[tokio::test]
    async fn async_observe_matches_sync() {
        let dir = tempfile::tempdir().unwrap();
        let args = SourceArgs {
            pm2_home: Some(dir.path().to_path_buf()),
            ..SourceArgs::default()
        };
        assert_eq!(observe_async(args.clone()).await, observe(&args));
    }

    #[test]
    fn too_long_home_is_an_error_not_a_panic() {
        let args = SourceArgs {
            pm2_home: Some(PathBuf::from(format!("/tmp/{}", "z".repeat(120)))),
            ..SourceArgs::default()
        };
        let obs = observe(&args);
        assert!(obs.error.unwrap().contains("107"));
    }
}
