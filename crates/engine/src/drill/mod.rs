//! Training drills: scenarios as data (`assets/drills/*.toml`), a pure simulator of a PM2
//! server (processes, daemon, logs, health endpoints, system clues), PATH shims that route
//! `pm2 curl systemctl journalctl df free git` into it, and the debrief.
//!
//! The lead's wiring: `DrillEnv::create` makes the world; commands run with
//! `DrillEnv::env()` and the drill runbook's directories; the poller calls
//! `DrillEnv::snapshot` / `DrillEnv::health_round`; `debrief` reads the journal entries.
pub mod build;
pub mod builtin;
pub mod bus;
pub mod debrief;
pub mod env;
pub mod format;
pub mod history;
pub mod http;
pub mod pm2cli;
pub mod resolve;
pub mod roles;
pub mod sandbox;
pub mod scenario;
pub mod shim;
pub mod sim;
pub mod state;
pub mod sys;

pub use builtin::{builtin, builtin_ids, builtin_on, list, load_file, load_file_on};
pub use debrief::{debrief, Debrief};
pub use env::DrillEnv;
pub use http::{curl, health, health_round};
pub use pm2cli::pm2;
pub use scenario::{ExpectedSeverity, Scenario};
pub use sim::{advance, new_state};
pub use state::SimState;

use crate::pm2::{DaemonState, Reading, SourceKind};
use state::DaemonStatus;

/// What a simulated command printed and returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    /// A file to write (`curl -o FILE`): path and contents.
    pub file: Option<(String, String)>,
}

impl Output {
    pub fn ok(stdout: String) -> Output {
        Output {
            stdout,
            ..Default::default()
        }
    }
    pub fn err(stderr: String, code: i32) -> Output {
        Output {
            stderr,
            code,
            ..Default::default()
        }
    }
}

/// The poller's view (read-only: observing never revives a dead daemon), as the live reader
/// would report the same daemon.
pub fn snapshot(st: &SimState) -> Reading {
    let (daemon, processes) = match st.daemon.status {
        DaemonStatus::Alive => {
            let json = format::jlist(st).to_string();
            let up = DaemonState::Up {
                version: st.daemon.version.clone(),
                pid: Some(st.daemon.pid),
            };
            (up, crate::pm2::parse_process_list(json.as_bytes()).ok())
        }
        DaemonStatus::DeadUnclean => (
            DaemonState::DiedUncleanly {
                last_pid: Some(st.daemon.pid),
                last_pid_alive: false,
            },
            None,
        ),
        DaemonStatus::Killed => (DaemonState::NotRunning, None),
    };
    Reading {
        source: SourceKind::Rpc,
        daemon,
        processes,
        warnings: vec![],
        error: None,
    }
}
