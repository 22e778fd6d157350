//! The engine of pm2-incident: everything but the terminal UI and the command line.
//!
//! Module order (a module imports only modules listed above it; `tests/architecture.rs`
//! checks it): runbook, pm2, health, guard, assess, exec, deploy, incident, journal, comms, observe,
//! drill. The binary crate (`app`, `ui`, `tui`, `cmd`) sits on top; nothing here imports it,
//! and the compiler enforces that since this is its own crate.
pub mod assess;
pub mod comms;
pub mod deploy;
pub mod drill;
pub mod evidence;
pub mod exec;
pub mod guard;
pub mod health;
pub mod incident;
pub mod journal;
pub mod observe;
pub mod pm2;
pub mod runbook;
pub mod safe_fs;
pub mod sanitize;
