//! The restore plan when PM2's daemon is dead or empty: what the saved list supports, and
//! orphaned app processes that still hold the apps' ports. Pure: the caller passes what it
//! read (`dump.pm2`, the live `node` processes).
use super::plan::{PlanAction, PlanItem, RestorePlan};
use super::scope::Scope;
use crate::pm2::orphans::NodeProc;
use crate::pm2::SavedRead;
use crate::runbook::inventory::glob_match;
use crate::runbook::{Environment, Runbook};

/// What was read beside the daemon's state.
#[derive(Debug, Clone, Copy)]
pub struct DaemonFacts<'a> {
    pub saved: Option<&'a SavedRead>,
    pub node_procs: &'a [NodeProc],
    pub now_ms: i64,
}

/// The port of a local URL (`http://127.0.0.1:3001/...` → 3001).
fn url_port(url: &str) -> Option<u16> {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let host = rest.split('/').next()?;
    host.rsplit_once(':')?.1.parse().ok()
}

/// Orphans first, then `pm2 resurrect` when the saved list holds every production process
/// saved online, else the reason the plan falls back to the ecosystem starts.
pub fn adjust_for_dead_daemon(
    rb: &Runbook,
    _scope: &Scope,
    plan: &mut RestorePlan,
    facts: DaemonFacts<'_>,
) {
    let inv = &rb.inventory;
    for d in &inv.deployment {
        let Some(port) = d.local_url.as_deref().and_then(url_port) else {
            continue;
        };
        for p in facts.node_procs.iter().filter(|p| p.ports.contains(&port)) {
            plan.notes.push(format!(
                "pid {} ({}) still listens on port {port}, {}'s port: a start would crash-loop on EADDRINUSE; find out what it is (`ls -l /proc/{}/cwd`) and stop it by pid before any start",
                p.pid,
                p.cwd.as_deref().unwrap_or("cwd unreadable"),
                d.id.get_ref(),
                p.pid
            ));
        }
    }
    let production: Vec<&String> = inv
        .deployment
        .iter()
        .filter(|d| d.environment == Environment::Production)
        .flat_map(|d| d.processes.get_ref().iter())
        .collect();
    let fallback = |why: String| {
        format!("{why}: `pm2 resurrect` would not bring production back; the plan starts the ecosystem files in priority order")
    };
    let list = match facts.saved {
        None => {
            plan.notes
                .push("the saved list (dump.pm2) has not been read: cannot tell what `pm2 resurrect` would restore".into());
            return;
        }
        Some(SavedRead::Missing { path }) => {
            plan.notes.push(fallback(format!(
                "no saved list ({} does not exist)",
                path.display()
            )));
            return;
        }
        Some(SavedRead::Unreadable { reason, .. }) => {
            plan.notes.push(fallback(format!(
                "the saved list cannot be read ({reason})"
            )));
            return;
        }
        Some(SavedRead::Read(l)) => l,
    };
    let apps = list.apps();
    if apps.is_empty() {
        plan.notes.push(fallback("the saved list is empty".into()));
        return;
    }
    let missing: Vec<&str> = production
        .iter()
        .filter(|pat| !apps.iter().any(|a| glob_match(pat, a)))
        .map(|s| s.as_str())
        .collect();
    let stopped: Vec<&str> = apps
        .iter()
        .filter(|a| list.saved_online(a) == Some(false))
        .filter(|a| production.iter().any(|pat| glob_match(pat, a)))
        .map(String::as_str)
        .collect();
    let age = list.age_label(facts.now_ms);
    if !missing.is_empty() {
        plan.notes.push(fallback(format!(
            "the saved list ({} apps, {age}) lacks production process(es) {}",
            apps.len(),
            missing.join(", ")
        )));
        return;
    }
    if !stopped.is_empty() {
        plan.notes.push(fallback(format!(
            "the saved list ({age}) has {} saved as not online (resurrect brings them back stopped)",
            stopped.join(", ")
        )));
        return;
    }
    plan.notes.push(format!(
        "the saved list ({} apps, {age}) holds every production process: `pm2 resurrect` starts {} ({} processes); the per-deployment starts below are the fallback",
        apps.len(),
        apps.join(", "),
        list.entries.len()
    ));
    plan.items.insert(
        0,
        PlanItem {
            deployment: "saved list".into(),
            environment: Environment::Production,
            processes: apps,
            action: PlanAction::Resurrect,
            command: "pm2 resurrect".into(),
            dir: None,
            check: "every saved process online and production healthy".into(),
            // An alternative to the starts below, not a gate before them.
            verify_before_next: false,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::url_port;

    #[test]
    fn ports_from_local_urls() {
        assert_eq!(url_port("http://127.0.0.1:3001"), Some(3001));
        assert_eq!(url_port("http://localhost:8080/api"), Some(8080));
        assert_eq!(url_port("https://example.com/x"), None);
    }
}
