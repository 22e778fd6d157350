//! The command line: `cli` defines the clap tree, each other file is one subcommand (it
//! returns the process exit code), and `session` is the set-up they share.
pub mod cli;
pub mod drill;
pub mod drill_history;
pub mod fleet;
pub mod freeze;
pub mod init;
pub mod journal;
pub mod lint;
pub mod pm2;
pub mod remote;
pub mod replay;
pub mod respond;
pub mod runbook;
pub mod session;
pub mod shell;
pub mod snapshot;
pub mod snapshot_monitor;
pub mod snapshot_render;

pub use cli::main;
