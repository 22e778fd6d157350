//! pm2-incident: guided PM2 incident response.
//!
//! The engine (`pm2_incident_engine`, re-exported here under the same module names) holds
//! the domain: runbook, pm2, health, guard, assess, exec, incident, journal, comms, observe,
//! drill. This crate adds, in import order: `app` (UI state, messages, update, keymaps; no
//! I/O), `ui` (pure drawing), `tui` (the loop and the terminal), `cmd` (one file per
//! subcommand). A module imports only modules listed before it; `tests/architecture.rs`
//! checks the direction.
pub use pm2_incident_engine::{
    assess, comms, drill, evidence, exec, guard, health, incident, init, journal, observe, pm2,
    runbook, safe_fs, sanitize,
};

pub mod app;
pub mod ui;
pub mod tui;
pub mod cmd;
