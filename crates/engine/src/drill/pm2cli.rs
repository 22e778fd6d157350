//! The simulated `pm2` command line (pure): parses PM2 7's arguments, acts on the state,
//! and prints what PM2 prints. Faithful on purpose, `all` included: the guard in the app
//! is what stops trainees, the simulator must not pretend.
use std::path::{Component, Path, PathBuf};

use super::format;
use super::sim;
use super::state::{DaemonStatus, LogSource, SimState};
use super::Output;

const P: &str = "[PM2] ";
const ERR: &str = "[PM2][ERROR] ";
const WARN: &str = "[PM2][WARN] ";

struct Args<'a> {
    positional: Vec<&'a str>,
    lines: Option<usize>,
    only: Option<Vec<String>>,
    nostream: bool,
    /// `-s/--silent`: PM2's own `[PM2] ...` messages are not printed.
    silent: bool,
}

fn parse(args: &[String]) -> Result<Args<'_>, String> {
    let mut a = Args {
        positional: vec![],
        lines: None,
        only: None,
        nostream: false,
        silent: false,
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "--lines" => {
                let v = it.next().ok_or("option `--lines <n>' argument missing")?;
                a.lines = Some(
                    v.parse()
                        .map_err(|_| format!("--lines: not a number: {v}"))?,
                );
            }
            "--only" => {
                let v = it
                    .next()
                    .ok_or("option `--only <application-name>' argument missing")?;
                a.only = Some(
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                );
            }
            "--nostream" => a.nostream = true,
            "-s" | "--silent" => a.silent = true,
            s if s.starts_with("--lines=") => a.lines = s[8..].parse().ok(),
            s if s.starts_with("--only=") => {
                a.only = Some(s[7..].split(',').map(str::to_string).collect())
            }
            // Flags that change nothing in the simulation.
            "--update-env" | "--no-color" | "--raw" | "-f" | "--force" | "--no-daemon"
            | "--json" => {}
            s => a.positional.push(s),
        }
    }
    Ok(a)
}

/// Run `pm2 ARGS` in `cwd` at `now_ms` (the state is advanced to `now_ms` first).
pub fn pm2(st: &mut SimState, args: &[String], cwd: &Path, now_ms: i64) -> Output {
    sim::advance(st, now_ms);
    let mut out = Output::default();
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => return Output::err(format!("error: {e}\n"), 1),
    };
    let Some(&cmd) = a.positional.first() else {
        out.stdout = usage();
        return out;
    };
    let rest: Vec<&str> = a.positional[1..].to_vec();
    match cmd {
        "-v" | "--version" | "-V" | "version" => {
            out.stdout = format!("{}\n", super::state::PM2_VERSION);
            return out;
        }
        "-h" | "--help" | "help" => return Output::ok(usage()),
        "kill" => return kill(st, now_ms),
        "monit" | "imonit" | "dashboard" | "dash" => {
            return Output::err(format!("{ERR}`pm2 {cmd}` needs an interactive terminal; it is not available in a drill. Use `pm2 list` or `pm2 show NAME`.\n"), 1)
        }
        _ => {}
    }
    if !KNOWN.contains(&cmd) {
        return Output {
            stdout: format!("{ERR}Command not found\n\n{}", usage()),
            stderr: String::new(),
            code: 1,
            file: None,
        };
    }
    // Every other command talks to the daemon, starting one if none answers.
    if !st.daemon_alive() {
        sim::spawn_daemon(st, now_ms);
        // Printed on stdout, so `pm2 jlist | jq` breaks too, unless silenced.
        if !a.silent {
            out.stdout += &format!(
                "{P}Spawning PM2 daemon with pm2_home={}\n{P}PM2 Successfully daemonized\n",
                st.home
            );
        }
    }
    let r = match cmd {
        "list" | "ls" | "l" | "ps" | "status" => Output::ok(format::list(st)),
        "jlist" => Output::ok(format!("{}\n", format::jlist(st))),
        "prettylist" => Output::ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&format::jlist(st)).unwrap_or_default()
        )),
        "show" | "describe" | "info" | "desc" => show(st, &rest),
        "logs" | "log" => logs(st, &rest, &a),
        "ping" => Output::ok("{ msg: 'pong' }\n".into()),
        "save" | "dump" => save(st),
        "resurrect" => resurrect(st, now_ms),
        "update" => update(st, now_ms),
        "start" => start(st, &rest, &a, cwd, now_ms),
        "restart" | "reload" | "stop" | "delete" | "del" => operate(st, cmd, &rest, now_ms),
        "flush" => {
            st.logs
                .retain(|l| !matches!(l.source, LogSource::Out(_) | LogSource::Err(_)));
            Output::ok(format!(
                "{P}Flushing {}/pm2.log\n{P}Logs flushed\n",
                st.home
            ))
        }
        _ => Output::err(format!("{ERR}Command not found\n"), 1),
    };
    out.stdout += &r.stdout;
    out.stderr += &r.stderr;
    out.code = r.code;
    out
}

const KNOWN: &[&str] = &[
    "list",
    "ls",
    "l",
    "ps",
    "status",
    "jlist",
    "prettylist",
    "show",
    "describe",
    "info",
    "desc",
    "logs",
    "log",
    "ping",
    "save",
    "dump",
    "resurrect",
    "update",
    "start",
    "restart",
    "reload",
    "stop",
    "delete",
    "del",
    "flush",
];

fn usage() -> String {
    "usage: pm2 [options] <command>\n\npm2 -h, --help             all available commands and options\npm2 examples               display pm2 usage examples\npm2 <command> -h           help on a specific command\n".into()
}

/// Processes a target (`all`, an id, a name) selects, by pm_id.
fn select(st: &SimState, target: &str) -> Vec<u32> {
    let mut ids: Vec<u32> = if target == "all" {
        st.procs.iter().map(|p| p.pm_id).collect()
    } else if let Ok(id) = target.parse::<u32>() {
        st.procs
            .iter()
            .filter(|p| p.pm_id == id)
            .map(|p| p.pm_id)
            .collect()
    } else {
        st.procs
            .iter()
            .filter(|p| p.name == target)
            .map(|p| p.pm_id)
            .collect()
    };
    ids.sort();
    ids
}

fn ids_text(ids: &[u32]) -> String {
    let inner: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    format!("[ {} ]", inner.join(", "))
}

fn action_name(cmd: &str) -> &'static str {
    match cmd {
        "restart" | "start" => "restartProcessId",
        "reload" => "reloadProcessId",
        "stop" => "stopProcessId",
        _ => "deleteProcessId",
    }
}

fn operate(st: &mut SimState, cmd: &str, targets: &[&str], t: i64) -> Output {
    if targets.is_empty() {
        return Output::err(
            "error: missing required argument `id|name|namespace|all|json|stdin'\n".to_string(),
            1,
        );
    }
    let mut out = Output::default();
    for target in targets {
        let ids = select(st, target);
        if ids.is_empty() {
            out.stderr += &format!("{ERR}Process or Namespace {target} not found\n");
            out.code = 1;
            continue;
        }
        out.stdout += &format!(
            "{P}Applying action {} on app [{target}](ids: {})\n",
            action_name(cmd),
            ids_text(&ids)
        );
        for id in ids {
            let name = st
                .procs
                .iter()
                .find(|p| p.pm_id == id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            match cmd {
                "restart" | "reload" | "start" => sim::restart(st, id, t),
                "stop" => sim::stop(st, id, t),
                _ => sim::delete(st, id, t),
            }
            out.stdout += &format!("{P}[{name}]({id}) ✓\n");
        }
    }
    out.stdout += &format::list(st);
    out
}

fn show(st: &SimState, rest: &[&str]) -> Output {
    let Some(target) = rest.first() else {
        return Output::err("error: missing required argument `id'\n".into(), 1);
    };
    let ids = select(st, target);
    if ids.is_empty() {
        return Output::err(format!("{WARN}{target} doesn't exist\n"), 1);
    }
    let mut out = String::new();
    for id in ids {
        if let Some(p) = st.procs.iter().find(|p| p.pm_id == id) {
            out += &format::describe(st, p);
        }
    }
    Output::ok(out)
}

fn ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The text of one file-backed log, as the files hold it.
pub fn log_file_lines(st: &SimState, source: &LogSource) -> Vec<String> {
    let mut lines: Vec<&super::state::LogLine> = st
        .logs
        .iter()
        .filter(|l| &l.source == source && l.at_ms <= st.now_ms)
        .collect();
    lines.sort_by_key(|l| l.at_ms);
    lines
        .iter()
        .map(|l| format!("{}: {}", ts(l.at_ms), l.text))
        .collect()
}

fn logs(st: &SimState, rest: &[&str], a: &Args) -> Output {
    let n = a.lines.unwrap_or(15);
    let target = rest.first().copied();
    let mut out = String::new();
    let names: Vec<(u32, String)> = match target {
        None | Some("all") => {
            let mut v: Vec<(u32, String)> = Vec::new();
            for p in &st.procs {
                if !v.iter().any(|(_, n)| *n == p.name) {
                    v.push((p.pm_id, p.name.clone()));
                }
            }
            v
        }
        Some(t) => {
            let ids = select(st, t);
            match ids.first() {
                Some(id) => st
                    .procs
                    .iter()
                    .filter(|p| p.pm_id == *id)
                    .map(|p| (p.pm_id, p.name.clone()))
                    .collect(),
                None => {
                    return Output::err(
                        format!("{ERR}No process found with the name or id {t}\n"),
                        1,
                    )
                }
            }
        }
    };
    let label = target
        .map(|t| t.to_string())
        .unwrap_or_else(|| "all".into());
    out += &format!("[TAILING] Tailing last {n} lines for [{label}] process{} (change the value with --lines option)\n", if target.is_none() { "es" } else { "" });
    if target.is_none() || target == Some("all") {
        out += &format!("{}/pm2.log last {n} lines:\n", st.home);
        for l in tail(log_file_lines(st, &LogSource::Pm2), n) {
            out += &format!("PM2        | {l}\n");
        }
        out.push('\n');
    }
    for (id, name) in names {
        for (kind, src) in [
            ("out", LogSource::Out(name.clone())),
            ("error", LogSource::Err(name.clone())),
        ] {
            out += &format!("{}/logs/{name}-{kind}.log last {n} lines:\n", st.home);
            for l in tail(log_file_lines(st, &src), n) {
                out += &format!("{id}|{name} | {l}\n");
            }
            out.push('\n');
        }
    }
    if !a.nostream {
        // A drill never streams forever: print and exit, and say so.
        out +=
            "[drill] log streaming ends here (a real `pm2 logs` keeps following; use --nostream)\n";
    }
    Output::ok(out)
}

fn tail(v: Vec<String>, n: usize) -> Vec<String> {
    let skip = v.len().saturating_sub(n);
    v.into_iter().skip(skip).collect()
}

fn save(st: &mut SimState) -> Output {
    let mut out = format!("{P}Saving current process list...\n");
    if st.procs.is_empty() {
        out += &format!("{WARN}PM2 is not managing any process, skipping save...\n{WARN}To force saving use: pm2 save --force\n");
        return Output::ok(out);
    }
    let mut names: Vec<String> = Vec::new();
    for p in &st.procs {
        if !names.contains(&p.name) {
            names.push(p.name.clone());
        }
    }
    st.dump = Some(names);
    out += &format!("{P}Successfully saved in {}/dump.pm2\n", st.home);
    Output::ok(out)
}

fn resurrect(st: &mut SimState, t: i64) -> Output {
    let mut out = format!("{P}Resurrecting\n");
    let Some(names) = st.dump.clone() else {
        return Output {
            stdout: out,
            stderr: format!("{ERR}No processes saved; DUMP file doesn't exist\n"),
            code: 1,
            file: None,
        };
    };
    out += &format!("{P}Restoring processes located in {}/dump.pm2\n", st.home);
    for name in names {
        if st.procs.iter().any(|p| p.name == name) {
            continue;
        }
        if let Some((d, _)) = st.spec(&name) {
            let dep = d.id.clone();
            sim::launch(st, &dep, &name, t);
        }
    }
    out += &format::list(st);
    Output::ok(out)
}

fn kill(st: &mut SimState, t: i64) -> Output {
    let mut out = String::new();
    if st.daemon.status == DaemonStatus::Alive {
        let ids: Vec<u32> = st.procs.iter().map(|p| p.pm_id).collect();
        if !ids.is_empty() {
            out += &format!(
                "{P}Applying action deleteProcessId on app [all](ids: {})\n",
                ids_text(&ids)
            );
            for p in &st.procs {
                out += &format!("{P}[{}]({}) ✓\n", p.name, p.pm_id);
            }
        }
        sim::kill_daemon_clean(st, t);
        out += &format!("{P}[v] All Applications Stopped\n{P}[v] PM2 Daemon Stopped\n");
    } else {
        out += &format!("{P}[v] PM2 Daemon Stopped\n");
        st.daemon.status = DaemonStatus::Killed;
    }
    Output::ok(out)
}

fn update(st: &mut SimState, t: i64) -> Output {
    let mut out = save(st);
    let names = st.dump.clone().unwrap_or_default();
    sim::kill_daemon_clean(st, t);
    sim::spawn_daemon(st, t);
    for name in names {
        if let Some((d, _)) = st.spec(&name) {
            let dep = d.id.clone();
            sim::launch(st, &dep, &name, t);
        }
    }
    out.stdout += &format!(
        "{P}Updating PM2...\n{P}--- Successfully updated PM2 to {}\n",
        super::state::PM2_VERSION
    );
    out.stdout += &format::list(st);
    out
}

/// `..` and `.` resolved without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn is_config_file(s: &str) -> bool {
    [
        ".config.js",
        ".config.cjs",
        ".config.mjs",
        ".json",
        ".yml",
        ".yaml",
    ]
    .iter()
    .any(|e| s.ends_with(e))
}

fn start(st: &mut SimState, rest: &[&str], a: &Args, cwd: &Path, t: i64) -> Output {
    let Some(first) = rest.first() else {
        return Output::err(format!("{ERR}File ecosystem.config.js not found\n"), 1);
    };
    if !is_config_file(first) {
        // `pm2 start NAME|ID|all` acts on existing processes, like restart.
        if rest.iter().all(|t| !select(st, t).is_empty()) {
            return operate(st, "start", rest, t);
        }
        let path = normalize(&cwd.join(first));
        return Output::err(format!("{ERR}Script not found: {}\n", path.display()), 1);
    }
    let path = normalize(&cwd.join(first));
    let Some(dep) = st
        .deployments
        .iter()
        .find(|d| normalize(&Path::new(&d.dir).join(&d.config)) == path)
        .cloned()
    else {
        return Output::err(format!("{ERR}File {first} not found\n"), 1);
    };
    let mut names: Vec<String> = dep.processes.iter().map(|p| p.name.clone()).collect();
    if let Some(only) = &a.only {
        names.retain(|n| only.contains(n));
    }
    let mut out = Output::default();
    // PM2 restarts the apps of the file that already exist and starts the missing ones.
    let mut missing = Vec::new();
    for name in &names {
        let ids = select(st, name);
        if ids.is_empty() {
            missing.push(name.clone());
            continue;
        }
        out.stdout += &format!(
            "{P}Applying action restartProcessId on app [{name}](ids: {})\n",
            ids_text(&ids)
        );
        for id in ids {
            sim::restart(st, id, t);
            out.stdout += &format!("{P}[{name}]({id}) ✓\n");
        }
    }
    if !missing.is_empty() {
        out.stdout += &format!(
            "{WARN}Applications {} not running, starting...\n",
            missing.join(", ")
        );
        for name in &missing {
            let ids = sim::launch(st, &dep.id, name, t);
            let n = ids.len();
            out.stdout += &format!("{P}App [{name}] launched ({n} instances)\n");
        }
    }
    out.stdout += &format::list(st);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_without_io() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d.cjs")),
            PathBuf::from("/a/c/d.cjs")
        );
    }

    #[test]
    fn config_files_are_recognised() {
        assert!(is_config_file("ecosystem.config.cjs"));
        assert!(is_config_file("ecosystem-test.config.cjs"));
        assert!(!is_config_file("flyer-crawler-api"));
    }
}
