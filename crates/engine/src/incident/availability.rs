//! Per-application up/down state derived from PM2 observations and health results, with the
//! outage intervals the report turns into downtime. An application is down when any of its
//! processes is missing or not online, or any of its health checks fails.
use super::event::{HealthResult, InventorySummary, ProcessRow, Ts};
use super::log::Log;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub from: Ts,
    /// None while still down.
    pub to: Option<Ts>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    pub label: String,
    patterns: Vec<String>,
    health_urls: Vec<String>,
    name: String,
    env: String,
    pub processes_up: Option<bool>,
    pub health_up: BTreeMap<String, bool>,
    pub up: Option<bool>,
    /// When the state was first known (an app already down then was down since before it).
    pub first_known: Option<Ts>,
    /// Every outage in order: one per transition to down, for the whole journal (a
    /// persistent list, so replay snapshots share it).
    pub outages: Log<Outage>,
}

impl AppState {
    fn new(name: &str, env: &str, patterns: Vec<String>, health_urls: Vec<String>) -> Self {
        let label = if env.is_empty() {
            name.to_string()
        } else {
            format!("{name} ({env})")
        };
        AppState {
            label,
            patterns,
            health_urls,
            name: name.to_string(),
            env: env.to_string(),
            processes_up: None,
            health_up: BTreeMap::new(),
            up: None,
            first_known: None,
            outages: Log::default(),
        }
    }

    /// Total time down up to `until` (an open outage counts until then). An app that was
    /// already down when first observed counts from `impact_start` if that is earlier.
    pub fn downtime_ms(&self, until: Ts, impact_start: Option<Ts>) -> i64 {
        self.outages
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let from = match (i, impact_start) {
                    (0, Some(s)) if Some(o.from) == self.first_known && s < o.from => s,
                    _ => o.from,
                };
                (o.to.unwrap_or(until) - from).num_milliseconds().max(0)
            })
            .sum()
    }

    /// True when the first outage began before the journal's first look at this app.
    pub fn down_when_first_seen(&self) -> bool {
        self.outages.first().map(|o| Some(o.from)) == Some(self.first_known)
    }

    /// Recomputes `up`; returns the new state if it changed in a way worth reporting.
    fn settle(&mut self, ts: Ts) -> Option<bool> {
        let any_health_down = self.health_up.values().any(|u| !u);
        let any_health_up = self.health_up.values().any(|u| *u);
        let now = if self.processes_up == Some(false) || any_health_down {
            Some(false)
        } else if self.processes_up == Some(true) || any_health_up {
            Some(true)
        } else {
            None
        };
        let before = self.up;
        self.up = now;
        if now.is_some() {
            self.first_known.get_or_insert(ts);
        }
        match (before, now) {
            (Some(false), Some(false)) | (Some(true), Some(true)) | (_, None) => None,
            (None, Some(true)) => None,
            (_, Some(false)) => {
                self.outages.push(Outage { from: ts, to: None });
                Some(false)
            }
            (Some(false), Some(true)) => {
                if let Some(o) = self.outages.last_mut() {
                    o.to = Some(ts);
                }
                Some(true)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Availability {
    pub apps: Vec<AppState>,
    /// With an inventory, apps are the inventory's; without one, each process name is an app.
    inventory_driven: bool,
    matches: Matches,
}

/// Which rows each inventory app's patterns match, for the last list of names seen: a steady
/// fleet reports the same names at every observation, and matching every pattern against every
/// name each time was the fold's largest cost after allocation (issue #19). A cache, never
/// part of the value: it never makes two states differ.
#[derive(Debug, Clone, Default)]
struct Matches {
    names: Vec<String>,
    apps: usize,
    /// Per app: every pattern has a row, and the rows any pattern matches.
    per_app: Vec<(bool, Vec<usize>)>,
}

impl PartialEq for Matches {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Matches {
    /// Recomputes unless the names (in order) and the apps are the ones matched last.
    fn update(&mut self, apps: &[AppState], rows: &[ProcessRow]) {
        let same = self.apps == apps.len()
            && self.names.len() == rows.len()
            && self.names.iter().zip(rows).all(|(n, r)| *n == r.name);
        if same {
            return;
        }
        self.names.clear();
        self.names.extend(rows.iter().map(|r| r.name.clone()));
        self.apps = apps.len();
        self.per_app = apps
            .iter()
            .map(|app| {
                let each_present = app
                    .patterns
                    .iter()
                    .all(|p| rows.iter().any(|r| glob_match(p, &r.name)));
                let members = (0..rows.len())
                    .filter(|&i| app.patterns.iter().any(|p| glob_match(p, &rows[i].name)))
                    .collect();
                (each_present, members)
            })
            .collect();
    }
}

impl Availability {
    pub fn set_inventory(&mut self, inv: &InventorySummary) {
        if inv.apps.is_empty() {
            return;
        }
        self.inventory_driven = true;
        for a in &inv.apps {
            let st = AppState::new(&a.name, &a.env, a.processes.clone(), a.health_urls.clone());
            if !self.apps.iter().any(|x| x.label == st.label) {
                self.apps.push(st);
            }
        }
    }

    /// Freezes the open end of every outage list (see [`Log::seal`]).
    pub fn seal(&mut self) {
        for a in &mut self.apps {
            a.outages.seal();
        }
    }

    pub fn get(&self, label: &str) -> Option<&AppState> {
        self.apps.iter().find(|a| a.label == label)
    }

    /// Applies a process list; returns (app label, now up?) for each reportable change.
    pub fn observe_processes(&mut self, ts: Ts, rows: &[ProcessRow]) -> Vec<(String, bool)> {
        if self.inventory_driven {
            self.matches.update(&self.apps, rows);
            for (app, (each_present, members)) in self.apps.iter_mut().zip(&self.matches.per_app) {
                if app.patterns.is_empty() {
                    continue;
                }
                // Up only if every name (or glob) has a process and all of them are online:
                // a missing process is as down as an errored one.
                let all_online = members.iter().all(|&i| rows[i].is_online());
                app.processes_up = Some(*each_present && all_online);
            }
        } else {
            // By name, in order of first appearance: several instances (cluster mode) share a
            // name, and all must be online. Hashed: a dump may list thousands of processes.
            let mut all_online: HashMap<&str, bool> = HashMap::with_capacity(rows.len());
            let mut names = Vec::new();
            for r in rows {
                match all_online.entry(r.name.as_str()) {
                    Entry::Occupied(mut e) => *e.get_mut() &= r.is_online(),
                    Entry::Vacant(e) => {
                        e.insert(r.is_online());
                        names.push(r.name.as_str());
                    }
                }
            }
            for app in &mut self.apps {
                // A process that vanished from the list counts as down.
                if app.processes_up.is_some() && !all_online.contains_key(app.name.as_str()) {
                    app.processes_up = Some(false);
                }
            }
            // Each name's app is the first one of that name without an environment.
            let mut app_of: HashMap<String, usize> = HashMap::new();
            for (i, a) in self
                .apps
                .iter()
                .enumerate()
                .filter(|(_, a)| a.env.is_empty())
            {
                app_of.entry(a.name.clone()).or_insert(i);
            }
            for name in names {
                let idx = match app_of.get(name) {
                    Some(&i) => i,
                    None => {
                        self.apps
                            .push(AppState::new(name, "", vec![name.to_string()], vec![]));
                        app_of.insert(name.to_string(), self.apps.len() - 1);
                        self.apps.len() - 1
                    }
                };
                self.apps[idx].processes_up = Some(all_online[name]);
            }
        }
        self.settle_all(ts)
    }

    pub fn observe_health(&mut self, ts: Ts, h: &HealthResult) -> Vec<(String, bool)> {
        let pos = self
            .apps
            .iter()
            .position(|a| a.health_urls.iter().any(|u| u == &h.url))
            .or_else(|| {
                self.apps
                    .iter()
                    .position(|a| a.name == h.app && a.env == h.env)
            });
        let idx = match pos {
            Some(i) => i,
            None => {
                self.apps
                    .push(AppState::new(&h.app, &h.env, vec![], vec![h.url.clone()]));
                self.apps.len() - 1
            }
        };
        self.apps[idx].health_up.insert(h.url.clone(), h.up);
        self.settle_all(ts)
    }

    fn settle_all(&mut self, ts: Ts) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for app in &mut self.apps {
            if let Some(up) = app.settle(ts) {
                out.push((app.label.clone(), up));
            }
        }
        out
    }
}

/// The inventory's glob rule (`*`, `?`; linear time), so both agree on every name.
pub use crate::runbook::inventory::glob_match;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, status: &str) -> ProcessRow {
        ProcessRow {
            pm_id: 0,
            name: name.into(),
            namespace: String::new(),
            status: status.into(),
            pid: None,
            restarts: 0,
            unstable_restarts: 0,
            uptime_since_ms: None,
            cpu: 0.0,
            memory: 0,
        }
    }

    /// The match cache follows the names: the same names keep it, other names (or an app
    /// added after) recompute it, and the state is what a fresh fold gives at each step.
    #[test]
    fn cached_matches_follow_the_names() {
        let inv: InventorySummary = serde_json::from_value(serde_json::json!({"apps": [
            {"name": "api", "env": "", "processes": ["api-*"], "health_urls": []},
            {"name": "db", "env": "", "processes": ["db"], "health_urls": []}
        ]}))
        .unwrap();
        let lists = [
            vec![row("api-1", "online"), row("db", "online")],
            vec![row("api-1", "errored"), row("db", "online")],
            vec![row("db", "online"), row("api-1", "online")],
            vec![row("api-2", "online")],
            vec![row("api-2", "online"), row("db", "stopped")],
            vec![row("api-2", "online"), row("db", "stopped")],
        ];
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let mut cached = Availability::default();
        cached.set_inventory(&inv);
        for (k, rows) in lists.iter().enumerate() {
            cached.observe_processes(t, rows);
            let mut fresh = Availability::default();
            fresh.set_inventory(&inv);
            fresh.observe_processes(t, rows);
            let up = |a: &Availability| a.apps.iter().map(|x| x.processes_up).collect::<Vec<_>>();
            assert_eq!(up(&cached), up(&fresh), "list {k}");
        }
        let up: Vec<_> = cached.apps.iter().map(|a| a.processes_up).collect();
        assert_eq!(up, [Some(true), Some(false)]);
    }

    #[test]
    fn globs() {
        for (p, n, want) in [
            ("stock-alert-*", "stock-alert-api", true),
            ("stock-alert-*", "stock-alert", false),
            ("flyer-crawler-api", "flyer-crawler-api-test", false),
            ("*-test", "flyer-crawler-api-test", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "acb", false),
            ("*", "", true),
        ] {
            assert_eq!(glob_match(p, n), want, "{p} vs {n}");
        }
        // Exponential for a backtracking matcher; globset answers in linear time.
        assert!(!glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", &"a".repeat(3000)));
    }
}
