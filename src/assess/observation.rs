//! What was observed: PM2's view and the health results of one round.
use crate::health::HealthResult;
use crate::pm2::Process;

/// What PM2 told us, reduced to what matters for judgment.
#[derive(Debug, Clone, Copy)]
pub enum Pm2View<'a> {
    /// The daemon answered with its process list.
    Listed(&'a [Process]),
    /// No daemon runs (never started, killed, or died): nothing under PM2 can be
    /// running, so every expected process counts as missing. A dead daemon is evidence.
    DaemonDown { reason: &'a str },
    /// PM2 could not be read (permission, timeout): no evidence either way.
    Unreadable { reason: &'a str },
}

#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub pm2: Pm2View<'a>,
    pub health: &'a [HealthResult],
}
