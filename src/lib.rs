//! pm2-incident: guided PM2 incident response.
//!
//! Module order (a module imports only modules listed above it):
//! runbook, pm2, health, guard, assess, exec, incident, journal, cli.
pub mod runbook;
pub mod pm2;
pub mod health;
pub mod guard;
pub mod assess;
pub mod exec;
pub mod incident;
pub mod journal;
pub mod cli;
