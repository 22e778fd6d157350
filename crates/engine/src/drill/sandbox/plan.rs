//! What a scenario means on a real PM2 (pure): each process's PM2 settings (cluster
//! instances, the crash-loop limits), the faults to inject before the drill starts and
//! those due during it, and the program a stand-in reads from its crash flag.
//!
//! Time on a real PM2 cannot be fast-forwarded, so a fault that began before the drill is
//! replayed quickly: a crash loop's crashes that fell before the start happen at once (the
//! stand-in exits immediately while PM2's unstable-restart count is below `fast`), the rest
//! at the scenario's cadence. A fault due during the drill waits for its time.
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::super::scenario::{InitialDaemon, Scenario};
use super::super::state::FaultAction;

/// Added to a crash loop's cycle for `min_uptime`: every crash of the loop must count as
/// unstable, and PM2 counts only within `min_uptime × max_restarts` of the process's
/// creation, so the margin also covers the sandbox's own start-up before the loop begins
/// (and, for a loop due during the drill, its time).
const MIN_UPTIME_MARGIN_MS: u64 = 60_000;

/// PM2 settings of one stand-in in the ecosystem file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcSettings {
    /// Cluster instances (1: fork mode).
    pub instances: u32,
    pub min_uptime_ms: u64,
    pub max_restarts: u32,
}

impl Default for ProcSettings {
    fn default() -> Self {
        ProcSettings {
            instances: 1,
            min_uptime_ms: 2000,
            max_restarts: 15,
        }
    }
}

/// How a looping stand-in dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Death {
    /// Exits with the code (a crash).
    Exit,
    /// SIGKILLs itself, as the kernel's OOM killer would.
    Sigkill,
}

/// The crash flag's contents (JSON), read by the stand-in at each start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrashProgram {
    /// Which fault (index in the scenario): each has its own per-instance bookkeeping.
    pub fault: usize,
    pub death: Death,
    pub exit_code: i64,
    /// Logged to stderr at each crash.
    pub reason: String,
    /// PM2 gives up after this many unstable restarts.
    pub limit: u32,
    /// Keeps crashing after the responder restarts it.
    pub persists: bool,
    /// While PM2's unstable-restart count is below this, crash at once (the crashes that
    /// fell before the drill's start).
    pub fast: u32,
    /// Life of one crashing run at the scenario's cadence (PM2 restarts it at once; the
    /// stand-in's own start-up adds to it).
    pub run_ms: u64,
}

/// One fault to inject, with concrete process names.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Delete(Vec<String>),
    Stop(Vec<String>),
    Loop {
        targets: Vec<String>,
        program: CrashProgram,
    },
    KillDaemon,
}

/// A fault due during the drill, `at_ms` after its start.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub at_ms: u64,
    pub step: Step,
}

/// The scenario on a real PM2.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Per process name (absent: the defaults).
    pub settings: BTreeMap<String, ProcSettings>,
    /// Processes started at the beginning (the scenario's `initial.processes`, else all).
    pub initially: Vec<String>,
    /// Whether `pm2 save` ran before the incident.
    pub saved: bool,
    /// In time order, before the drill starts.
    pub before: Vec<Step>,
    /// In time order, during the drill.
    pub during: Vec<Timed>,
}

impl Plan {
    pub fn settings_of(&self, name: &str) -> ProcSettings {
        self.settings.get(name).cloned().unwrap_or_default()
    }
}

/// The plan for scenario `s` on processes `names` (the sandbox inventory's, concrete).
pub fn plan(s: &Scenario, names: &[String]) -> Plan {
    let mut p = Plan {
        initially: match &s.initial.processes {
            Some(l) => names
                .iter()
                .filter(|n| l.get_ref().contains(n))
                .cloned()
                .collect(),
            None => names.to_vec(),
        },
        saved: s.initial.saved,
        ..Plan::default()
    };
    for (name, n) in s.cluster.iter().flatten() {
        if names.contains(name) {
            p.settings.entry(name.clone()).or_default().instances = (*n).max(1);
        }
    }
    let mut faults: Vec<(usize, &super::super::scenario::FaultSpec)> =
        s.fault.iter().enumerate().collect();
    faults.sort_by_key(|(_, f)| f.at);
    for (i, f) in faults {
        let targets: Vec<String> = if f.targets().iter().any(|t| t == "all") {
            // Each process by name: this tool never sends `all` to a PM2, even a sandbox's.
            names.to_vec()
        } else {
            f.targets().to_vec()
        };
        let cycle_ms = (f.cycle_s * 1000.0).round().max(1.0) as u64;
        let step = match f.action {
            FaultAction::Delete => Step::Delete(targets),
            FaultAction::Stop => Step::Stop(targets),
            FaultAction::KillDaemon => Step::KillDaemon,
            FaultAction::CrashLoop | FaultAction::OomKill => {
                let margin = MIN_UPTIME_MARGIN_MS + (f.at.max(0) as u64).saturating_mul(1000);
                for t in &targets {
                    let st = p.settings.entry(t.clone()).or_default();
                    st.min_uptime_ms = st.min_uptime_ms.max(cycle_ms + margin);
                    st.max_restarts = f.limit;
                }
                // Crashes that happened before the start (all of them once PM2 gave up).
                let before = if f.at < 0 {
                    ((-f.at) as f64 / f.cycle_s).floor() as u64
                } else {
                    0
                };
                Step::Loop {
                    targets,
                    program: CrashProgram {
                        fault: i,
                        death: if f.action == FaultAction::OomKill {
                            Death::Sigkill
                        } else {
                            Death::Exit
                        },
                        exit_code: f.exit_code,
                        reason: if f.reason.is_empty() {
                            "crash".into()
                        } else {
                            f.reason.clone()
                        },
                        limit: f.limit,
                        persists: f.persists,
                        fast: before.min(u64::from(f.limit)) as u32,
                        run_ms: cycle_ms,
                    },
                }
            }
        };
        if f.at < 0 {
            p.before.push(step);
        } else {
            p.during.push(Timed {
                at_ms: (f.at as u64).saturating_mul(1000),
                step,
            });
        }
    }
    // The daemon dies last (once): the other faults of the past happened while it ran.
    let kill = s.initial.daemon == InitialDaemon::Killed || p.before.contains(&Step::KillDaemon);
    p.before.retain(|s| *s != Step::KillDaemon);
    if kill {
        p.before.push(Step::KillDaemon);
    }
    p
}

impl CrashProgram {
    /// Whether PM2 has given up on this loop by the drill's start.
    pub fn errored_by_start(&self) -> bool {
        self.fast >= self.limit
    }
}

impl fmt::Display for Step {
    /// What was injected, for the responder's briefing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Delete(t) => write!(f, "`pm2 delete` of {}", t.join(", ")),
            Step::Stop(t) => write!(f, "`pm2 stop` of {}", t.join(", ")),
            Step::KillDaemon => write!(f, "`kill -9` of the PM2 daemon"),
            Step::Loop { targets, program } => {
                let what = match program.death {
                    Death::Exit => format!("a crash loop (exit code {})", program.exit_code),
                    Death::Sigkill => "an OOM-style SIGKILL at every start".to_string(),
                };
                let cadence = program.run_ms as f64 / 1000.0;
                write!(
                    f,
                    "{what} in {}: one crash every {cadence} s, PM2 gives up after {} unstable restarts{}",
                    targets.join(", "),
                    program.limit,
                    if program.persists {
                        "; a restart does not cure it"
                    } else {
                        ""
                    }
                )
            }
        }
    }
}

/// The briefing's account of the faults: the ones injected, and how many are still to come
/// (not which: the drill keeps its surprises).
pub fn describe(p: &Plan) -> Vec<String> {
    let mut out: Vec<String> = p.before.iter().map(|s| s.to_string()).collect();
    if !p.during.is_empty() {
        out.push(format!(
            "{} more fault(s) will be injected during the drill",
            p.during.len()
        ));
    }
    out
}
