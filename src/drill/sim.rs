//! The simulated PM2 world's dynamics (pure): building the initial state from a scenario,
//! `advance` (timed faults, `launching` → `online`, crash loops), and the process operations
//! the CLI shim performs. State is a function of scenario + commands + time: nothing here
//! reads a clock.
use super::scenario::{concrete_name, ClueSource, InitialDaemon, InitialStatus, Scenario};
use super::state::*;
use crate::runbook::Inventory;

const DAY_MS: i64 = 86_400_000;

/// The state at `start_ms`, with faults due by then already applied.
pub fn new_state(s: &Scenario, inv: &Inventory, home: &str, start_ms: i64) -> SimState {
    let deployments = site(s, inv);
    let uptime_ms = s.initial.uptime_s * 1000;
    let daemon_start = start_ms - uptime_ms - 60_000;
    let mut st = SimState {
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
    };
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
    daemon_banner(&mut st, daemon_start);
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
        let ids = launch(&mut st, dep, name, started);
        for id in ids {
            let Some(i) = st.procs.iter().position(|p| p.pm_id == id) else {
                continue;
            };
            step_proc(&mut st, i, started + LAUNCH_MS);
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
    if s.initial.saved {
        let mut names: Vec<String> = Vec::new();
        for p in &st.procs {
            if !names.contains(&p.name) {
                names.push(p.name.clone());
            }
        }
        st.dump = Some(names);
    }
    // Routine history so the logs are not empty.
    for p in st.procs.clone() {
        if p.status == SimStatus::Online && p.instance_no == 0 {
            for k in 1..=3 {
                let at = start_ms - k * 600_000;
                st.log(at, LogSource::Out(p.name.clone()), routine_line(&p.name, k));
            }
        }
    }
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
    st.faults = faults;
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
    st.commits = if s.commit.is_empty() {
        default_commits(start_ms)
    } else {
        s.commit
            .iter()
            .map(|c| Commit {
                hash: c.hash.get_ref().clone(),
                at_ms: start_ms + c.at * 1000,
                message: c.message.clone(),
                paths: c.paths.clone(),
                app: c.app.clone(),
            })
            .collect()
    };
    st.commits.sort_by_key(|c| std::cmp::Reverse(c.at_ms));
    advance(&mut st, start_ms);
    st
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
                        instances: s.cluster.get(&name).copied().unwrap_or(1).max(1),
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

fn daemon_banner(st: &mut SimState, at: i64) {
    let home = st.home.clone();
    for l in [
        "==============================================================================="
            .to_string(),
        "--- New PM2 Daemon started ----------------------------------------------------"
            .to_string(),
        format!("Time                 :{}", chrono_str(at)),
        format!("PM2 version          : {PM2_VERSION}"),
        format!("Node.js version      : {NODE_VERSION}"),
        "Current arch         : x64".to_string(),
        format!("PM2 home             : {home}"),
        format!("PM2 PID file         : {home}/pm2.pid"),
        format!("RPC socket file      : {home}/rpc.sock"),
        format!("BUS socket file      : {home}/pub.sock"),
        format!("Application log path : {home}/logs"),
        "Worker Interval      : 30000".to_string(),
        "Process dump file    : ".to_string() + &home + "/dump.pm2",
        "Concurrent actions   : 2".to_string(),
        "SIGTERM timeout      : 1600".to_string(),
        "Runtime Binary       : node".to_string(),
        "==============================================================================="
            .to_string(),
    ] {
        st.log(at, LogSource::Pm2, l);
    }
}

fn chrono_str(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc2822())
        .unwrap_or_default()
}

/// Apply every fault due by `now_ms` and every transition up to it. Time never runs backwards.
pub fn advance(st: &mut SimState, now_ms: i64) {
    let now = now_ms.max(st.now_ms);
    while let Some(f) = st.faults.get(st.faults_applied).cloned() {
        if f.at_ms > now {
            break;
        }
        step(st, f.at_ms.max(st.now_ms));
        apply_fault(st, &f);
        st.faults_applied += 1;
    }
    step(st, now);
    st.now_ms = now;
}

fn step(st: &mut SimState, t: i64) {
    for i in 0..st.procs.len() {
        step_proc(st, i, t);
    }
}

fn step_proc(st: &mut SimState, i: usize, t: i64) {
    if let (SimStatus::Launching, Some(at), None) = (
        st.procs[i].status,
        st.procs[i].online_at,
        &st.procs[i].crash,
    ) {
        if at <= t {
            let p = &mut st.procs[i];
            p.status = SimStatus::Online;
            p.online_at = None;
            let (name, id) = (p.name.clone(), p.pm_id);
            st.pm2_log(at, format!("App [{name}:{id}] online"));
            let line = match st.spec(&name) {
                Some((d, spec)) if d.processes.first().map(|f| &f.name) == Some(&spec.name) => {
                    let port = d
                        .local_url
                        .as_deref()
                        .and_then(|u| u.rsplit(':').next())
                        .and_then(|p| p.parse::<u16>().ok())
                        .unwrap_or(3000);
                    format!("listening on :{port} (ready)")
                }
                _ => format!("{name} ready: consuming queue"),
            };
            st.log(at, LogSource::Out(name), line);
        }
    }
    let Some(run) = st.procs[i].crash.clone() else {
        return;
    };
    let Some(b) = st.broken.get(&st.procs[i].name).cloned() else {
        st.procs[i].crash = None;
        return;
    };
    let mut done = run.done;
    loop {
        let end = run.since_ms + (done as i64 + 1) * b.cycle_ms;
        if end > t {
            break;
        }
        done += 1;
        crash_once(st, i, &b, end);
        if st.procs[i].status == SimStatus::Errored {
            st.procs[i].crash = None;
            return;
        }
    }
    let p = &mut st.procs[i];
    if let Some(c) = p.crash.as_mut() {
        c.done = done;
    }
    let phase = t - (run.since_ms + done as i64 * b.cycle_ms);
    p.online_at = None;
    p.status = if phase < 400 {
        SimStatus::Launching
    } else if phase < b.cycle_ms * 3 / 4 {
        SimStatus::Online
    } else {
        SimStatus::Errored
    };
}

fn crash_once(st: &mut SimState, i: usize, b: &Breakage, at: i64) {
    let (name, id, pid, script, mode) = {
        let p = &st.procs[i];
        (
            p.name.clone(),
            p.pm_id,
            p.pid,
            p.script.clone(),
            if p.is_cluster() { "cluster" } else { "fork" },
        )
    };
    match b.kind {
        BreakKind::Crash => {
            for l in b.reason.lines() {
                st.log(at, LogSource::Err(name.clone()), l.to_string());
            }
            st.pm2_log(
                at,
                format!(
                    "App [{name}:{id}] exited with code [{}] via signal [SIGINT]",
                    b.exit_code
                ),
            );
        }
        BreakKind::Oom => {
            let rss = 1_900_000 + (pid as i64 % 97) * 1000;
            st.log(at, LogSource::Kernel, "node invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0");
            st.log(at, LogSource::Kernel, format!("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/{}.service,task=node,pid={pid},uid=1001", st.pm2_service));
            st.log(at, LogSource::Kernel, format!("Out of memory: Killed process {pid} (node) total-vm:{}kB, anon-rss:{rss}kB, file-rss:0kB, shmem-rss:0kB, UID:1001 pgtables:5120kB oom_score_adj:0", rss + 1_100_000));
            for l in b.reason.lines() {
                st.log(at - 200, LogSource::Err(name.clone()), l.to_string());
            }
            st.pm2_log(
                at,
                format!("App [{name}:{id}] exited with code [0] via signal [SIGKILL]"),
            );
        }
    }
    let exit = if b.kind == BreakKind::Crash {
        Some(b.exit_code)
    } else {
        None
    };
    let p = &mut st.procs[i];
    p.restarts += 1;
    p.unstable_restarts += 1;
    p.exit_code = exit;
    if p.unstable_restarts >= b.limit {
        p.status = SimStatus::Errored;
        p.pid = 0;
        let n = p.unstable_restarts;
        st.pm2_log(
            at,
            format!("Script {script} had too many unstable restarts ({n}). Stopped. \"errored\""),
        );
    } else {
        let pid = st.take_pid();
        let p = &mut st.procs[i];
        p.pid = pid;
        p.uptime_ms = at;
        p.status = SimStatus::Launching;
        st.pm2_log(at, format!("App [{name}:{id}] starting in -{mode} mode-"));
        st.pm2_log(at + 400, format!("App [{name}:{id}] online"));
    }
}

fn apply_fault(st: &mut SimState, f: &Fault) {
    let t = f.at_ms;
    match f.action {
        FaultAction::Stop | FaultAction::Delete => {
            let ids: Vec<u32> = st
                .procs
                .iter()
                .filter(|p| f.targets.iter().any(|n| n == "all" || *n == p.name))
                .map(|p| p.pm_id)
                .collect();
            for id in ids {
                if f.action == FaultAction::Stop {
                    stop(st, id, t);
                } else {
                    delete(st, id, t);
                }
            }
        }
        FaultAction::CrashLoop | FaultAction::OomKill => {
            let Some(b) = f.breakage.clone() else { return };
            for name in &f.targets {
                st.broken.insert(name.clone(), b.clone());
                for p in st.procs.iter_mut().filter(|p| p.name == *name) {
                    if matches!(p.status, SimStatus::Online | SimStatus::Launching) {
                        p.crash = Some(CrashRun {
                            since_ms: t,
                            done: 0,
                        });
                    }
                }
            }
        }
        FaultAction::KillDaemon => kill_daemon_unclean(st, t),
    }
}

/// SIGKILL of the daemon: systemd's unit fails and kills what ran in its cgroup.
pub fn kill_daemon_unclean(st: &mut SimState, t: i64) {
    if !st.daemon_alive() {
        return;
    }
    let unit = st.pm2_service.clone();
    let u = LogSource::Unit(unit.clone());
    st.log(
        t,
        u.clone(),
        format!("{unit}.service: Main process exited, code=killed, status=9/KILL"),
    );
    let pids: Vec<u32> = st
        .procs
        .iter()
        .filter(|p| p.pid != 0)
        .map(|p| p.pid)
        .collect();
    for pid in pids {
        st.log(
            t,
            u.clone(),
            format!("{unit}.service: Killing process {pid} (node) with signal SIGKILL."),
        );
    }
    st.log(
        t,
        u.clone(),
        format!("{unit}.service: Failed with result 'signal'."),
    );
    st.procs.clear();
    st.next_id = 0;
    st.daemon.status = DaemonStatus::DeadUnclean;
    st.unit_active = false;
    st.unit_since_ms = t;
}

/// What the `pm2` CLI does when no daemon answers: start a new, empty one.
pub fn spawn_daemon(st: &mut SimState, t: i64) {
    let pid = st.take_pid();
    st.daemon = Daemon {
        status: DaemonStatus::Alive,
        pid,
        started_ms: t,
        version: PM2_VERSION.into(),
    };
    st.procs.clear();
    st.next_id = 0;
    daemon_banner(st, t);
}

/// Start an app from its spec: one process per instance, `launching` first.
pub fn launch(st: &mut SimState, deployment: &str, name: &str, t: i64) -> Vec<u32> {
    let Some(d) = st.deployment(deployment).cloned() else {
        return vec![];
    };
    let Some(spec) = d.processes.iter().find(|p| p.name == name).cloned() else {
        return vec![];
    };
    let mut ids = Vec::new();
    for k in 0..spec.instances {
        let id = st.next_id;
        st.next_id += 1;
        let pid = st.take_pid();
        let mode = if spec.instances > 1 {
            "cluster"
        } else {
            "fork"
        };
        st.pm2_log(t, format!("App [{name}:{id}] starting in -{mode} mode-"));
        st.procs.push(SimProc {
            pm_id: id,
            name: name.to_string(),
            deployment: deployment.to_string(),
            status: SimStatus::Launching,
            pid,
            restarts: 0,
            unstable_restarts: 0,
            uptime_ms: t,
            created_ms: t,
            instances: spec.instances,
            instance_no: k,
            script: spec.script.clone(),
            cwd: d.dir.clone(),
            mem_mb: spec.mem_mb,
            exit_code: None,
            online_at: Some(t + LAUNCH_MS),
            crash: None,
        });
        ids.push(id);
    }
    for id in &ids {
        begin_run(st, *id, t);
    }
    ids
}

/// A (re)start by the responder: a non-persistent breakage is cured, a persistent one crashes again.
fn begin_run(st: &mut SimState, id: u32, t: i64) {
    let Some(i) = st.procs.iter().position(|p| p.pm_id == id) else {
        return;
    };
    let name = st.procs[i].name.clone();
    match st.broken.get(&name) {
        Some(b) if b.persists => {
            st.procs[i].crash = Some(CrashRun {
                since_ms: t,
                done: 0,
            })
        }
        Some(_) if st.now_ms != i64::MIN => {
            st.broken.remove(&name);
            st.procs[i].crash = None;
        }
        _ => st.procs[i].crash = None,
    }
}

pub fn restart(st: &mut SimState, id: u32, t: i64) {
    let Some(i) = st.procs.iter().position(|p| p.pm_id == id) else {
        return;
    };
    if st.procs[i].pid != 0 {
        let (name, pid) = (st.procs[i].name.clone(), st.procs[i].pid);
        st.pm2_log(t, format!("Stopping app:{name} id:{id}"));
        st.pm2_log(
            t,
            format!("App [{name}:{id}] exited with code [0] via signal [SIGINT]"),
        );
        st.pm2_log(t, format!("pid={pid} msg=process killed"));
    }
    let pid = st.take_pid();
    let p = &mut st.procs[i];
    let mode = if p.is_cluster() { "cluster" } else { "fork" };
    p.restarts += 1;
    p.unstable_restarts = 0;
    p.pid = pid;
    p.status = SimStatus::Launching;
    p.online_at = Some(t + LAUNCH_MS);
    p.uptime_ms = t;
    let name = p.name.clone();
    st.pm2_log(t, format!("App [{name}:{id}] starting in -{mode} mode-"));
    begin_run(st, id, t);
}

pub fn stop(st: &mut SimState, id: u32, t: i64) {
    let Some(i) = st.procs.iter().position(|p| p.pm_id == id) else {
        return;
    };
    let (name, pid) = (st.procs[i].name.clone(), st.procs[i].pid);
    st.pm2_log(t, format!("Stopping app:{name} id:{id}"));
    if pid != 0 {
        st.pm2_log(
            t,
            format!("App [{name}:{id}] exited with code [0] via signal [SIGINT]"),
        );
        st.pm2_log(t, format!("pid={pid} msg=process killed"));
    }
    let p = &mut st.procs[i];
    p.status = SimStatus::Stopped;
    p.pid = 0;
    p.online_at = None;
    p.crash = None;
}

pub fn delete(st: &mut SimState, id: u32, t: i64) {
    stop(st, id, t);
    st.procs.retain(|p| p.pm_id != id);
    // PM2 reuses ids from 0 once it manages nothing.
    if st.procs.is_empty() {
        st.next_id = 0;
    }
}

/// `pm2 kill`: every app stopped, the daemon exits and cleans up its files.
pub fn kill_daemon_clean(st: &mut SimState, t: i64) {
    let ids: Vec<u32> = st.procs.iter().map(|p| p.pm_id).collect();
    for id in ids {
        stop(st, id, t);
    }
    st.procs.clear();
    st.next_id = 0;
    st.pm2_log(t, "PM2 successfully stopped");
    st.daemon.status = DaemonStatus::Killed;
}

/// Current memory of a process in bytes (0 when not running).
pub fn memory_bytes(p: &SimProc) -> u64 {
    match p.status {
        SimStatus::Online => ((p.mem_mb + (p.pid % 13) as f64 * 0.7) * 1024.0 * 1024.0) as u64,
        SimStatus::Launching => 31 * 1024 * 1024,
        _ => 0,
    }
}

pub fn cpu_percent(p: &SimProc) -> f64 {
    match p.status {
        SimStatus::Online => ((p.pid % 5) as f64) * 0.3,
        SimStatus::Launching => 12.0,
        _ => 0.0,
    }
}

fn default_commits(start: i64) -> Vec<Commit> {
    let c = |hash: &str, ago_days: i64, message: &str, paths: &[&str]| Commit {
        hash: hash.into(),
        at_ms: start - ago_days * DAY_MS,
        message: message.into(),
        paths: paths.iter().map(|s| s.to_string()).collect(),
        app: "flyer-crawler".into(),
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
