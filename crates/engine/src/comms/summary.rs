//! What the incident is, in words, from what was observed: the title and summary sentences of
//! a communication. The runbook's example wording ("All PM2 processes ... were terminated",
//! "Multiple production applications are currently down") is used only when it is true of
//! this incident; what the tool cannot know stays a visible `[fill in: ...]` placeholder.
use super::fill::time;
use super::sites::Site;
use crate::incident::event::ProcessRow;
use crate::incident::Incident;
use crate::runbook::{Environment, Inventory};

/// A sentence the responder has to write, shown as such.
pub fn fill_in(what: &str) -> String {
    format!("[fill in: {what}]")
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// e.g. "flyer-crawler-prod Down" (`None`: nothing observed yet).
    pub title: Option<String>,
    /// What PM2 shows, e.g. "PM2 shows flyer-crawler-api errored (15 restarts)."
    pub what: Option<String>,
    /// What is down now and since when, e.g. "1 production application is down: ...".
    pub scope: Option<String>,
    /// For the resolution notice: what is back, in the runbook's words where true.
    pub restored: Option<String>,
    /// The restoring line of "Current Actions": the runbook's words while production is
    /// down, the deployments by name when only others are.
    pub restoring: Option<String>,
}

/// One inventory process (or glob) that is not running as it should.
struct Problem {
    name: String,
    state: String,
}

pub fn summarize(inv: &Inventory, inc: &Incident, sites: &[Site]) -> Summary {
    let observed = inc.observations > 0 || inc.daemon.is_some();
    if !observed {
        return Summary::default();
    }
    let f = Facts::new(inv, inc, sites);
    let what = what(&f, inc);
    Summary {
        title: Some(title(inv, &f)),
        scope: scope(&f),
        restored: restored(&f, &what),
        restoring: restoring(&f),
        what: Some(what),
    }
}

/// What every sentence is written from, gathered once.
struct Facts<'a> {
    host: String,
    daemon_down: bool,
    problems: Vec<Problem>,
    /// PM2 lists nothing although the inventory expects processes (the runbook's incident).
    all_gone: bool,
    sites: &'a [Site],
    /// Sites down now; of those, production and the others.
    down_now: Vec<&'a Site>,
    prod_down: Vec<&'a Site>,
    other_down: Vec<&'a Site>,
    /// Sites that were down and are up again.
    back: Vec<&'a Site>,
}

impl<'a> Facts<'a> {
    fn new(inv: &Inventory, inc: &Incident, sites: &'a [Site]) -> Facts<'a> {
        let host = inc
            .opened
            .as_ref()
            .map(|o| o.value.host.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "this server".into());
        let daemon_down = inc
            .daemon
            .as_ref()
            .is_some_and(|d| d.value.kind().is_down());
        let expected = inv
            .deployment
            .iter()
            .any(|d| !d.processes.get_ref().is_empty());
        let down_now: Vec<&Site> = sites.iter().filter(|s| s.up == Some(false)).collect();
        let (prod_down, other_down): (Vec<&Site>, Vec<&Site>) = down_now
            .iter()
            .copied()
            .partition(|s| s.environment == Environment::Production);
        Facts {
            host,
            daemon_down,
            problems: problems(inv, &inc.processes),
            all_gone: !daemon_down && inc.processes.is_empty() && expected && inc.observations > 0,
            sites,
            down_now,
            prod_down,
            other_down,
            back: sites
                .iter()
                .filter(|s| s.up == Some(true) && s.ever_down())
                .collect(),
        }
    }
}

/// What PM2 shows: the daemon down, every process gone, the processes in trouble, or all
/// online (with the health checks that fail anyway).
fn what(f: &Facts, inc: &Incident) -> String {
    let host = &f.host;
    if f.daemon_down {
        let detail = inc.daemon.as_ref().map(|d| d.value.detail.clone());
        let detail = detail
            .filter(|d| !d.is_empty())
            .map_or(String::new(), |d| format!(" ({d})"));
        format!("The PM2 daemon on {host} is not running{detail}: no process is being managed.")
    } else if f.all_gone {
        // The runbook's own incident, in its own words (minus the guess "unexpectedly").
        format!("All PM2 processes on {host} were terminated: PM2 lists no processes.")
    } else if f.problems.is_empty() {
        let down: Vec<&str> = f.down_now.iter().map(|s| s.host.as_str()).collect();
        if down.is_empty() {
            "PM2 shows every expected process online.".to_string()
        } else {
            format!(
                "PM2 shows every expected process online, but health checks fail for {}.",
                down.join(", ")
            )
        }
    } else {
        let list: Vec<String> = f
            .problems
            .iter()
            .map(|p| format!("{} {}", p.name, p.state))
            .collect();
        format!("PM2 shows {}.", join_and(&list))
    }
}

/// What is down now (production first) and what is back; `None` before any site is known.
fn scope(f: &Facts) -> Option<String> {
    if f.sites.iter().all(|s| s.up.is_none()) {
        return None;
    }
    let mut parts = Vec::new();
    match f.prod_down.len() {
        0 => parts.push("No production application is down.".to_string()),
        1 => parts.push(format!(
            "1 production application is down: {}.",
            names(&f.prod_down)
        )),
        _ => parts.push(format!(
            "Multiple production applications are currently down: {}.",
            names(&f.prod_down)
        )),
    }
    if !f.other_down.is_empty() {
        parts.push(format!("Also down: {}.", names(&f.other_down)));
    }
    if !f.back.is_empty() {
        let v: Vec<String> = f
            .back
            .iter()
            .map(|s| match s.restored_at {
                Some(t) => format!("{} (at {})", s.deployment, time(t)),
                None => s.deployment.clone(),
            })
            .collect();
        parts.push(format!("Back up: {}.", join_and(&v)));
    }
    Some(parts.join(" "))
}

/// The title: the worst thing true now, from the daemon down to what recovered.
fn title(inv: &Inventory, f: &Facts) -> String {
    let apps = apps_of(inv, &f.down_now);
    let deployments = |v: &[&Site]| {
        v.iter()
            .map(|s| s.deployment.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if f.daemon_down {
        "PM2 Daemon Down".to_string()
    } else if apps.len() >= 2 {
        let base = if f.all_gone {
            "PM2 Process Isolation Failure - "
        } else {
            ""
        };
        format!("{base}Multiple Apps Down")
    } else if let [one] = f.down_now.as_slice() {
        format!("{} Down", one.deployment)
    } else if !f.down_now.is_empty() {
        format!("{} Down ({})", apps.join(", "), deployments(&f.down_now))
    } else if !f.back.is_empty() {
        format!("{} Recovered", deployments(&f.back))
    } else if !f.problems.is_empty() {
        format!(
            "PM2 Process Problem ({})",
            f.problems
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        fill_in("what is affected")
    }
}

/// The inventory apps the sites belong to, sorted, each once.
fn apps_of(inv: &Inventory, sites: &[&Site]) -> Vec<String> {
    let mut apps: Vec<String> = sites
        .iter()
        .filter_map(|s| {
            inv.deployment
                .iter()
                .find(|d| d.id.get_ref() == &s.deployment)
        })
        .map(|d| d.app.get_ref().clone())
        .collect();
    apps.sort();
    apps.dedup();
    apps
}

/// For the resolution notice; `None` while a site is unknown and none is down.
fn restored(f: &Facts, what: &str) -> Option<String> {
    if f.sites.iter().any(|s| s.up.is_none()) && f.sites.iter().all(|s| s.up != Some(false)) {
        None
    } else if f.down_now.is_empty() && f.problems.is_empty() && !f.daemon_down {
        Some("All PM2 processes have been restored. Services are operating normally.".to_string())
    } else if f.down_now.is_empty() {
        Some("Services answer their health checks.".to_string() + " " + what)
    } else {
        Some(format!("Still down: {}.", names(&f.down_now)))
    }
}

fn restoring(f: &Facts) -> Option<String> {
    if !f.prod_down.is_empty() || f.daemon_down || f.all_gone {
        Some("Restoring critical production processes".to_string())
    } else if !f.other_down.is_empty() {
        let ids: Vec<String> = f.other_down.iter().map(|s| s.deployment.clone()).collect();
        Some(format!("Restoring {} (not production)", join_and(&ids)))
    } else {
        None
    }
}

/// "a (since 04:12), b and c": deployments, with when each still-open outage began.
fn names(v: &[&Site]) -> String {
    let since = |s: &Site| match s.outages.last() {
        Some((from, None)) => format!("{} (since {})", s.deployment, time(*from)),
        _ => s.deployment.clone(),
    };
    join_and(&v.iter().map(|s| since(s)).collect::<Vec<_>>())
}

/// Inventory processes that are missing or not online, with their state and restarts.
fn problems(inv: &Inventory, listed: &[ProcessRow]) -> Vec<Problem> {
    let mut out = Vec::new();
    for d in &inv.deployment {
        for pattern in d.processes.get_ref() {
            let glob = pattern.contains('*');
            let hits: Vec<&ProcessRow> = listed
                .iter()
                .filter(|p| {
                    if glob {
                        glob_match(pattern, &p.name)
                    } else {
                        p.name == *pattern
                    }
                })
                .collect();
            if hits.is_empty() {
                out.push(Problem {
                    name: pattern.clone(),
                    state: "missing".into(),
                });
            }
            for p in hits.into_iter().filter(|p| !p.is_online()) {
                let restarts = match p.restarts {
                    0 => String::new(),
                    1 => " (1 restart)".into(),
                    n => format!(" ({n} restarts)"),
                };
                if !out.iter().any(|q: &Problem| q.name == p.name) {
                    out.push(Problem {
                        name: p.name.clone(),
                        state: format!("{}{restarts}", p.status),
                    });
                }
            }
        }
    }
    out
}

/// `*` globs as the inventory writes them (`stock-alert-*`).
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(j) => rest = &rest[j + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_lists() {
        assert!(glob_match("stock-alert-*", "stock-alert-api"));
        assert!(!glob_match("stock-alert-*", "flyer-crawler-api"));
        assert!(glob_match("a*c", "abbc"));
        assert!(!glob_match("a*c", "abbd"));
        assert_eq!(
            join_and(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
        assert_eq!(fill_in("who"), "[fill in: who]");
    }
}
