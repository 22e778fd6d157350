//! PM2-shaped output of the simulated state: the `pm2 list` table, the `jlist` JSON array,
//! and the `describe` box. Pure functions of the state.
use serde_json::{json, Value};

use super::sim::{cpu_percent, memory_bytes};
use super::state::{SimProc, SimState, SimStatus, NODE_VERSION};

/// PM2's `timeSince`: `0s`, `42s`, `7m`, `3h`, `12D`.
pub fn since(from_ms: i64, now_ms: i64) -> String {
    let s = ((now_ms - from_ms) / 1000).max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}D", s / 86_400)
    }
}

pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b < 1024.0 {
        format!("{b}b")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1}kb", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1}mb", b / 1024.0 / 1024.0)
    } else {
        format!("{:.1}gb", b / 1024.0 / 1024.0 / 1024.0)
    }
}

/// A box table like PM2's (cli-tableau): one space of padding each side.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map(|c| c.chars().count()).unwrap_or(0))
                .chain(std::iter::once(header[i].chars().count()))
                .max()
                .unwrap_or(0)
                + 2
        })
        .collect();
    let rule = |l: &str, m: &str, r: &str| {
        let segs: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
        format!("{l}{}{r}\n", segs.join(m))
    };
    let line = |cells: Vec<&str>| {
        let segs: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!(" {c}{}", " ".repeat(w - 1 - c.chars().count())))
            .collect();
        format!("│{}│\n", segs.join("│"))
    };
    let mut out = rule("┌", "┬", "┐");
    out += &line(header.to_vec());
    if !rows.is_empty() {
        out += &rule("├", "┼", "┤");
        for r in rows {
            out += &line(r.iter().map(String::as_str).collect());
        }
    }
    out += &rule("└", "┴", "┘");
    out
}

/// `pm2 list`.
pub fn list(st: &SimState) -> String {
    let header = [
        "id",
        "name",
        "namespace",
        "version",
        "mode",
        "pid",
        "uptime",
        "↺",
        "status",
        "cpu",
        "mem",
        "user",
        "watching",
    ];
    let mut procs: Vec<&SimProc> = st.procs.iter().collect();
    procs.sort_by_key(|p| p.pm_id);
    let rows: Vec<Vec<String>> = procs
        .iter()
        .map(|p| {
            let running = p.pid != 0;
            vec![
                p.pm_id.to_string(),
                p.name.clone(),
                "default".into(),
                "1.4.2".into(),
                if p.is_cluster() { "cluster" } else { "fork" }.into(),
                p.pid.to_string(),
                if running {
                    since(p.uptime_ms, st.now_ms)
                } else {
                    "0".into()
                },
                p.restarts.to_string(),
                p.status.as_str().into(),
                format!("{}%", cpu_percent(p)),
                human_bytes(memory_bytes(p)),
                st.user.clone(),
                "disabled".into(),
            ]
        })
        .collect();
    table(&header, &rows)
}

fn log_path(st: &SimState, name: &str, kind: &str) -> String {
    format!("{}/logs/{name}-{kind}.log", st.home)
}

/// One entry shaped like the real `pm2 jlist` (allow-listed readers see what they expect).
pub fn jlist_entry(st: &SimState, p: &SimProc) -> Value {
    let mut env = json!({
        "name": p.name,
        "namespace": "default",
        "pm_id": p.pm_id,
        "status": p.status.as_str(),
        "restart_time": p.restarts,
        "unstable_restarts": p.unstable_restarts,
        "pm_uptime": p.uptime_ms,
        "created_at": p.created_ms,
        "exec_mode": if p.is_cluster() { "cluster_mode" } else { "fork_mode" },
        "instances": p.instances,
        "version": "1.4.2",
        "node_version": NODE_VERSION,
        "pm_cwd": p.cwd,
        "cwd": p.cwd,
        "pm_exec_path": p.script,
        "pm_out_log_path": log_path(st, &p.name, "out"),
        "pm_err_log_path": log_path(st, &p.name, "error"),
        "pm_pid_path": format!("{}/pids/{}-{}.pid", st.home, p.name, p.pm_id),
        "exec_interpreter": "node",
        "autorestart": true,
        "max_restarts": 15,
        "min_uptime": 1000,
        "kill_timeout": 1600,
        "watch": false,
        "vizion": true,
        "merge_logs": true,
        "instance_var": "NODE_APP_INSTANCE",
        "username": st.user,
        "unique_id": format!("5f0c{:04x}-{:04x}-4d1e-9a7b-{:012x}", p.pm_id, p.instance_no, p.created_ms.max(0) as u64 & 0xffff_ffff_ffff),
        "node_args": [],
        "args": [],
        "axm_monitor": {
            "Used Heap Size": {"value": "41.20", "type": "v8/heap/used", "unit": "MiB", "historic": true},
            "Event Loop Latency": {"value": "0.31", "type": "internal/libuv/latency/p50", "unit": "ms", "historic": true}
        },
        "axm_options": {},
        "axm_actions": [],
        "km_link": false,
        "env": {"NODE_ENV": "production", "NODE_APP_INSTANCE": p.instance_no}
    });
    if let (Some(code), Some(obj)) = (p.exit_code, env.as_object_mut()) {
        obj.insert("exit_code".into(), json!(code));
    }
    json!({
        "pid": p.pid,
        "name": p.name,
        "pm2_env": env,
        "pm_id": p.pm_id,
        "monit": {"memory": memory_bytes(p), "cpu": cpu_percent(p)}
    })
}

pub fn jlist(st: &SimState) -> Value {
    let mut procs: Vec<&SimProc> = st.procs.iter().collect();
    procs.sort_by_key(|p| p.pm_id);
    Value::Array(procs.iter().map(|p| jlist_entry(st, p)).collect())
}

/// `pm2 describe NAME` for one process.
pub fn describe(st: &SimState, p: &SimProc) -> String {
    let created = chrono::DateTime::from_timestamp_millis(p.created_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let rows: Vec<Vec<String>> = [
        ("status", p.status.as_str().to_string()),
        ("name", p.name.clone()),
        ("namespace", "default".into()),
        ("version", "1.4.2".into()),
        ("restarts", p.restarts.to_string()),
        (
            "uptime",
            if p.pid != 0 {
                since(p.uptime_ms, st.now_ms)
            } else {
                "0".into()
            },
        ),
        ("script path", p.script.clone()),
        ("script args", "N/A".into()),
        ("error log path", log_path(st, &p.name, "error")),
        ("out log path", log_path(st, &p.name, "out")),
        (
            "pid path",
            format!("{}/pids/{}-{}.pid", st.home, p.name, p.pm_id),
        ),
        ("interpreter", "node".into()),
        ("interpreter args", "N/A".into()),
        ("script id", p.pm_id.to_string()),
        ("exec cwd", p.cwd.clone()),
        (
            "exec mode",
            if p.is_cluster() {
                "cluster_mode"
            } else {
                "fork_mode"
            }
            .into(),
        ),
        ("node.js version", NODE_VERSION.into()),
        ("node env", "production".into()),
        ("watch & reload", "✘".into()),
        ("unstable restarts", p.unstable_restarts.to_string()),
        ("created at", created),
    ]
    .into_iter()
    .map(|(k, v)| vec![k.to_string(), v])
    .collect();
    // The describe box has no header row.
    let t = table(&["", ""], &rows);
    let mut lines: Vec<&str> = t.lines().collect();
    if lines.len() > 3 {
        lines.drain(1..3);
    }
    let mut out = format!(
        " Describing process with id {} - name {} \n",
        p.pm_id, p.name
    );
    for l in lines {
        out += l;
        out.push('\n');
    }
    if p.status != SimStatus::Online {
        out += &format!(" Add your own code metrics: http://bit.ly/code-metrics\n Use `pm2 logs {} [--lines 1000]` to display logs\n", p.name);
    }
    out
}
