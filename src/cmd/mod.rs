//! The command line: `cli` defines the clap tree, each other file is one subcommand (it
//! returns the process exit code), and `session` is the set-up they share.
pub mod cli;
pub mod drill;
pub mod init;
pub mod journal;
pub mod lint;
pub mod pm2;
pub mod replay;
pub mod respond;
pub mod runbook;
pub mod shell;
pub mod snapshot;
pub mod snapshot_monitor;
pub mod snapshot_render;

pub use cli::main;
