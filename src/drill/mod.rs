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
pub mod http;
pub mod pm2cli;
pub mod scenario;
pub mod shim;
pub mod sim;
pub mod state;
pub mod sys;

pub use builtin::{builtin, builtin_ids, list, load_file};
pub use debrief::{debrief, Debrief};
pub use env::DrillEnv;
pub use http::{curl, health, health_round};
pub use pm2cli::pm2;
pub use scenario::{ExpectedSeverity, Scenario};
pub use sim::{advance, new_state};
pub use state::SimState;

use crate::app::Pm2Snapshot;
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

/// The poller's view (read-only: observing never revives a dead daemon).
pub fn snapshot(st: &SimState) -> Pm2Snapshot {
    match st.daemon.status {
        DaemonStatus::Alive => {
            let json = format::jlist(st).to_string();
            let processes = crate::pm2::parse_process_list(json.as_bytes()).ok();
            Pm2Snapshot {
                daemon: "up".into(),
                detail: format!(
                    "PM2 v{} daemon pid {} (simulated)",
                    st.daemon.version, st.daemon.pid
                ),
                processes,
            }
        }
        DaemonStatus::DeadUnclean => Pm2Snapshot {
            daemon: "died".into(),
            detail: format!(
                "PM2 daemon (pid {}) is gone; stale socket {}/rpc.sock refuses connections",
                st.daemon.pid, st.home
            ),
            processes: None,
        },
        DaemonStatus::Killed => Pm2Snapshot {
            daemon: "not_running".into(),
            detail: "no PM2 daemon runs (no rpc.sock)".into(),
            processes: None,
        },
    }
}
