//! Building the initial simulated state from a scenario and the drill inventory (pure):
//! the site, the processes as they ran before the drill, clues as log lines, faults as
//! absolute times, then `advance` to the drill's start.
use super::scenario::{concrete_name, ClueSource, InitialDaemon, InitialStatus, Scenario};
use super::sim::{advance, daemon_banner, launch, step_proc};
use super::state::*;
use crate::runbook::Inventory;

const DAY_MS: i64 = 86_400_000;
/// The state at `start_ms`, with faults due by then already applied.
pub fn new_state(s: &Scenario, inv: &Inventory, home: &str, start_ms: i64) -> SimState {
    let mut st = fresh_state(s, inv, home, start_ms);
    unit_started(&mut st);
    launch_initial(&mut st, s, start_ms);
    if s.initial.saved {
        let mut names: Vec<String> = Vec::new();
        for p in &st.procs {
            if !names.contains(&p.name) {
                names.push(p.name.clone());
            }
        }
        st.dump = Some(names);
    }
    routine_logs(&mut st, start_ms);
    st.faults = faults(s, start_ms);
    clue_logs(&mut st, s, start_ms);
    st.commits = commits(s, inv, start_ms);
    advance(&mut st, start_ms);
    st
}

/// The site and a daemon that has run for the scenario's uptime; no processes yet.
fn fresh_state(s: &Scenario, inv: &Inventory, home: &str, start_ms: i64) -> SimState {
    let deployments = site(s, inv);
    let uptime_ms = s.initial.uptime_s * 1000;
    let daemon_start = start_ms - uptime_ms - 60_000;
    SimState {
        scenario: s.id().to_string(),
        start_ms,
        now_ms: i64::MIN,
        home: home.to_string(),
        host: inv.site.split('.').next().unwrap_or("server").to_string(),
        user: inv
            .ssh_target
            .split('@')
            .next()
            .unwrap_or("deploy")
            .to_string(),
        pm2_service: inv.pm2_service.clone(),
        deployments,
        daemon: Daemon {
            status: DaemonStatus::Alive,
            pid: 1187,
            started_ms: daemon_start,
            version: PM2_VERSION.into(),
        },
        unit_active: true,
        unit_since_ms: daemon_start,
        procs: Vec::new(),
        next_id: 0,
        next_pid: 41_203,
        dump: None,
        broken: Default::default(),
        faults: Vec::new(),
        faults_applied: 0,
        logs: Vec::new(),
        df: s.df.clone().unwrap_or_else(|| DEFAULT_DF.to_string()),
        free: s.free.clone().unwrap_or_else(|| DEFAULT_FREE.to_string()),
        commits: Vec::new(),
        workflow_runs: s.workflow_runs.clone(),
    }
}

/// The PM2 unit's start in the journal and the daemon's banner in pm2.log.
fn unit_started(st: &mut SimState) {
    let daemon_start = st.daemon.started_ms;
    let unit = st.pm2_service.clone();
    st.log(
        daemon_start - 2_000,
        LogSource::Unit(unit.clone()),
        format!("Starting {unit}.service - PM2 process manager..."),
    );
    st.log(
        daemon_start,
        LogSource::Unit(unit.clone()),
        format!("Started {unit}.service - PM2 process manager."),
    );
    daemon_banner(st, daemon_start);
}

/// The processes as they ran before the drill (inventory order), with the scenario's
/// per-process restarts and states.
fn launch_initial(st: &mut SimState, s: &Scenario, start_ms: i64) {
    let uptime_ms = s.initial.uptime_s * 1000;
    // Initial processes, in inventory order.
    let wanted: Vec<String> = match &s.initial.processes {
        Some(p) => p.get_ref().clone(),
        None => st
            .deployments
            .iter()
            .flat_map(|d| d.processes.iter().map(|p| p.name.clone()))
            .collect(),
    };
    let order: Vec<(String, String)> = st
        .deployments
        .iter()
        .flat_map(|d| {
            d.processes
                .iter()
                .map(move |p| (d.id.clone(), p.name.clone()))
        })
        .filter(|(_, n)| wanted.contains(n))
        .collect();
    let started = start_ms - uptime_ms;
    for (dep, name) in &order {
        let ids = launch(st, dep, name, started);
        for id in ids {
            let Some(i) = st.procs.iter().position(|p| p.pm_id == id) else {
                continue;
            };
            step_proc(st, i, started + LAUNCH_MS);
            if let Some(o) = s.initial.process.iter().find(|o| o.name.get_ref() == name) {
                let p = &mut st.procs[i];
                p.restarts = o.restarts;
                p.unstable_restarts = o.unstable_restarts;
                p.exit_code = o.exit_code.or(p.exit_code);
                match o.status {
                    InitialStatus::Online => {}
                    InitialStatus::Stopped | InitialStatus::Errored => {
                        p.status = if o.status == InitialStatus::Stopped {
                            SimStatus::Stopped
                        } else {
                            SimStatus::Errored
                        };
                        p.pid = 0;
                        p.online_at = None;
                    }
                }
                if o.restarts > 0 && o.status == InitialStatus::Online {
                    p.uptime_ms = start_ms - 3_600_000;
                }
            }
        }
    }
}

/// Routine history so the logs are not empty.
fn routine_logs(st: &mut SimState, start_ms: i64) {
    for p in st.procs.clone() {
        if p.status == SimStatus::Online && p.instance_no == 0 {
            for k in 1..=3 {
                let at = start_ms - k * 600_000;
                st.log(at, LogSource::Out(p.name.clone()), routine_line(&p.name, k));
            }
        }
    }
}

/// The scenario's faults at absolute times (a killed daemon two minutes before the start).
fn faults(s: &Scenario, start_ms: i64) -> Vec<Fault> {
    let mut faults: Vec<Fault> = s
        .fault
        .iter()
        .map(|f| Fault {
            at_ms: start_ms + f.at * 1000,
            action: f.action,
            targets: f.targets().to_vec(),
            breakage: match f.action {
                FaultAction::CrashLoop | FaultAction::OomKill => Some(Breakage {
                    kind: if f.action == FaultAction::OomKill {
                        BreakKind::Oom
                    } else {
                        BreakKind::Crash
                    },
                    cycle_ms: (f.cycle_s * 1000.0) as i64,
                    limit: f.limit,
                    persists: f.persists,
                    exit_code: f.exit_code,
                    reason: f.reason.clone(),
                }),
                _ => None,
            },
            actor: f.actor.clone(),
        })
        .collect();
    if s.initial.daemon == InitialDaemon::Killed {
        faults.push(Fault {
            at_ms: start_ms - 120_000,
            action: FaultAction::KillDaemon,
            targets: vec![],
            breakage: None,
            actor: String::new(),
        });
    }
    faults.sort_by_key(|f| f.at_ms);
    faults
}

/// The scenario's clues as log lines in their sources.
fn clue_logs(st: &mut SimState, s: &Scenario, start_ms: i64) {
    for c in &s.clue {
        let source = match c.source.get_ref() {
            ClueSource::Pm2 => LogSource::Pm2,
            ClueSource::Kernel => LogSource::Kernel,
            ClueSource::Unit => LogSource::Unit(c.unit.clone().unwrap_or_default()),
            ClueSource::Out => LogSource::Out(
                c.process
                    .as_ref()
                    .map(|p| p.get_ref().clone())
                    .unwrap_or_default(),
            ),
            ClueSource::Error => LogSource::Err(
                c.process
                    .as_ref()
                    .map(|p| p.get_ref().clone())
                    .unwrap_or_default(),
            ),
        };
        st.log(start_ms + c.at * 1000, source, c.text.clone());
    }
}

/// The git history the drill shows (the scenario's, or a default one), newest first.
fn commits(s: &Scenario, inv: &Inventory, start_ms: i64) -> Vec<Commit> {
    let primary_app = crate::runbook::roles::primary(inv)
        .map(|d| d.app.get_ref().clone())
        .unwrap_or_default();
    let mut commits = if s.commit.is_empty() {
        default_commits(start_ms, &primary_app)
    } else {
        s.commit
            .iter()
            .map(|c| Commit {
                hash: c.hash.get_ref().clone(),
                at_ms: start_ms + c.at * 1000,
                message: c.message.clone(),
                paths: c.paths.clone(),
                app: c.app.clone().unwrap_or_else(|| primary_app.clone()),
            })
            .collect()
    };
    commits.sort_by_key(|c| std::cmp::Reverse(c.at_ms));
    commits
}

fn site(s: &Scenario, inv: &Inventory) -> Vec<SiteDeployment> {
    inv.deployment
        .iter()
        .map(|d| {
            let processes = d
                .processes
                .get_ref()
                .iter()
                .enumerate()
                .map(|(i, pat)| {
                    let name = concrete_name(pat);
                    let script = if i == 0 {
                        format!("{}/dist/server.js", d.dir)
                    } else {
                        let short = name
                            .strip_prefix(&format!("{}-", d.app.get_ref()))
                            .unwrap_or(&name);
                        format!("{}/dist/{}.js", d.dir, short.trim_end_matches("-test"))
                    };
                    let mem_mb = if i == 0 {
                        96.4
                    } else if name.contains("analytics") {
                        84.2
                    } else {
                        127.9
                    };
                    ProcSpec {
                        instances: s
                            .cluster
                            .as_ref()
                            .and_then(|c| c.get(&name))
                            .copied()
                            .unwrap_or(1)
                            .max(1),
                        name,
                        script,
                        mem_mb,
                    }
                })
                .collect();
            SiteDeployment {
                id: d.id.get_ref().clone(),
                app: d.app.get_ref().clone(),
                environment: d.environment,
                dir: d.dir.clone(),
                config: d.config.clone(),
                processes,
                public_url: d.public_url.clone(),
                local_url: d.local_url.clone(),
                ready_path: d.ready_path.clone(),
                ping_path: d.ping_path.clone(),
            }
        })
        .collect()
}

fn routine_line(name: &str, k: i64) -> String {
    if name.contains("api") {
        format!("GET /api/health/ready 200 {}ms", 3 + k)
    } else {
        format!("job batch {} done: {} items", 9004 - k, 40 + 7 * k)
    }
}

fn default_commits(start: i64, app: &str) -> Vec<Commit> {
    let c = |hash: &str, ago_days: i64, message: &str, paths: &[&str]| Commit {
        hash: hash.into(),
        at_ms: start - ago_days * DAY_MS,
        message: message.into(),
        paths: paths.iter().map(|s| s.to_string()).collect(),
        app: app.to_string(),
    };
    vec![
        c(
            "4e1d9a2",
            1,
            "fix(scraper): handle empty flyer pages",
            &["src/scraper/parse.ts"],
        ),
        c(
            "b7c03f1",
            3,
            "chore(deps): bump pg to 8.13.1",
            &["package.json", "package-lock.json"],
        ),
        c(
            "19fe6d0",
            6,
            "feat(api): add /api/health/ping",
            &["src/routes/health.ts"],
        ),
        c(
            "a2284bc",
            9,
            "ci: deploy-to-test waits for health check",
            &[".gitea/workflows/deploy-to-test.yml"],
        ),
        c(
            "73d5e88",
            14,
            "feat(worker): analytics rollups",
            &["src/workers/analytics.ts"],
        ),
    ]
}

pub const DEFAULT_DF: &str = "Filesystem      Size  Used Avail Use% Mounted on
udev            3.9G     0  3.9G   0% /dev
tmpfs           794M  1.2M  793M   1% /run
/dev/sda1        78G   41G   34G  55% /
tmpfs           3.9G     0  3.9G   0% /dev/shm
/dev/sda15      105M  6.1M   99M   6% /boot/efi
tmpfs           794M  4.0K  794M   1% /run/user/1001
";

pub const DEFAULT_FREE: &str =
    "               total        used        free      shared  buff/cache   available
Mem:           7.8Gi       3.1Gi       1.2Gi        45Mi       3.5Gi       4.4Gi
Swap:          2.0Gi       0.0Ki       2.0Gi
";
