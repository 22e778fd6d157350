//! The incident core (pure, no I/O): event types, `fold(events) -> Incident`, replay seeking,
//! `pm2 jlist` import (allow-list), and the Markdown report. Timestamps are always passed in.
pub mod availability;
pub mod change;
pub mod event;
pub mod fold;
pub mod import;
pub mod log;
pub mod output;
pub mod report;
/// Test and benchmark data (the runbook's incident as recorded); not in the shipped binary.
#[cfg(any(test, feature = "fixtures"))]
pub mod sample;
pub mod seek;

pub use event::{Entry, Event, ProcessRow, Ts};
pub use fold::{fold, Incident};
