//! The command guard: parses shell command lines (and PM2 use in JS, workflow
//! YAML and scripts) and classifies them as safe, caution or dangerous by the
//! runbook's rules. Pure except `cli`, which reads files and runs `node`.
pub mod classify;
pub mod daemon;
pub mod feed;
pub mod js;
pub mod kill;
pub mod lint;
pub mod lint_freeze;
pub mod names;
pub mod pm2;
pub mod pm2_state;
pub mod runners;
pub mod shell;
pub mod verdict;

pub use classify::{analyze, classify, verdict_of};
pub use verdict::{Class, Feed, Finding, GuardContext, NameFilter, ProcSet, Verdict};
