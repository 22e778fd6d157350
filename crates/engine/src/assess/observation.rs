//! What was observed: PM2's view and the health results of one round.
use crate::health::HealthResult;
use crate::pm2::{DaemonKind, Process};

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

impl<'a> Pm2View<'a> {
    /// From a reading's parts: the list when there is one; else the daemon's kind says
    /// whether PM2 is known to be down or just could not be read (`None`: not read yet).
    pub fn from_parts(
        processes: Option<&'a [Process]>,
        daemon: Option<DaemonKind>,
        detail: &'a str,
    ) -> Pm2View<'a> {
        match (processes, daemon) {
            (Some(list), _) => Pm2View::Listed(list),
            (None, Some(k)) if k.is_down() => Pm2View::DaemonDown { reason: detail },
            (None, _) => Pm2View::Unreadable { reason: detail },
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub pm2: Pm2View<'a>,
    pub health: &'a [HealthResult],
}
