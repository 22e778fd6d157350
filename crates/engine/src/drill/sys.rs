//! The rest of the server (pure): `systemctl status`, `journalctl`, `df`, `free` and
//! `git log`, printing the scenario's clues in the formats those tools use.
use std::path::Path;

use super::state::{LogSource, SimState};
use super::Output;

fn syslog_ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%b %d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn ago(from: i64, now: i64) -> String {
    let s = ((now - from) / 1000).max(0);
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}min ago", s / 60),
        3600..=86_399 => format!("{}h {}min ago", s / 3600, s % 3600 / 60),
        _ => format!("{} days ago", s / 86_400),
    }
}

fn unit_name(arg: &str) -> String {
    arg.trim_end_matches(".service").to_string()
}

pub fn systemctl(st: &SimState, args: &[String]) -> Output {
    let pos: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    match pos.first().copied() {
        Some("status") => {}
        Some("is-active") => {
            let on = pos.get(1).is_some_and(|u| unit_name(u) == st.pm2_service) && st.unit_active;
            return Output { stdout: if on { "active\n".into() } else { "failed\n".into() }, stderr: String::new(), code: if on { 0 } else { 3 }, file: None };
        }
        Some(other) => return Output::err(format!("Failed to {other} unit: Access denied (drill: only `systemctl status` is simulated)\n"), 1),
        None => return Output::err("drill: only `systemctl status UNIT` is simulated\n".into(), 1),
    }
    let Some(unit) = pos.get(1).map(|u| unit_name(u)) else {
        return Output::err("drill: give a unit: systemctl status UNIT\n".into(), 1);
    };
    if unit != st.pm2_service {
        return Output::err(format!("Unit {unit}.service could not be found.\n"), 4);
    }
    let since = chrono::DateTime::from_timestamp_millis(st.unit_since_ms)
        .map(|t| t.format("%a %Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let mut out = format!(
        "{} {unit}.service - PM2 process manager\n     Loaded: loaded (/etc/systemd/system/{unit}.service; enabled; vendor preset: enabled)\n",
        if st.unit_active { "●" } else { "×" }
    );
    if st.unit_active {
        out += &format!(
            "     Active: active (running) since {since}; {}\n",
            ago(st.unit_since_ms, st.now_ms)
        );
        out += "       Docs: https://pm2.keymetrics.io/\n";
        out += &format!(
            "   Main PID: {} (PM2 v{}: God)\n",
            st.daemon.pid, st.daemon.version
        );
        out += &format!(
            "      Tasks: {} (limit: 9387)\n     CGroup: /system.slice/{unit}.service\n",
            11 + st.procs.len() * 11
        );
        out += &format!(
            "             ├─{} \"PM2 v{}: God Daemon ({})\"\n",
            st.daemon.pid, st.daemon.version, st.home
        );
        let running: Vec<_> = st.procs.iter().filter(|p| p.pid != 0).collect();
        for (i, p) in running.iter().enumerate() {
            let branch = if i + 1 == running.len() {
                "└─"
            } else {
                "├─"
            };
            out += &format!("             {branch}{} \"node {}\"\n", p.pid, p.script);
        }
    } else {
        out += &format!(
            "     Active: failed (Result: signal) since {since}; {}\n",
            ago(st.unit_since_ms, st.now_ms)
        );
        out += "       Docs: https://pm2.keymetrics.io/\n";
        out += &format!(
            "   Main PID: {} (code=killed, signal=KILL)\n",
            st.daemon_pid_of_unit()
        );
    }
    out.push('\n');
    for l in lines_of(st, |s| *s == LogSource::Unit(unit.clone()))
        .into_iter()
        .rev()
        .take(10)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        out += &l;
        out.push('\n');
    }
    Output {
        stdout: out,
        stderr: String::new(),
        code: if st.unit_active { 0 } else { 3 },
        file: None,
    }
}

impl SimState {
    /// The pid systemd knew (the first daemon's); a CLI-spawned daemon is not the unit's.
    fn daemon_pid_of_unit(&self) -> u32 {
        1187
    }
}

fn lines_of(st: &SimState, keep: impl Fn(&LogSource) -> bool) -> Vec<String> {
    let mut v: Vec<&super::state::LogLine> = st
        .logs
        .iter()
        .filter(|l| keep(&l.source) && l.at_ms <= st.now_ms)
        .collect();
    v.sort_by_key(|l| l.at_ms);
    v.iter()
        .map(|l| match &l.source {
            LogSource::Kernel => format!("{} {} kernel: {}", syslog_ts(l.at_ms), st.host, l.text),
            LogSource::Unit(u)
                if l.text.starts_with(&format!("{u}.service"))
                    || l.text.contains(".service - ") =>
            {
                format!("{} {} systemd[1]: {}", syslog_ts(l.at_ms), st.host, l.text)
            }
            LogSource::Unit(u) => {
                // A stable pid per unit (the PM2 unit's is the daemon's).
                let pid = if *u == st.pm2_service {
                    st.daemon.pid
                } else {
                    700 + u.bytes().map(u32::from).sum::<u32>() % 900
                };
                format!("{} {} {u}[{pid}]: {}", syslog_ts(l.at_ms), st.host, l.text)
            }
            _ => format!(
                "{} {} pm2[{}]: {}",
                syslog_ts(l.at_ms),
                st.host,
                st.daemon.pid,
                l.text
            ),
        })
        .collect()
}

pub fn journalctl(st: &SimState, args: &[String]) -> Output {
    let (mut unit, mut kernel, mut n) = (None::<String>, false, None::<usize>);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-u" | "--unit" => unit = it.next().map(|u| unit_name(u)),
            "-k" | "--dmesg" => kernel = true,
            "-n" | "--lines" => n = it.next().and_then(|v| v.parse().ok()),
            "--since" | "--until" | "-p" | "--priority" | "-o" | "--output" => {
                it.next();
            }
            s if s.starts_with("-n") && s.len() > 2 => n = s[2..].parse().ok(),
            s if s.starts_with("--lines=") => n = s[8..].parse().ok(),
            s if s.starts_with("--unit=") => unit = Some(unit_name(&s[7..])),
            s if s.starts_with("-u") && s.len() > 2 => unit = Some(unit_name(&s[2..])),
            _ => {}
        }
    }
    let lines = lines_of(st, |s| match (&unit, kernel) {
        (Some(u), _) => *s == LogSource::Unit(u.clone()),
        (None, true) => *s == LogSource::Kernel,
        (None, false) => matches!(s, LogSource::Kernel | LogSource::Unit(_)),
    });
    let skip = n.map(|n| lines.len().saturating_sub(n)).unwrap_or(0);
    let lines: Vec<String> = lines.into_iter().skip(skip).collect();
    if lines.is_empty() {
        return Output::ok("-- No entries --\n".into());
    }
    Output::ok(lines.join("\n") + "\n")
}

pub fn df(st: &SimState, args: &[String]) -> Output {
    let paths: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if paths.is_empty() {
        return Output::ok(st.df.clone());
    }
    let mut lines = st.df.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let rows: Vec<&str> = lines.collect();
    let mut out = header + "\n";
    for p in paths {
        // The row whose mount point is the longest prefix of the path.
        let best = rows
            .iter()
            .filter_map(|r| r.split_whitespace().last().map(|m| (m, r)))
            .filter(|(m, _)| {
                p == *m || p.starts_with(&format!("{}/", m.trim_end_matches('/'))) || *m == "/"
            })
            .max_by_key(|(m, _)| m.len());
        match best {
            Some((_, r)) => out += &format!("{r}\n"),
            None => return Output::err(format!("df: {p}: No such file or directory\n"), 1),
        }
    }
    Output::ok(out)
}

pub fn free(st: &SimState, _args: &[String]) -> Output {
    Output::ok(st.free.clone())
}

/// `git log --oneline [-N|-n N] [-- PATH...]` in a deployment's directory.
pub fn git(st: &SimState, args: &[String], cwd: &Path) -> Output {
    let Some(dep) = st.deployments.iter().find(|d| cwd.starts_with(&d.dir)) else {
        return Output::err(
            "fatal: not a git repository (or any of the parent directories): .git\n".into(),
            128,
        );
    };
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("log") => {}
        Some("status") => return Output::ok("On branch main\nYour branch is up to date with 'origin/main'.\n\nnothing to commit, working tree clean\n".into()),
        Some("diff") | Some("show") => return Output::ok(String::new()),
        Some(other) => return Output::err(format!("git: '{other}' is not a git command. See 'git --help'.\n"), 1),
        None => return Output::err("usage: git [--version] [--help] <command> [<args>]\n".into(), 1),
    }
    let (mut max, mut paths, mut after_dashes) = (None::<usize>, Vec::<String>::new(), false);
    while let Some(a) = it.next() {
        if after_dashes {
            paths.push(a.trim_start_matches("./").to_string());
            continue;
        }
        match a.as_str() {
            "--" => after_dashes = true,
            "-n" | "--max-count" => max = it.next().and_then(|v| v.parse().ok()),
            s if s.starts_with("--max-count=") => max = s[12..].parse().ok(),
            s if s.starts_with('-')
                && s[1..].chars().all(|c| c.is_ascii_digit())
                && s.len() > 1 =>
            {
                max = s[1..].parse().ok()
            }
            _ => {}
        }
    }
    let touches = |c: &super::state::Commit| {
        paths.is_empty()
            || paths.iter().any(|p| {
                let p = p.trim_end_matches('/');
                c.paths
                    .iter()
                    .any(|cp| cp == p || cp.starts_with(&format!("{p}/")) || glob_path(p, cp))
            })
    };
    let lines: Vec<String> = st
        .commits
        .iter()
        .filter(|c| c.app == dep.app && c.at_ms <= st.now_ms && touches(c))
        .take(max.unwrap_or(usize::MAX))
        .map(|c| format!("{} {}", &c.hash[..7.min(c.hash.len())], c.message))
        .collect();
    Output::ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

fn glob_path(pattern: &str, path: &str) -> bool {
    pattern.contains('*') && crate::runbook::inventory::glob_match(pattern, path)
}

/// `tail` of the server's `/var/log` files (the shim hands every other file to the real
/// `tail`, since the drill's own files are real). auth.log carries the sshd and sudo
/// lines of the scenario; other system logs do not exist on the simulated server.
pub fn tail_varlog(st: &SimState, args: &[String]) -> Output {
    let mut n = 10usize;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" | "--lines" => {
                n = it
                    .next()
                    .and_then(|v| v.trim_start_matches('+').parse().ok())
                    .unwrap_or(n)
            }
            s if s.starts_with("-n") && s.len() > 2 => n = s[2..].parse().unwrap_or(n),
            s if s.starts_with('-')
                && s[1..].chars().all(|c| c.is_ascii_digit())
                && s.len() > 1 =>
            {
                n = s[1..].parse().unwrap_or(n)
            }
            s if s.starts_with('-') => {}
            f => files.push(f.to_string()),
        }
    }
    let mut out = String::new();
    let mut err = String::new();
    for f in &files {
        if f == "/var/log/auth.log" {
            let lines = lines_of(
                st,
                |s| matches!(s, LogSource::Unit(u) if u == "sshd" || u == "sudo"),
            );
            let skip = lines.len().saturating_sub(n);
            for l in lines.into_iter().skip(skip) {
                out.push_str(&l);
                out.push('\n');
            }
        } else {
            err.push_str(&format!(
                "tail: cannot open '{f}' for reading: No such file or directory\n"
            ));
        }
    }
    Output {
        stdout: out,
        stderr: err.clone(),
        code: if err.is_empty() { 0 } else { 1 },
        file: None,
    }
}
