//! Drill scenarios as data: the TOML model, parsing and validation with `file:line:col`
//! errors. Unknown keys are refused; names are checked against the inventory when one is given.
use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

use super::state::FaultAction;
use crate::runbook::inventory::{glob_match, is_glob};
use crate::runbook::{Inventory, LoadError, Source};

/// The runbook's common-root-causes ids (a test keeps this in sync with the runbook).
pub const ROOT_CAUSES: &[&str] = &[
    "stop-all-in-workflow",
    "delete-all-in-workflow",
    "oom-killer",
    "disk-full",
    "manual-intervention",
    "concurrent-deployments",
    "workflow-caching",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedSeverity {
    P1,
    P2,
    P3,
}

impl ExpectedSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedSeverity::P1 => "P1",
            ExpectedSeverity::P2 => "P2",
            ExpectedSeverity::P3 => "P3",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: Spanned<String>,
    pub title: String,
    /// One line for lists.
    pub summary: String,
    /// What the trainee is told at the start (the page they got).
    pub briefing: String,
    /// Fixed by the file, or (absent) derived from what the faults take down on the
    /// inventory the drill runs on; always set after [`load`].
    #[serde(default)]
    pub expected_severity: Option<ExpectedSeverity>,
    /// Why that severity, per the decision tree (absent: derived with the severity).
    #[serde(default)]
    pub severity_note: String,
    pub expected_root_cause: Spanned<String>,
    #[serde(default)]
    pub hints: Vec<String>,
    #[serde(default)]
    pub initial: Initial,
    #[serde(default)]
    pub fault: Vec<FaultSpec>,
    #[serde(default)]
    pub clue: Vec<ClueSpec>,
    #[serde(default)]
    pub commit: Vec<CommitSpec>,
    #[serde(default)]
    pub workflow_runs: Vec<String>,
    /// `df -h` output (default: a healthy disk).
    #[serde(default)]
    pub df: Option<String>,
    /// `free -h` output (default: plenty of memory).
    #[serde(default)]
    pub free: Option<String>,
    /// Cluster instances per process name (default: the production API x2).
    #[serde(default)]
    pub cluster: Option<std::collections::BTreeMap<String, u32>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitialDaemon {
    #[default]
    Alive,
    /// Killed with SIGKILL before the drill: stale pid file and sockets, no processes.
    Killed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Initial {
    #[serde(default)]
    pub daemon: InitialDaemon,
    /// Processes PM2 runs at the start (default: every inventory process).
    #[serde(default)]
    pub processes: Option<Spanned<Vec<String>>>,
    /// How long the processes have been up.
    #[serde(default = "default_uptime_s")]
    pub uptime_s: i64,
    /// Whether `pm2 save` was run earlier (a dump file with the initial list exists).
    #[serde(default = "yes")]
    pub saved: bool,
    #[serde(default)]
    pub process: Vec<InitialProcess>,
}

impl Default for Initial {
    fn default() -> Self {
        Initial {
            daemon: InitialDaemon::Alive,
            processes: None,
            uptime_s: default_uptime_s(),
            saved: true,
            process: Vec::new(),
        }
    }
}

fn default_uptime_s() -> i64 {
    12 * 86_400
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitialStatus {
    Online,
    Stopped,
    Errored,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialProcess {
    pub name: Spanned<String>,
    #[serde(default = "online")]
    pub status: InitialStatus,
    #[serde(default)]
    pub restarts: u32,
    #[serde(default)]
    pub unstable_restarts: u32,
    #[serde(default)]
    pub exit_code: Option<i64>,
}

fn online() -> InitialStatus {
    InitialStatus::Online
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Seconds from the drill's start; negative: before the trainee arrived.
    pub at: i64,
    pub action: FaultAction,
    #[serde(default)]
    pub targets: Option<Spanned<Vec<String>>>,
    /// Crash loops: seconds per crash cycle.
    #[serde(default = "default_cycle")]
    pub cycle_s: f64,
    /// Crash loops: unstable restarts before PM2 gives up (`errored`).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// Crash loops: whether the app keeps crashing after the responder restarts it.
    #[serde(default)]
    pub persists: bool,
    #[serde(default = "default_exit")]
    pub exit_code: i64,
    /// Crash loops: the error the app logs at each crash.
    #[serde(default)]
    pub reason: String,
    /// Who did it, for the logs.
    #[serde(default)]
    pub actor: String,
}

fn default_cycle() -> f64 {
    2.0
}
fn default_limit() -> u32 {
    super::state::MAX_UNSTABLE_RESTARTS
}
fn default_exit() -> i64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClueSource {
    /// `$PM2_HOME/pm2.log`.
    Pm2,
    /// `journalctl -k`.
    Kernel,
    /// `journalctl -u UNIT` (needs `unit`).
    Unit,
    /// A process's out log (needs `process`).
    Out,
    /// A process's error log (needs `process`).
    Error,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClueSpec {
    pub source: Spanned<ClueSource>,
    /// Seconds from the drill's start (negative: before).
    pub at: i64,
    pub text: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub process: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitSpec {
    pub hash: Spanned<String>,
    pub at: i64,
    pub message: String,
    #[serde(default)]
    pub paths: Vec<String>,
    /// The inventory's app id (default: the primary production deployment's app).
    #[serde(default)]
    pub app: Option<String>,
}

impl FaultSpec {
    pub fn targets(&self) -> &[String] {
        self.targets
            .as_ref()
            .map(|t| t.get_ref().as_slice())
            .unwrap_or(&[])
    }
}

impl Scenario {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }
    pub fn root_cause(&self) -> &str {
        self.expected_root_cause.get_ref()
    }
    /// The severity the trainee should call (set by [`load`]; P1 if never resolved).
    pub fn expected(&self) -> ExpectedSeverity {
        self.expected_severity.unwrap_or(ExpectedSeverity::P1)
    }
}

/// Parse and check what can be checked without an inventory.
pub fn parse(src: Source) -> Result<Scenario, Vec<LoadError>> {
    let s: Scenario = toml::from_str(src.text).map_err(|e| vec![src.toml_error(&e)])?;
    let mut errs = Vec::new();
    let id = s.id.get_ref();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errs.push(src.error(
            s.id.span().start,
            format!("id `{id}` must be lowercase letters, digits and `-`"),
        ));
    }
    let rc = s.expected_root_cause.get_ref();
    if !ROOT_CAUSES.contains(&rc.as_str()) {
        errs.push(src.error(
            s.expected_root_cause.span().start,
            format!(
                "unknown root cause `{rc}`; expected one of {}",
                ROOT_CAUSES.join(", ")
            ),
        ));
    }
    for f in &s.fault {
        let span = f.targets.as_ref().map(|t| t.span().start).unwrap_or(0);
        let needs_targets = f.action != FaultAction::KillDaemon;
        if needs_targets && f.targets().is_empty() {
            errs.push(src.error(
                span,
                format!(
                    "fault at T{:+}s: `targets` is required for {:?}",
                    f.at, f.action
                ),
            ));
        }
        if !(0.5..=600.0).contains(&f.cycle_s) {
            errs.push(src.error(
                span,
                format!(
                    "fault at T{:+}s: cycle_s {} is outside 0.5..600",
                    f.at, f.cycle_s
                ),
            ));
        }
        if f.limit == 0 {
            errs.push(src.error(span, "limit must be at least 1"));
        }
    }
    for c in &s.clue {
        let at = c.source.span().start;
        match c.source.get_ref() {
            ClueSource::Unit if c.unit.is_none() => {
                errs.push(src.error(at, "a `unit` clue needs `unit = \"NAME\"`"))
            }
            ClueSource::Out | ClueSource::Error if c.process.is_none() => {
                errs.push(src.error(at, "a process log clue needs `process = \"NAME\"`"))
            }
            _ => {}
        }
    }
    for c in &s.commit {
        let h = c.hash.get_ref();
        if h.len() < 7 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
            errs.push(src.error(
                c.hash.span().start,
                format!("commit hash `{h}` must be at least 7 hex digits"),
            ));
        }
    }
    if errs.is_empty() {
        Ok(s)
    } else {
        Err(errs)
    }
}

/// Every process name the inventory makes concrete in a drill (`stock-alert-*` → `stock-alert-api`).
pub fn concrete_name(pattern: &str) -> String {
    pattern.replace('*', "api").replace('?', "x")
}

pub fn inventory_names(inv: &Inventory) -> Vec<String> {
    inv.deployment
        .iter()
        .flat_map(|d| d.processes.get_ref().iter().map(|p| concrete_name(p)))
        .collect()
}

/// Names in the scenario must be processes of the inventory (or `all` for fault targets).
pub fn check_against(src: Source, s: &Scenario, inv: &Inventory) -> Vec<LoadError> {
    let names = inventory_names(inv);
    let known = |n: &str| {
        names.iter().any(|k| k == n)
            || inv
                .process_patterns()
                .iter()
                .any(|p| is_glob(p) && glob_match(p, n))
    };
    let mut errs = Vec::new();
    let bad = |at: usize, n: &str, errs: &mut Vec<LoadError>| {
        errs.push(src.error(
            at,
            format!(
                "`{n}` is not a process of the inventory (known: {})",
                names.join(", ")
            ),
        ));
    };
    if let Some(p) = &s.initial.processes {
        for n in p.get_ref() {
            if !known(n) {
                bad(p.span().start, n, &mut errs);
            }
        }
    }
    for p in &s.initial.process {
        if !known(p.name.get_ref()) {
            bad(p.name.span().start, p.name.get_ref(), &mut errs);
        }
    }
    for f in &s.fault {
        for n in f.targets() {
            if n != "all" && !known(n) {
                bad(
                    f.targets.as_ref().map(|t| t.span().start).unwrap_or(0),
                    n,
                    &mut errs,
                );
            }
        }
    }
    for c in &s.clue {
        if let Some(p) = &c.process {
            if !known(p.get_ref()) {
                bad(p.span().start, p.get_ref(), &mut errs);
            }
        }
    }
    for n in s.cluster.iter().flat_map(|c| c.keys()) {
        if !known(n) {
            errs.push(src.error(
                0,
                format!("cluster: `{n}` is not a process of the inventory"),
            ));
        }
    }
    errs
}

/// Parse, resolve the roles on `inv`, then check names against it.
pub fn load(src: Source, inv: &Inventory) -> Result<Scenario, Vec<LoadError>> {
    load_on(src, inv, "the inventory")
}

/// [`load`], naming the inventory (`inv_name`, e.g. its file) in role errors.
pub fn load_on(src: Source, inv: &Inventory, inv_name: &str) -> Result<Scenario, Vec<LoadError>> {
    let s = parse(src)?;
    let s = super::resolve::resolve(src, s, inv, inv_name)?;
    let errs = check_against(src, &s, inv);
    if errs.is_empty() {
        Ok(s)
    } else {
        Err(errs)
    }
}
