//! A fleet row: one host's state in one line (daemon, processes online/expected, failing
//! health, severity with its first reason), and the worst-first order. Pure.
use crate::assess::{Assessment, Level, ProcState};
use crate::observe::Snapshot;
use crate::pm2::DaemonKind;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetRow {
    pub host: String,
    pub daemon: DaemonKind,
    /// The daemon line people read (`daemon up (PM2 7.0.4, pid 12)`, or why it is unknown).
    pub daemon_detail: String,
    /// Expected processes online; `None` when PM2 could not be read (never guessed as 0).
    pub online: Option<usize>,
    pub expected: usize,
    /// Health endpoints not healthy, of those checked.
    pub failing_health: usize,
    pub health_checked: usize,
    pub level: Level,
    /// The severity's first reason, else its label.
    pub reason: String,
}

impl FleetRow {
    pub fn new(host: &str, snap: &Snapshot, a: &Assessment) -> FleetRow {
        let procs: Vec<_> = a
            .scope
            .deployments
            .iter()
            .flat_map(|d| d.processes.iter())
            .collect();
        let known = a.scope.pm2_known && procs.iter().all(|p| p.state != ProcState::Unknown);
        FleetRow {
            host: host.to_string(),
            daemon: snap.pm2.kind(),
            daemon_detail: snap.pm2_detail.clone(),
            online: known.then(|| {
                procs
                    .iter()
                    .filter(|p| p.state == ProcState::Online)
                    .count()
            }),
            expected: procs.len(),
            failing_health: snap
                .health
                .iter()
                .filter(|h| !h.verdict.is_healthy())
                .count(),
            health_checked: snap.health.len(),
            level: a.severity.level,
            reason: a
                .severity
                .reasons
                .first()
                .cloned()
                .unwrap_or_else(|| a.severity.label.clone()),
        }
    }
}

/// Column titles for [`FleetRow::cells`].
pub const HEADERS: [&str; 6] = [
    "HOST",
    "SEVERITY",
    "DAEMON",
    "ONLINE",
    "HEALTH",
    "FIRST REASON",
];

impl FleetRow {
    /// The row as table cells (escaped for the terminal): what the headless table and the
    /// fleet screen both show.
    pub fn cells(&self) -> [String; 6] {
        let e = |s: &str| crate::sanitize::escape_line(s).into_owned();
        [
            e(&self.host),
            self.level.as_str().to_string(),
            self.daemon.as_str().to_string(),
            match self.online {
                Some(n) => format!("{n}/{}", self.expected),
                None => format!("?/{}", self.expected),
            },
            if self.health_checked == 0 {
                "not checked".into()
            } else {
                format!("{} failing/{}", self.failing_health, self.health_checked)
            },
            e(&self.reason),
        ]
    }
}

/// Worst first: P1, then "cannot tell" (an unreachable host may be fully down), P2, P3, none.
pub fn rank(l: Level) -> u8 {
    match l {
        Level::P1 => 0,
        Level::Unknown => 1,
        Level::P2 => 2,
        Level::P3 => 3,
        Level::None => 4,
    }
}

/// The worst of several levels (`none` when there are none).
pub fn worst(levels: impl IntoIterator<Item = Level>) -> Level {
    levels
        .into_iter()
        .min_by_key(|l| rank(*l))
        .unwrap_or(Level::None)
}

/// Worst first; within a level more failing health first, then fewer processes online,
/// then by host name (stable for the screen).
pub fn sort_worst_first(rows: &mut [FleetRow]) {
    rows.sort_by(|a, b| {
        rank(a.level)
            .cmp(&rank(b.level))
            .then(b.failing_health.cmp(&a.failing_health))
            .then(a.online.unwrap_or(0).cmp(&b.online.unwrap_or(0)))
            .then(a.host.cmp(&b.host))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(host: &str, level: Level, failing: usize) -> FleetRow {
        FleetRow {
            host: host.into(),
            daemon: DaemonKind::Up,
            daemon_detail: String::new(),
            online: Some(3),
            expected: 3,
            failing_health: failing,
            health_checked: 4,
            level,
            reason: String::new(),
        }
    }

    #[test]
    fn worst_first_by_level_then_failing_health_then_name() {
        let mut rows = vec![
            row("a", Level::None, 0),
            row("b", Level::P2, 1),
            row("c", Level::Unknown, 0),
            row("d", Level::P2, 3),
            row("e", Level::P1, 0),
        ];
        sort_worst_first(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.host.as_str()).collect();
        assert_eq!(order, ["e", "c", "d", "b", "a"]);
    }

    #[test]
    fn cells_never_guess_unknowns() {
        let mut r = row("web-1", Level::Unknown, 0);
        r.online = None;
        r.health_checked = 0;
        r.reason = "ssh to web-1: Host key verification failed.\x1b[2J".into();
        let c = r.cells();
        assert_eq!(c[3], "?/3");
        assert_eq!(c[4], "not checked");
        assert!(!c[5].contains('\x1b'), "{}", c[5]);
    }

    #[test]
    fn worst_level() {
        assert_eq!(
            worst([Level::None, Level::P2, Level::Unknown]),
            Level::Unknown
        );
        assert_eq!(worst([Level::Unknown, Level::P1]), Level::P1);
        assert_eq!(worst([]), Level::None);
    }
}
