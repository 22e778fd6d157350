//! Judge one PM2 invocation: its subcommand, its targets (literal names, ids,
//! regexes, `all`, ecosystem files, computed lists) against the runbook and
//! the context's inventory and scope.

use super::classify::{lit, Walker, Xargs};
use super::names::{alternative_names, name_concern};
use super::shell::Word;
use super::verdict::{Class, Feed, Finding};

const INCIDENT: &str =
    "the 2026-02-17 incident: a deploy ran `pm2 delete all` and took down every app on the server";

pub(super) const PM2_READ_VERBS: &[&str] = &[
    "jlist",
    "list",
    "ls",
    "l",
    "ps",
    "status",
    "prettylist",
    "show",
    "info",
    "describe",
    "desc",
    "logs",
    "log",
    "monit",
    "imonit",
    "ping",
    "id",
    "pid",
    "env",
    "report",
    "dashboard",
    "dash",
    "version",
    "--version",
    "-v",
    "-V",
    "-h",
    "--help",
    "help",
    "examples",
];
pub(super) const PM2_TARGET_VERBS: &[&str] = &[
    "stop",
    "restart",
    "reload",
    "delete",
    "del",
    "reset",
    "gracefulReload",
    "scale",
    "sendSignal",
];
/// pm2 options that take a value (so the value is not a target).
const PM2_VALUE_OPTS: &[&str] = &[
    "--only",
    "--env",
    "-n",
    "--name",
    "--namespace",
    "-i",
    "--instances",
    "--kill-timeout",
    "--listen-timeout",
    "--max-memory-restart",
    "--cwd",
    "-l",
    "--log",
    "-o",
    "--output",
    "-e",
    "--error",
    "--interpreter",
    "--node-args",
    "--interpreter-args",
    "-c",
    "--cron",
    "--cron-restart",
    "--parallel",
    "--lines",
    "--log-date-format",
    "--restart-delay",
    "--exp-backoff-restart-delay",
    "--max-restarts",
    "--min-uptime",
    "-x",
    "--merge-logs",
    "--wait-ready-timeout",
    "--format",
];

impl Walker<'_> {
    /// The runbook's incident, told only where the runbook applies (an
    /// inventory is loaded); third-party code gets the plain rule.
    fn story(&self) -> String {
        if self.ctx.known_processes.is_empty() {
            String::new()
        } else {
            format!(" ({INCIDENT})")
        }
    }

    pub(super) fn alt_for(&self, verb: &str) -> String {
        let names = alternative_names(self.ctx);
        if names.is_empty() && self.ctx.known_processes.is_empty() {
            format!("pm2 {verb} <name> [<name> ...] naming the apps you mean")
        } else if names.is_empty() {
            format!("pm2 {verb} <name> [<name> ...] with explicit process names from the inventory")
        } else {
            format!("pm2 {verb} {}", names.join(" "))
        }
    }

    pub(super) fn pm2(&mut self, args: &[Word], xargs: Option<&Xargs>, off: usize, text: String) {
        let mut f = Finding {
            class: Class::Safe,
            reason: String::new(),
            safe_alternative: None,
            targets: vec![],
            offset: off,
            verb: None,
            filter: None,
            command: text.clone(),
        };
        let mut vi = 0;
        while vi < args.len() {
            let t = lit(&args[vi]);
            if t.starts_with('-') && !PM2_READ_VERBS.contains(&t.as_str()) {
                vi += 1;
            } else {
                break;
            }
        }
        let Some(vw) = args.get(vi) else {
            f.reason = "`pm2` with no subcommand prints help".into();
            if xargs.is_some() {
                f.class = Class::Caution;
                f.reason =
                    "pm2's subcommand comes from standard input; the guard cannot check it".into();
            }
            self.findings.push(f);
            return;
        };
        if vw.is_dynamic() {
            let all = args
                .iter()
                .any(|w| w.literal().is_some_and(|t| t.eq_ignore_ascii_case("all")));
            f.class = if all {
                Class::Dangerous
            } else {
                Class::Caution
            };
            f.reason = format!(
                "pm2's subcommand `{}` is computed at run time; the guard cannot check it",
                vw.raw
            );
            self.findings.push(f);
            return;
        }
        let verb = lit(vw);
        f.verb = Some(verb.clone());
        let rest = &args[vi + 1..];
        match verb.as_str() {
            v if PM2_READ_VERBS.contains(&v) => {
                f.reason = format!("read-only: `pm2 {v}` changes no process");
                f.targets = positional(rest)
                    .0
                    .iter()
                    .filter_map(|w| w.literal())
                    .collect();
            }
            "kill" => {
                f.class = Class::Dangerous;
                f.reason =
                    "`pm2 kill` kills the PM2 daemon and every process of every app on the server"
                        .into();
                f.safe_alternative = Some(self.alt_for("restart"));
                f.targets = vec!["all".into()];
            }
            "update" | "updatePM2" | "deepUpdate" => {
                f.class = Class::Dangerous;
                f.reason = format!("`pm2 {verb}` replaces the PM2 daemon in place and restarts every app on the server (brief outage for all)");
                f.safe_alternative = Some(
                    "run `pm2 update` in a planned maintenance window, never during an incident"
                        .into(),
                );
                f.targets = vec!["all".into()];
            }
            "save" | "dump" => {
                f.class = Class::Caution;
                f.reason = "`pm2 save` overwrites the saved process list that `pm2 resurrect` and boot restore use".into();
            }
            "resurrect" => {
                f.class = Class::Caution;
                f.reason =
                    "`pm2 resurrect` restores every app from the saved list, which may be stale"
                        .into();
            }
            "cleardump" => {
                f.class = Class::Caution;
                f.reason = "`pm2 cleardump` empties the saved process list".into();
            }
            "start" => self.pm2_start(&mut f, rest, xargs),
            "startOrReload" | "startOrRestart" | "startOrGracefulReload" => {
                self.pm2_start_or(&mut f, &verb, rest, xargs)
            }
            "startup" | "unstartup" => {
                f.class = Class::Caution;
                f.reason =
                    format!("`pm2 {verb}` changes how PM2 starts at boot (a system init script)");
            }
            "deploy" => {
                f.class = Class::Caution;
                f.reason = "`pm2 deploy` runs the ecosystem file's deploy hooks (`post-deploy` ...) on the remote hosts; check what they run".into();
            }
            "flush" => {
                f.class = Class::Caution;
                f.reason =
                    "`pm2 flush` empties the log files (the evidence of what happened)".into();
            }
            v if PM2_TARGET_VERBS.contains(&v) => self.pm2_targets(&mut f, rest, xargs),
            v => {
                f.class = Class::Caution;
                f.reason = format!(
                    "`pm2 {v}` is not in the runbook's command reference; confirm what it does"
                );
            }
        }
        self.findings.push(f);
    }

    /// `pm2 startOrReload FILE [--only a,b]`: like `reload` of the file's apps
    /// (starts those not running); it touches nothing the file does not declare.
    fn pm2_start_or(&mut self, f: &mut Finding, verb: &str, rest: &[Word], xargs: Option<&Xargs>) {
        let (pos, only) = positional(rest);
        match pos.first().and_then(|w| w.literal()) {
            Some(t) if is_config_file(&t) => {
                f.reason = format!("`pm2 {verb}` starts or reloads the apps declared in `{t}`");
                f.targets = if only.is_empty() {
                    vec![t]
                } else {
                    only.clone()
                };
                for n in &only {
                    if let Some(c) = name_concern(self.ctx, n) {
                        raise(f, Class::Caution, c);
                    }
                }
            }
            Some(_) => self.judge_names(f, "reload", &pos, xargs),
            None => match pos.first() {
                Some(w) => self.judge_dynamic(f, "reload", w, xargs),
                None => {
                    f.class = Class::Caution;
                    f.reason = format!("`pm2 {verb}` with no ecosystem file");
                }
            },
        }
    }

    fn pm2_start(&mut self, f: &mut Finding, rest: &[Word], xargs: Option<&Xargs>) {
        // `pm2 start npm --name strapi -- start`: the process is `strapi`.
        if let Some(n) = start_name(rest) {
            let first = positional(rest).0.first().and_then(|w| w.literal());
            if !first.as_deref().is_some_and(is_config_file) {
                f.reason = format!("starts process `{n}`");
                f.targets = vec![n.clone()];
                if let Some(c) = name_concern(self.ctx, &n) {
                    raise(f, Class::Caution, c);
                }
                return;
            }
        }
        let (pos, only) = positional(rest);
        let Some(first) = pos.first() else {
            if let Some(x) = xargs {
                return self.judge_feed(f, "start", &x.feed);
            }
            f.class = Class::Caution;
            f.reason = "`pm2 start` with no app or ecosystem file".into();
            return;
        };
        let Some(t) = first.literal() else {
            return self.judge_dynamic(f, "start", first, xargs);
        };
        if t.eq_ignore_ascii_case("all") {
            return self.judge_all(f, "start");
        }
        if is_config_file(&t) || is_script(&t) {
            f.reason = if is_config_file(&t) {
                format!("starts the apps declared in `{t}`")
            } else {
                format!("starts a new process from `{t}`")
            };
            f.targets = if only.is_empty() {
                vec![t.clone()]
            } else {
                only.clone()
            };
            for n in &only {
                if let Some(c) = name_concern(self.ctx, n) {
                    raise(f, Class::Caution, c);
                }
            }
            return;
        }
        self.judge_names(f, "start", &pos, xargs);
    }

    fn pm2_targets(&mut self, f: &mut Finding, rest: &[Word], xargs: Option<&Xargs>) {
        let verb = f.verb.clone().unwrap_or_default();
        let (mut pos, only) = positional(rest);
        // What `scale` and `sendSignal` do to the named app, before the names are judged.
        let effect = match verb.as_str() {
            "scale" => {
                let to_zero = pos.get(1).map(|w| lit(w)).is_some_and(|n| n == "0");
                pos.truncate(1);
                to_zero.then_some("`pm2 scale NAME 0` stops every instance of the app")
            }
            "sendSignal" => {
                let signal = pos.first().and_then(|w| w.literal());
                pos.drain(..pos.len().min(1));
                let ends = signal.is_none_or(|s| ending_signal(&s));
                ends.then_some(
                    "`pm2 sendSignal` with a signal that ends processes: the app goes down outside PM2's stop and restart logic",
                )
            }
            _ => None,
        };
        if let Some(why) = effect {
            raise(f, Class::Caution, why.to_string());
        }
        // `pm2 reload ecosystem.config.cjs --only NAME` acts on NAME only.
        if let Some(first) = pos.first().and_then(|w| w.literal()) {
            if is_config_file(&first)
                && !only.is_empty()
                && matches!(verb.as_str(), "restart" | "reload")
            {
                f.reason = format!(
                    "`pm2 {verb}` of the `--only` apps in `{first}`: {}",
                    only.join(", ")
                );
                f.targets = only.clone();
                for n in &only {
                    if let Some(c) = name_concern(self.ctx, n) {
                        raise(f, Class::Caution, c);
                    }
                }
                return;
            }
        }
        if pos.is_empty() {
            if let Some(x) = xargs {
                return self.judge_feed(f, &verb, &x.feed);
            }
            f.class = Class::Caution;
            f.reason = format!("`pm2 {verb}` with no process name");
            return;
        }
        self.judge_names(f, &verb, &pos, xargs);
    }

    fn judge_names(&mut self, f: &mut Finding, verb: &str, pos: &[&Word], xargs: Option<&Xargs>) {
        let mut named = vec![];
        for w in pos {
            let Some(t) = w.literal() else {
                self.judge_dynamic(f, verb, w, xargs);
                continue;
            };
            if let Some(x) =
                xargs.filter(|x| x.replace.as_ref().is_some_and(|r| t.contains(r.as_str())))
            {
                self.judge_feed(f, verb, &x.feed);
                continue;
            }
            self.judge_literal(f, verb, &t, w.quoted);
            named.push(t);
        }
        if let Some(x) = xargs.filter(|x| x.replace.is_none()) {
            // xargs appends its input to the arguments.
            self.judge_feed(f, verb, &x.feed);
        }
        if f.class == Class::Safe && f.reason.is_empty() {
            f.reason = format!(
                "`pm2 {verb}` of explicitly named processes: {}",
                named.join(", ")
            );
        }
    }

    fn judge_literal(&mut self, f: &mut Finding, verb: &str, t: &str, quoted: bool) {
        push_target(f, t);
        if t.eq_ignore_ascii_case("all") {
            return self.judge_all(f, verb);
        }
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return raise(
                f,
                Class::Caution,
                format!("`pm2 {verb} {t}` uses a numeric id: ids are reassigned when processes are re-created; use the name"),
            );
        }
        if t.len() >= 2 && t.starts_with('/') && t.ends_with('/') {
            return raise(
                f,
                Class::Caution,
                format!("`pm2 {verb} {t}` uses a regex: it acts on every process whose name matches, across apps"),
            );
        }
        if is_config_file(t) {
            let class = if matches!(verb, "restart" | "reload" | "start") {
                Class::Safe
            } else {
                Class::Caution
            };
            return raise(
                f,
                class,
                format!("`pm2 {verb} {t}` acts on every app declared in that file"),
            );
        }
        if !quoted && t.contains(['*', '?', '[']) {
            return raise(
                f,
                Class::Caution,
                format!("`{t}` is a wildcard the shell expands against files, not process names"),
            );
        }
        if t.contains(['*', '?']) {
            return raise(
                f,
                Class::Caution,
                format!("`{t}`: pm2 takes process names, not wildcards; it matches no process, or a namespace"),
            );
        }
        if let Some(c) = name_concern(self.ctx, t) {
            raise(f, Class::Caution, c);
        }
    }

    fn judge_all(&mut self, f: &mut Finding, verb: &str) {
        push_target(f, "all");
        let alt = self.alt_for(verb);
        raise(
            f,
            Class::Dangerous,
            format!(
                "`pm2 {verb} all` affects ALL apps on the server, not only this incident's{}",
                self.story()
            ),
        );
        f.safe_alternative.get_or_insert(alt);
    }

    fn judge_dynamic(&mut self, f: &mut Finding, verb: &str, w: &Word, xargs: Option<&Xargs>) {
        if let Some(v) = w.sole_var() {
            if let Some(feed) = self.vars.get(v).cloned() {
                return self.judge_feed(f, verb, &feed);
            }
            push_target(f, &w.raw);
            return raise(
                f,
                Class::Caution,
                format!(
                    "`pm2 {verb} {}`: the target comes from a variable the guard cannot see",
                    w.raw
                ),
            );
        }
        if let Some(sub) = w.subs().next() {
            let feed = self.feed_of_script(sub);
            return self.judge_feed(f, verb, &feed);
        }
        let _ = xargs;
        push_target(f, &w.raw);
        raise(
            f,
            Class::Caution,
            format!("`pm2 {verb} {}`: the name is built at run time", w.raw),
        );
    }

    fn judge_feed(&mut self, f: &mut Finding, verb: &str, feed: &Feed) {
        match feed {
            Feed::PmList { filter: None } => {
                push_target(f, "all");
                let alt = format!(
                    "{}, or filter the list by name, e.g. jq -r '.[] | select(.name | endswith(\"-test\")) | .pm_id'",
                    self.alt_for(verb)
                );
                raise(
                    f,
                    Class::Dangerous,
                    format!("`pm2 {verb}` is fed by an unfiltered process list: it acts on processes of every app on the server (the runbook's \"no name filtering\" pattern){}", self.story()),
                );
                f.safe_alternative.get_or_insert(alt);
            }
            Feed::PmList { filter: Some(nf) } => {
                f.filter = Some(nf.clone());
                push_target(f, &format!("<{}>", nf.text));
                if f.reason.is_empty() {
                    f.reason = format!("`pm2 {verb}` of processes selected by name ({})", nf.text);
                }
                // During an incident the names must be checkable against its scope.
                if let Some(scope) = &self.ctx.scope {
                    raise(
                        f,
                        Class::Caution,
                        format!(
                            "`pm2 {verb}` targets are selected at run time by `{}`; the guard cannot check them against the incident's scope ({})",
                            nf.text,
                            scope.join(", ")
                        ),
                    );
                }
            }
            Feed::Literal(names) => {
                if names.is_empty() {
                    return raise(
                        f,
                        Class::Caution,
                        format!("`pm2 {verb}` with an empty target list"),
                    );
                }
                for n in names.clone() {
                    self.judge_literal(f, verb, &n, true);
                }
                if f.class == Class::Safe && f.reason.is_empty() {
                    f.reason = format!(
                        "`pm2 {verb}` of explicitly named processes: {}",
                        names.join(", ")
                    );
                }
            }
            Feed::Procs(_) => {
                push_target(f, "<process ids>");
                raise(
                    f,
                    Class::Caution,
                    format!(
                        "`pm2 {verb}` is given operating-system process ids, not PM2 names or ids"
                    ),
                );
            }
            Feed::Unknown(desc) => {
                push_target(f, &format!("<{desc}>"));
                raise(
                    f,
                    Class::Caution,
                    format!("`pm2 {verb}`: the targets come from {desc} at run time; the guard cannot check them"),
                );
            }
        }
    }
}

fn push_target(f: &mut Finding, t: &str) {
    if !f.targets.iter().any(|x| x == t) {
        f.targets.push(t.to_string());
    }
}

/// Raise the finding's class; the reason of the worst concern wins.
/// Signals whose default action ends the process (names with or without `SIG`, or numbers);
/// an unreadable signal counts as one. USR1/USR2 are left out: apps handle them (log reopen,
/// the inspector) and that is what `sendSignal` is mostly used for.
fn ending_signal(s: &str) -> bool {
    let name = s.trim_start_matches('-').to_ascii_uppercase();
    let name = name.trim_start_matches("SIG");
    matches!(
        name,
        "KILL"
            | "TERM"
            | "INT"
            | "QUIT"
            | "HUP"
            | "ABRT"
            | "ALRM"
            | "PIPE"
            | "SEGV"
            | "BUS"
            | "FPE"
            | "ILL"
            | "TRAP"
            | "SYS"
            | "XCPU"
            | "XFSZ"
            | "VTALRM"
            | "PROF"
            | "IO"
            | "POLL"
            | "PWR"
            | "STKFLT"
    ) || name
        .parse::<u32>()
        .is_ok_and(|n| n != 0 && !matches!(n, 10 | 12 | 17 | 18 | 19 | 20 | 23 | 28))
}

fn raise(f: &mut Finding, class: Class, reason: String) {
    if class > f.class || f.reason.is_empty() {
        f.class = f.class.max(class);
        f.reason = reason;
    }
}

/// Positional arguments of a pm2 subcommand, and the `--only` names.
/// The literal value of `--name X` / `-n X` / `--name=X` before `--`.
fn start_name(args: &[Word]) -> Option<String> {
    let mut it = args.iter().map(lit);
    while let Some(t) = it.next() {
        if t == "--" {
            break;
        }
        if let Some(v) = t.strip_prefix("--name=") {
            return Some(v.to_string()).filter(|v| !v.is_empty() && !v.contains('$'));
        }
        if t == "--name" || t == "-n" {
            return it.next().filter(|v| !v.is_empty() && !v.contains('$'));
        }
    }
    None
}

fn positional(args: &[Word]) -> (Vec<&Word>, Vec<String>) {
    let mut pos = vec![];
    let mut only = vec![];
    let mut j = 0;
    while j < args.len() {
        let t = lit(&args[j]);
        if t == "--" {
            break;
        }
        if let Some(v) = t.strip_prefix("--only=") {
            only.extend(v.split(',').filter(|s| !s.is_empty()).map(String::from));
        } else if t == "--only" {
            if let Some(v) = args.get(j + 1) {
                only.extend(
                    lit(v)
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                );
            }
            j += 1;
        } else if t.starts_with('-') && !args[j].quoted {
            if PM2_VALUE_OPTS.contains(&t.as_str()) {
                j += 1;
            }
        } else {
            pos.push(&args[j]);
        }
        j += 1;
    }
    (pos, only)
}

fn is_config_file(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    (file.contains("ecosystem") || file.contains(".config.") || file.starts_with("pm2."))
        && [".js", ".cjs", ".mjs", ".json", ".yml", ".yaml", ".config"]
            .iter()
            .any(|e| file.ends_with(e))
}

fn is_script(t: &str) -> bool {
    [".js", ".cjs", ".mjs", ".ts", ".sh", ".py", ".json"]
        .iter()
        .any(|e| t.ends_with(e))
        || t.contains('/')
}
