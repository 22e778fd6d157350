//! The engine of pm2-incident: everything but the terminal UI and the command line.
//!
//! A module imports only modules listed above it (`tests/architecture.rs` checks it; the
//! order is also rustfmt's, see `rustfmt.toml`). The binary crate (`app`, `ui`, `tui`, `cmd`)
//! sits on top; nothing here imports it, and the compiler enforces that since this is its own
//! crate.
pub mod safe_fs;
pub mod sanitize;
pub mod runbook;
pub mod pm2;
pub mod health;
pub mod guard;
pub mod assess;
pub mod exec;
pub mod incident;
pub mod journal;
pub mod evidence;
pub mod comms;
pub mod observe;
pub mod init;
pub mod drill;
