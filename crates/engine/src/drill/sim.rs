//! The simulated PM2 world's dynamics (pure): `advance` (timed faults, `launching` →
//! `online`, crash loops) and the process operations the CLI shim performs. State is a
//! function of scenario + commands + time: nothing here reads a clock.
use super::state::*;

pub use super::build::new_state;
pub(crate) fn daemon_banner(st: &mut SimState, at: i64) {
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

pub(crate) fn step_proc(st: &mut SimState, i: usize, t: i64) {
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
