//! The restore plan when PM2's daemon is dead or empty: what the saved list supports, and
//! orphaned app processes that still hold the apps' ports. Pure: the caller passes what it
//! read (`dump.pm2`, the live `node` processes).
use super::plan::{PlanAction, PlanItem, RestorePlan};
use super::scope::Scope;
use crate::pm2::orphans::NodeProc;
use crate::pm2::{SavedList, SavedRead};
use crate::runbook::inventory::{glob_match, Inventory};
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
    plan.notes
        .extend(orphan_notes(&rb.inventory, facts.node_procs));
    match resurrect(&rb.inventory, facts) {
        Ok((note, item)) => {
            plan.notes.push(note);
            plan.items.insert(0, item);
        }
        Err(why_not) => plan.notes.push(why_not),
    }
}

/// One note per live `node` process holding a deployment's port: a start would
/// crash-loop on EADDRINUSE until it is stopped.
fn orphan_notes(inv: &Inventory, node_procs: &[NodeProc]) -> Vec<String> {
    let mut notes = Vec::new();
    for d in &inv.deployment {
        let Some(port) = d.local_url.as_deref().and_then(url_port) else {
            continue;
        };
        for p in node_procs.iter().filter(|p| p.ports.contains(&port)) {
            notes.push(format!(
                "pid {} ({}) still listens on port {port}, {}'s port: a start would crash-loop on EADDRINUSE; find out what it is (`ls -l /proc/{}/cwd`) and stop it by pid before any start",
                p.pid,
                p.cwd.as_deref().unwrap_or("cwd unreadable"),
                d.id.get_ref(),
                p.pid
            ));
        }
    }
    notes
}

/// The note on why `pm2 resurrect` is not the plan, given the reason.
fn fallback(why: String) -> String {
    format!("{why}: `pm2 resurrect` would not bring production back; the plan starts the ecosystem files in priority order")
}

/// The resurrect item and its note when the saved list can bring production back,
/// else the note saying why not.
fn resurrect(inv: &Inventory, facts: DaemonFacts<'_>) -> Result<(String, PlanItem), String> {
    let list = readable_list(facts.saved)?;
    let apps = list.apps();
    if apps.is_empty() {
        return Err(fallback("the saved list is empty".into()));
    }
    production_gap(inv, list, &apps, facts.now_ms)?;
    let note = format!(
        "the saved list ({} apps, {}) holds every production process: `pm2 resurrect` starts {} ({} processes); the per-deployment starts below are the fallback",
        apps.len(),
        list.age_label(facts.now_ms),
        apps.join(", "),
        list.entries.len()
    );
    let item = PlanItem {
        deployment: "saved list".into(),
        environment: Environment::Production,
        processes: apps,
        action: PlanAction::Resurrect,
        command: "pm2 resurrect".into(),
        dir: None,
        check: "every saved process online and production healthy".into(),
        // An alternative to the starts below, not a gate before them.
        verify_before_next: false,
    };
    Ok((note, item))
}

/// The saved list, or the note saying it was not read, does not exist or is unreadable.
fn readable_list(saved: Option<&SavedRead>) -> Result<&SavedList, String> {
    match saved {
        None => Err("the saved list (dump.pm2) has not been read: cannot tell what `pm2 resurrect` would restore".into()),
        Some(SavedRead::Missing { path }) => Err(fallback(format!(
            "no saved list ({} does not exist)",
            path.display()
        ))),
        Some(SavedRead::Unreadable { reason, .. }) => Err(fallback(format!(
            "the saved list cannot be read ({reason})"
        ))),
        Some(SavedRead::Read(l)) => Ok(l),
    }
}

/// Why the saved list would not bring production back: a production process it
/// lacks, or one saved as not online (resurrect would restore it stopped).
fn production_gap(
    inv: &Inventory,
    list: &SavedList,
    apps: &[String],
    now_ms: i64,
) -> Result<(), String> {
    let production: Vec<&String> = inv
        .deployment
        .iter()
        .filter(|d| d.environment == Environment::Production)
        .flat_map(|d| d.processes.get_ref().iter())
        .collect();
    let missing: Vec<&str> = production
        .iter()
        .filter(|pat| !apps.iter().any(|a| glob_match(pat, a)))
        .map(|s| s.as_str())
        .collect();
    let age = list.age_label(now_ms);
    if !missing.is_empty() {
        return Err(fallback(format!(
            "the saved list ({} apps, {age}) lacks production process(es) {}",
            apps.len(),
            missing.join(", ")
        )));
    }
    let stopped: Vec<&str> = apps
        .iter()
        .filter(|a| list.saved_online(a) == Some(false))
        .filter(|a| production.iter().any(|pat| glob_match(pat, a)))
        .map(String::as_str)
        .collect();
    if !stopped.is_empty() {
        return Err(fallback(format!(
            "the saved list ({age}) has {} saved as not online (resurrect brings them back stopped)",
            stopped.join(", ")
        )));
    }
    Ok(())
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
