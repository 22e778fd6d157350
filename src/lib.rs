//! pm2-incident: guided PM2 incident response.
//!
//! Module order (a module imports only modules listed above it):
//! runbook, pm2, health, guard, assess, exec, incident, journal, cli.
pub mod app;
pub mod assess;
pub mod cli;
pub mod comms;
pub mod drill;
pub mod drill_cmd;
pub mod exec;
pub mod guard;
pub mod health;
pub mod incident;
pub mod init;
pub mod init_cmd;
pub mod journal;
pub mod pm2;
pub mod quiet;
pub mod replay_cmd;
pub mod respond;
pub mod runbook;
pub mod runtime;
pub mod snapshot;
pub mod terminal;
pub mod ui;
