//! Scope: per deployment, the expected processes against what PM2 reports, and
//! the health verdicts of its endpoints.
use serde::Serialize;
use std::collections::{HashMap, HashSet};

use super::fit::{inventory_fit, InventoryFit};
use super::observation::{Observation, Pm2View};
use crate::health::HealthResult;
use crate::pm2::{Process, ProcessStatus};
use crate::runbook::inventory::{glob_match, is_glob, Deployment};
use crate::runbook::{Environment, Inventory};

/// The state of one expected process (or of one instance group sharing a name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcState {
    Online,
    Launching,
    Stopping,
    Stopped,
    Errored,
    WaitingRestart,
    /// PM2 does not list it (or no daemon runs).
    Missing,
    /// PM2 could not be read.
    Unknown,
    Other(String),
}

impl ProcState {
    fn of(status: &ProcessStatus) -> ProcState {
        match status {
            ProcessStatus::Online => ProcState::Online,
            ProcessStatus::Launching => ProcState::Launching,
            ProcessStatus::Stopping => ProcState::Stopping,
            ProcessStatus::Stopped => ProcState::Stopped,
            ProcessStatus::Errored => ProcState::Errored,
            ProcessStatus::WaitingRestart => ProcState::WaitingRestart,
            other => ProcState::Other(other.as_str().to_string()),
        }
    }

    /// How bad a state is, to merge the instances of a cluster app (worst wins).
    fn badness(&self) -> u8 {
        match self {
            ProcState::Online => 0,
            ProcState::Unknown => 1,
            ProcState::Launching => 2,
            ProcState::Stopping => 3,
            ProcState::Other(_) => 4,
            ProcState::WaitingRestart => 5,
            ProcState::Stopped => 6,
            ProcState::Errored => 7,
            ProcState::Missing => 8,
        }
    }

    /// Down for the purposes of scope and severity (anything known but `online`).
    pub fn is_down(&self) -> bool {
        !matches!(self, ProcState::Online | ProcState::Unknown)
    }

    pub fn label(&self) -> &str {
        match self {
            ProcState::Online => "online",
            ProcState::Launching => "launching",
            ProcState::Stopping => "stopping",
            ProcState::Stopped => "stopped",
            ProcState::Errored => "errored",
            ProcState::WaitingRestart => "waiting restart",
            ProcState::Missing => "missing",
            ProcState::Unknown => "unknown",
            ProcState::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessScope {
    /// The process name (a glob that matched nothing keeps the glob).
    pub name: String,
    pub state: ProcState,
    /// Instances PM2 lists under this name (cluster mode has several).
    pub instances: usize,
    /// Highest restart count among the instances.
    pub restarts: u64,
    pub pm_ids: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentScope {
    pub id: String,
    pub app: String,
    pub app_name: String,
    pub environment: Environment,
    pub processes: Vec<ProcessScope>,
    pub health: Vec<HealthResult>,
}

impl DeploymentScope {
    pub fn down_processes(&self) -> impl Iterator<Item = &ProcessScope> {
        self.processes.iter().filter(|p| p.state.is_down())
    }

    pub fn failing_health(&self) -> impl Iterator<Item = &HealthResult> {
        self.health.iter().filter(|h| h.verdict.says_down())
    }

    /// Processes down or an endpoint saying the app is down.
    pub fn affected(&self) -> bool {
        self.down_processes().next().is_some() || self.failing_health().next().is_some()
    }

    /// Every process known and online and every endpoint healthy.
    pub fn fully_up(&self) -> bool {
        self.processes.iter().all(|p| p.state == ProcState::Online)
            && self.health.iter().all(|h| h.verdict.is_healthy())
    }

    /// Whether we hold any evidence about this deployment at all.
    pub fn has_evidence(&self) -> bool {
        self.processes.iter().any(|p| p.state != ProcState::Unknown)
            || self
                .health
                .iter()
                .any(|h| h.verdict.says_down() || h.verdict.is_healthy())
    }

    /// One line on why this deployment is affected, e.g.
    /// `flyer-crawler-api errored, flyer-crawler-worker missing; https://.../ready 502`.
    pub fn why(&self) -> String {
        let procs: Vec<String> = self
            .down_processes()
            .map(|p| format!("{} {}", p.name, p.state.label()))
            .collect();
        let health: Vec<String> = self
            .failing_health()
            .map(|h| format!("{} {}", h.target.url, h.verdict.label()))
            .collect();
        [procs.join(", "), health.join(", ")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    pub deployments: Vec<DeploymentScope>,
    /// Processes PM2 lists that the inventory does not know, with their state.
    pub unexpected: Vec<ProcessScope>,
    /// PM2 could be read (or is known to be down).
    pub pm2_known: bool,
    /// Why PM2 is down or unreadable, when it is.
    pub pm2_note: Option<String>,
    /// Whether the inventory describes this server at all.
    pub fit: InventoryFit,
}

impl Scope {
    pub fn deployment(&self, id: &str) -> Option<&DeploymentScope> {
        self.deployments.iter().find(|d| d.id == id)
    }

    pub fn affected(&self) -> impl Iterator<Item = &DeploymentScope> {
        self.deployments.iter().filter(|d| d.affected())
    }
}

/// Scope of `obs` against the inventory: each deployment's expected processes and
/// health verdicts, PM2's unexpected processes, and whether the inventory fits.
pub fn scope(inv: &Inventory, obs: &Observation) -> Scope {
    let (listed, pm2_known, pm2_note): (&[Process], bool, Option<String>) = match obs.pm2 {
        Pm2View::Listed(list) => (list, true, None),
        Pm2View::DaemonDown { reason } => (&[], true, Some(reason.to_string())),
        Pm2View::Unreadable { reason } => (&[], false, Some(reason.to_string())),
    };
    let mut listing = Listing::new(listed);
    let deployments = inv
        .deployment
        .iter()
        .map(|d| DeploymentScope {
            id: d.id.get_ref().clone(),
            app: d.app.get_ref().clone(),
            app_name: inv
                .app_name(d.app.get_ref())
                .unwrap_or_default()
                .to_string(),
            environment: d.environment,
            processes: expected_processes(inv, d, &mut listing, pm2_known),
            health: obs
                .health
                .iter()
                .filter(|h| h.target.deployment == *d.id.get_ref())
                .cloned()
                .collect(),
        })
        .collect();
    let live = matches!(obs.pm2, Pm2View::Listed(_)).then_some(listed);
    Scope {
        deployments,
        unexpected: listing.unclaimed(),
        pm2_known,
        pm2_note,
        fit: inventory_fit(inv, live, &[]),
    }
}

/// One deployment's expected processes: per inventory pattern, the names PM2 lists
/// for it, or the pattern itself as missing (unknown when PM2 could not be read).
fn expected_processes(
    inv: &Inventory,
    d: &Deployment,
    listing: &mut Listing<'_>,
    pm2_known: bool,
) -> Vec<ProcessScope> {
    let mut processes = Vec::new();
    for pattern in d.processes.get_ref() {
        let names = listing.claim(inv, d, pattern);
        if names.is_empty() {
            let state = if pm2_known {
                ProcState::Missing
            } else {
                ProcState::Unknown
            };
            processes.push(ProcessScope {
                name: pattern.clone(),
                state,
                instances: 0,
                restarts: 0,
                pm_ids: vec![],
            });
        }
        for name in names {
            processes.push(group(name, listing.instances(name)));
        }
    }
    processes
}

/// PM2's list while deployments claim its processes; what is left unclaimed is
/// unexpected.
struct Listing<'a> {
    listed: &'a [Process],
    /// The instances of each name, in list order: looked up, not searched (a dump may
    /// list thousands of processes).
    by_name: HashMap<&'a str, Vec<&'a Process>>,
    claimed: Vec<bool>,
}

impl<'a> Listing<'a> {
    fn new(listed: &'a [Process]) -> Self {
        let mut by_name: HashMap<&str, Vec<&Process>> = HashMap::new();
        for p in listed {
            by_name.entry(p.name.as_str()).or_default().push(p);
        }
        Listing {
            listed,
            by_name,
            claimed: vec![false; listed.len()],
        }
    }

    fn instances(&self, name: &str) -> impl Iterator<Item = &'a Process> + '_ {
        self.by_name.get(name).into_iter().flatten().copied()
    }

    /// The distinct names `pattern` of deployment `d` matches, in list order, marking
    /// their entries claimed. An exact name elsewhere in the inventory is not claimed
    /// by a glob.
    fn claim(&mut self, inv: &Inventory, d: &Deployment, pattern: &str) -> Vec<&'a str> {
        let mut names: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for (i, p) in self.listed.iter().enumerate() {
            let hit = if is_glob(pattern) {
                glob_match(pattern, &p.name)
            } else {
                p.name == *pattern
            };
            if hit
                && (!is_glob(pattern)
                    || inv.deployment_of(&p.name).map(|o| o.id.get_ref()) == Some(d.id.get_ref()))
            {
                self.claimed[i] = true;
                if seen.insert(p.name.as_str()) {
                    names.push(&p.name);
                }
            }
        }
        names
    }

    /// The names no deployment claimed, each grouped over its instances.
    fn unclaimed(&self) -> Vec<ProcessScope> {
        let mut unexpected: Vec<ProcessScope> = Vec::new();
        let mut seen = HashSet::new();
        for (i, p) in self.listed.iter().enumerate() {
            if !self.claimed[i] && seen.insert(p.name.as_str()) {
                unexpected.push(group(&p.name, self.instances(&p.name)));
            }
        }
        unexpected
    }
}

/// Merge the instances PM2 lists under one name (worst state wins).
fn group<'a>(name: &str, instances: impl Iterator<Item = &'a Process>) -> ProcessScope {
    let mut out = ProcessScope {
        name: name.to_string(),
        state: ProcState::Online,
        instances: 0,
        restarts: 0,
        pm_ids: vec![],
    };
    for p in instances {
        let s = ProcState::of(&p.status);
        if s.badness() > out.state.badness() {
            out.state = s;
        }
        out.instances += 1;
        out.restarts = out.restarts.max(p.restarts);
        out.pm_ids.push(p.pm_id);
    }
    out
}
