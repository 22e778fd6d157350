//! Snapshot output for monitoring systems: a Nagios/Icinga/Sensu check result and the
//! Prometheus text format (for node_exporter's textfile collector). Pure: a [`Monitor`]
//! view in, text out; the caller does the I/O and picks the exit code.
//!
//! Severity mapping (documented in the README):
//! - Nagios: none → 0 OK, P3 → 1 WARNING, P2/P1 → 2 CRITICAL, cannot tell → 3 UNKNOWN.
//! - Prometheus `pm2_incident_severity`: none 0, P3 1, P2 2, P1 3, cannot tell NaN (a
//!   guess is never shown as a fact), with `pm2_incident_severity_state{level=...}` as a
//!   state set so an alert on "unknown" is one comparison.
use std::fmt::Write as _;

use crate::assess::{Assessment, Level, ProcState};
use crate::health::HealthResult;
use crate::observe::Snapshot;
use crate::pm2::{DaemonKind, Reading};
use crate::runbook::Environment;
use crate::sanitize::escape_line;

/// One process as the monitoring formats show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcRow {
    /// Inventory deployment id; `None` for a process the inventory does not know.
    pub deployment: Option<String>,
    pub environment: Option<Environment>,
    pub name: String,
    pub state: String,
    /// `None`: the state cannot be told (PM2 unreadable).
    pub up: Option<bool>,
    pub instances: usize,
    pub restarts: u64,
}

/// Everything the monitoring formats show, from either a full assessment or (with no
/// inventory) a bare PM2 reading.
#[derive(Debug, Clone)]
pub struct Monitor<'a> {
    pub level: Level,
    pub label: String,
    pub reasons: Vec<String>,
    pub daemon: DaemonKind,
    pub processes: Vec<ProcRow>,
    pub endpoints: &'a [HealthResult],
    pub notes: Vec<String>,
}

fn up_of(state: &ProcState) -> Option<bool> {
    match state {
        ProcState::Unknown => None,
        s => Some(!s.is_down()),
    }
}

impl<'a> Monitor<'a> {
    pub fn from_assessment(snap: &'a Snapshot, a: &Assessment) -> Monitor<'a> {
        let mut processes = Vec::new();
        for d in &a.scope.deployments {
            for p in &d.processes {
                processes.push(ProcRow {
                    deployment: Some(d.id.clone()),
                    environment: Some(d.environment),
                    name: p.name.clone(),
                    state: p.state.label().to_string(),
                    up: up_of(&p.state),
                    instances: p.instances,
                    restarts: p.restarts,
                });
            }
        }
        for p in &a.scope.unexpected {
            processes.push(ProcRow {
                deployment: None,
                environment: None,
                name: p.name.clone(),
                state: p.state.label().to_string(),
                up: up_of(&p.state),
                instances: p.instances,
                restarts: p.restarts,
            });
        }
        let mut notes = Vec::new();
        if let Some(e) = &snap.health_error {
            notes.push(format!("health checks did not run: {e}"));
        }
        Monitor {
            level: a.severity.level,
            label: a.severity.label.clone(),
            reasons: a.severity.reasons.clone(),
            daemon: snap.pm2.kind(),
            processes,
            endpoints: &snap.health,
            notes,
        }
    }

    /// No inventory to judge against: what PM2 lists, severity unknown.
    pub fn from_reading(r: &Reading, label: String) -> Monitor<'static> {
        let processes = r
            .processes
            .iter()
            .flatten()
            .map(|p| ProcRow {
                deployment: None,
                environment: None,
                name: p.name.clone(),
                state: p.status.as_str().to_string(),
                up: Some(p.status.as_str() == "online"),
                instances: 1,
                restarts: p.restarts,
            })
            .collect();
        Monitor {
            level: Level::Unknown,
            reasons: vec![],
            label,
            daemon: r.kind(),
            processes,
            endpoints: &[],
            notes: vec![],
        }
    }
}

/// Nagios plugin return codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NagiosStatus {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl NagiosStatus {
    pub fn of(level: Level) -> NagiosStatus {
        match level {
            Level::None => NagiosStatus::Ok,
            Level::P3 => NagiosStatus::Warning,
            Level::P2 | Level::P1 => NagiosStatus::Critical,
            Level::Unknown => NagiosStatus::Unknown,
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            NagiosStatus::Ok => "OK",
            NagiosStatus::Warning => "WARNING",
            NagiosStatus::Critical => "CRITICAL",
            NagiosStatus::Unknown => "UNKNOWN",
        }
    }
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Severity as a number: none 0, P3 1, P2 2, P1 3; `None` when it cannot be told.
pub fn severity_number(level: Level) -> Option<u8> {
    match level {
        Level::None => Some(0),
        Level::P3 => Some(1),
        Level::P2 => Some(2),
        Level::P1 => Some(3),
        Level::Unknown => None,
    }
}

/// Plugin output text: one line, no `|` (it starts the perfdata), no control characters.
fn plugin_text(s: &str) -> String {
    escape_line(s).replace('|', "/")
}

/// Nagios plugin output: status line with perfdata, then one long-output line per reason.
pub fn nagios(m: &Monitor) -> String {
    let status = NagiosStatus::of(m.level);
    let label = if m.label.starts_with(m.level.as_str()) || m.level == Level::Unknown {
        m.label.clone()
    } else {
        format!("{}: {}", m.level.as_str(), m.label)
    };
    let known: Vec<_> = m.processes.iter().filter(|p| p.up.is_some()).collect();
    let online = known.iter().filter(|p| p.up == Some(true)).count();
    let down = known.len() - online;
    let healthy = m
        .endpoints
        .iter()
        .filter(|h| h.verdict.is_healthy())
        .count();
    let failing = m.endpoints.iter().filter(|h| h.verdict.says_down()).count();
    let restarts: u64 = m.processes.iter().map(|p| p.restarts).sum();
    let sev = severity_number(m.level).map_or("U".to_string(), |n| n.to_string());
    let nproc = m.processes.len();
    let nend = m.endpoints.len();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "PM2-INCIDENT {} - {} | severity={sev};1;2;0;3 processes_online={online};;;0;{nproc} \
         processes_down={down};;;0;{nproc} endpoints_healthy={healthy};;;0;{nend} \
         endpoints_failing={failing};;;0;{nend} restarts={restarts}c",
        status.word(),
        plugin_text(&label),
    );
    let _ = writeln!(o, "PM2 daemon: {}", m.daemon.as_str());
    for r in m.reasons.iter().chain(&m.notes) {
        let _ = writeln!(o, "{}", plugin_text(r));
    }
    o
}

/// A Prometheus label value: backslash, double quote and newline escaped (the format's
/// rules), other control characters shown escaped.
fn label_value(s: &str) -> String {
    escape_line(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Family<'o> {
    out: &'o mut String,
}

impl Family<'_> {
    fn head(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} gauge");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: &str) {
        let _ = write!(self.out, "{name}");
        if !labels.is_empty() {
            let body: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label_value(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", body.join(","));
        }
        let _ = writeln!(self.out, " {value}");
    }
}

fn bool_value(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "1",
        Some(false) => "0",
        None => "NaN",
    }
}

const LEVELS: [Level; 5] = [Level::None, Level::P3, Level::P2, Level::P1, Level::Unknown];
const DAEMON_STATES: [DaemonKind; 6] = [
    DaemonKind::Up,
    DaemonKind::NotRunning,
    DaemonKind::Died,
    DaemonKind::PermissionDenied,
    DaemonKind::Timeout,
    DaemonKind::Error,
];

/// Prometheus text exposition format (version 0.0.4), gauges only.
pub fn prometheus(m: &Monitor) -> String {
    let mut out = String::new();
    let mut f = Family { out: &mut out };
    state_families(&mut f, m);
    process_families(&mut f, m);
    endpoint_families(&mut f, m);
    out
}

/// The severity (as a number and as one-hot states) and the daemon's state.
fn state_families(f: &mut Family, m: &Monitor) {
    f.head(
        "pm2_incident_severity",
        "Incident severity by the runbook: 0 none, 1 P3, 2 P2, 3 P1, NaN cannot tell.",
    );
    let sev = severity_number(m.level).map_or("NaN".to_string(), |n| n.to_string());
    f.sample("pm2_incident_severity", &[], &sev);
    f.head(
        "pm2_incident_severity_state",
        "1 for the current severity level (none, P3, P2, P1, unknown), 0 for the others.",
    );
    for l in LEVELS {
        let v = if l == m.level { "1" } else { "0" };
        f.sample("pm2_incident_severity_state", &[("level", l.as_str())], v);
    }
    f.head(
        "pm2_incident_pm2_daemon",
        "1 for the PM2 daemon's current state, 0 for the others.",
    );
    for d in DAEMON_STATES {
        let v = if d == m.daemon { "1" } else { "0" };
        f.sample("pm2_incident_pm2_daemon", &[("state", d.as_str())], v);
    }
}

/// One family per process measure, one sample per process.
fn process_families(f: &mut Family, m: &Monitor) {
    let plabels = |p: &ProcRow| -> Vec<(&'static str, String)> {
        vec![
            ("deployment", p.deployment.clone().unwrap_or_default()),
            (
                "environment",
                p.environment.map(|e| e.as_str()).unwrap_or("").to_string(),
            ),
            ("process", p.name.clone()),
            (
                "in_inventory",
                if p.deployment.is_some() { "yes" } else { "no" }.to_string(),
            ),
        ]
    };
    type Getter = fn(&ProcRow) -> String;
    let proc_metrics: [(&str, &str, Getter); 3] = [
        (
            "pm2_incident_process_up",
            "1 when every instance is online, 0 when PM2 shows it down or missing, NaN cannot tell.",
            |p| bool_value(p.up).to_string(),
        ),
        (
            "pm2_incident_process_instances",
            "Instances PM2 lists under this name.",
            |p| p.instances.to_string(),
        ),
        (
            "pm2_incident_process_restarts",
            "Highest PM2 restart count among the instances.",
            |p| p.restarts.to_string(),
        ),
    ];
    for (name, help, get) in proc_metrics {
        if m.processes.is_empty() {
            continue;
        }
        f.head(name, help);
        for p in &m.processes {
            let l = plabels(p);
            let refs: Vec<(&str, &str)> = l.iter().map(|(k, v)| (*k, v.as_str())).collect();
            f.sample(name, &refs, &get(p));
        }
    }
}

/// One family per endpoint measure, one sample per health target that has the value.
fn endpoint_families(f: &mut Family, m: &Monitor) {
    type EGetter = fn(&HealthResult) -> Option<String>;
    let endpoint_metrics: [(&str, &str, EGetter); 4] = [
        (
            "pm2_incident_endpoint_healthy",
            "1 when the health endpoint reports healthy, else 0.",
            |h| Some(bool_value(Some(h.verdict.is_healthy())).to_string()),
        ),
        (
            "pm2_incident_endpoint_down",
            "1 when the endpoint's answer says the app is down (502/503/504, refused, unhealthy, timeout).",
            |h| Some(bool_value(Some(h.verdict.says_down())).to_string()),
        ),
        (
            "pm2_incident_endpoint_http_status",
            "HTTP status of the health answer (absent when none arrived).",
            |h| h.http_status.map(|s| s.to_string()),
        ),
        (
            "pm2_incident_endpoint_latency_seconds",
            "Time the health request took.",
            |h| Some(format!("{}", h.latency_ms as f64 / 1000.0)),
        ),
    ];
    for (name, help, get) in endpoint_metrics {
        let rows: Vec<_> = m
            .endpoints
            .iter()
            .filter_map(|h| get(h).map(|v| (h, v)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        f.head(name, help);
        for (h, v) in rows {
            // No verdict label: a label that changes with the state would start a new
            // series each time and break the gauge's history.
            let labels = [
                ("deployment", h.target.deployment.as_str()),
                ("environment", h.target.environment.as_str()),
                ("route", route_str(h)),
                ("url", h.target.url.as_str()),
            ];
            f.sample(name, &labels, &v);
        }
    }
}

fn route_str(h: &HealthResult) -> &'static str {
    match h.target.route {
        crate::runbook::inventory::Route::Public => "public",
        crate::runbook::inventory::Route::Local => "local",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, up: Option<bool>) -> ProcRow {
        ProcRow {
            deployment: Some("d\"1".into()),
            environment: Some(Environment::Production),
            name: name.into(),
            state: "x".into(),
            up,
            instances: 1,
            restarts: 2,
        }
    }

    fn monitor(level: Level, processes: Vec<ProcRow>) -> Monitor<'static> {
        Monitor {
            level,
            label: "label | with pipe\nand newline".into(),
            reasons: vec!["a|b".into()],
            daemon: DaemonKind::Up,
            processes,
            endpoints: &[],
            notes: vec![],
        }
    }

    #[test]
    fn nagios_maps_every_level_and_keeps_the_pipe_for_perfdata() {
        for (l, code, word) in [
            (Level::None, 0, "OK"),
            (Level::P3, 1, "WARNING"),
            (Level::P2, 2, "CRITICAL"),
            (Level::P1, 2, "CRITICAL"),
            (Level::Unknown, 3, "UNKNOWN"),
        ] {
            assert_eq!(NagiosStatus::of(l).code(), code);
            let out = nagios(&monitor(l, vec![row("a", Some(true))]));
            let first = out.lines().next().unwrap();
            assert!(
                first.starts_with(&format!("PM2-INCIDENT {word} - ")),
                "{first}"
            );
            assert_eq!(first.matches('|').count(), 1, "{first}");
            assert!(out.lines().all(|l| !l.contains('\n')));
            assert!(!out.contains("a|b"));
        }
        let out = nagios(&monitor(Level::Unknown, vec![]));
        assert!(out.contains("severity=U;"), "{out}");
    }

    #[test]
    fn prometheus_escapes_labels_and_says_nan_when_it_cannot_tell() {
        let out = prometheus(&monitor(
            Level::Unknown,
            vec![row("a\\b", None), row("c", Some(false))],
        ));
        assert!(out.contains("pm2_incident_severity NaN\n"), "{out}");
        assert!(out.contains(r#"deployment="d\"1""#), "{out}");
        assert!(out.contains(r#"process="a\\b""#), "{out}");
        assert!(out.contains("pm2_incident_severity_state{level=\"unknown\"} 1"));
        let ups: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("pm2_incident_process_up{"))
            .map(|l| l.rsplit(' ').next().unwrap())
            .collect();
        assert_eq!(ups, ["NaN", "0"]);
    }
}
