//! From the live types (pm2, health, assess, runbook) to the journal's plain
//! event payloads. Only allow-listed fields cross over; nothing carries an environment.
use crate::assess::{Level, SeverityCall};
use crate::health::HealthResult;
use crate::incident::event::{self as ev, AppSummary, DecisionStep, InventorySummary, Severity};
use crate::pm2::Process;
use crate::runbook::{inventory::join_url, Inventory, Outcome};

pub fn process_row(p: &Process) -> ev::ProcessRow {
    ev::ProcessRow {
        pm_id: p.pm_id,
        name: p.name.clone(),
        namespace: p.namespace.clone().unwrap_or_default(),
        status: p.status.as_str().to_string(),
        pid: p.pid,
        restarts: p.restarts.min(u32::MAX as u64) as u32,
        unstable_restarts: p.unstable_restarts.min(u32::MAX as u64) as u32,
        uptime_since_ms: p.uptime_since_ms,
        cpu: p.cpu_percent.unwrap_or(0.0),
        memory: p.memory_bytes.unwrap_or(0),
    }
}

pub fn health_row(h: &HealthResult) -> ev::HealthResult {
    ev::HealthResult {
        url: h.target.url.clone(),
        app: h.target.deployment.clone(),
        env: h.target.environment.as_str().to_string(),
        status_code: h.http_status,
        verdict: h.verdict.clone(),
        up: h.verdict.is_healthy(),
        latency_ms: Some(h.latency_ms),
    }
}

/// The journal's severity for a call (`None` when there is none to record).
pub fn severity(call: &SeverityCall) -> Option<Severity> {
    match call.level {
        Level::P1 => Some(Severity::P1),
        Level::P2 => Some(Severity::P2),
        Level::P3 => Some(Severity::P3),
        Level::Unknown if call.outcome == Some(Outcome::Investigate) => Some(Severity::Investigate),
        _ => None,
    }
}

pub fn decision_path(call: &SeverityCall) -> Vec<DecisionStep> {
    call.path
        .iter()
        .filter_map(|a| {
            a.answer.map(|answer| DecisionStep {
                question: a.question.clone(),
                answer,
                reason: a.reasons.join("; "),
            })
        })
        .collect()
}

/// Per deployment: name, environment, process patterns and health URLs, so the
/// report can compute downtime without the inventory file.
pub fn inventory_summary(inv: &Inventory) -> InventorySummary {
    InventorySummary {
        apps: inv
            .deployment
            .iter()
            .map(|d| AppSummary {
                name: d.id.get_ref().clone(),
                env: d.environment.as_str().to_string(),
                processes: d.processes.get_ref().clone(),
                health_urls: d
                    .public()
                    .map(|p| join_url(p, &d.ready_path))
                    .into_iter()
                    .chain(d.local_url.iter().map(|l| join_url(l, &d.ready_path)))
                    .collect(),
            })
            .collect(),
    }
}

/// Back from a journal row to the live model (replay): fields the journal does not
/// keep are left empty.
pub fn process_from_row(r: &ev::ProcessRow) -> Process {
    Process {
        pm_id: r.pm_id,
        name: r.name.clone(),
        namespace: Some(r.namespace.clone()).filter(|s| !s.is_empty()),
        pid: r.pid,
        status: crate::pm2::ProcessStatus::parse(&r.status),
        exec_mode: None,
        instances: None,
        restarts: r.restarts as u64,
        unstable_restarts: r.unstable_restarts as u64,
        uptime_since_ms: r.uptime_since_ms,
        created_at_ms: None,
        cpu_percent: Some(r.cpu),
        memory_bytes: Some(r.memory),
        exit_code: None,
        version: None,
        node_version: None,
        cwd: None,
        script: None,
        out_log: None,
        err_log: None,
        metrics: Default::default(),
    }
}

/// Back from a journal health row (replay). The target comes from the inventory when
/// it knows the URL.
pub fn health_from_row(r: &ev::HealthResult, inv: &Inventory) -> HealthResult {
    use crate::runbook::inventory::{HealthTarget, Route};
    use crate::runbook::Environment;
    let target = inv
        .health_targets()
        .into_iter()
        .find(|t| t.url == r.url)
        .unwrap_or_else(|| HealthTarget {
            url: r.url.clone(),
            deployment: r.app.clone(),
            app: r.app.clone(),
            environment: if r.env == "test" {
                Environment::Test
            } else {
                Environment::Production
            },
            route: Route::Public,
            format: Default::default(),
        });
    HealthResult {
        target,
        http_status: r.status_code,
        latency_ms: r.latency_ms.unwrap_or(0),
        verdict: r.verdict.clone(),
    }
}
