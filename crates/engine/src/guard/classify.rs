//! Classify a shell command line: walk the parsed script, find every PM2
//! invocation (through wrappers, `sh -c`, substitutions, `xargs`, loops), and
//! hand it to `pm2` for judging against the runbook's patterns. Pure.

use std::collections::HashMap;

use super::pm2::PM2_TARGET_VERBS;
use super::shell::{self, Script, SimpleCommand, Word};
use super::verdict::{Class, Feed, Finding, GuardContext, Verdict};

/// Classify one command line (or script).
pub fn classify(line: &str, ctx: &GuardContext) -> Verdict {
    verdict_of(&analyze(line, ctx, &HashMap::new()))
}

/// Every finding in `src`, with variables pre-bound to feeds (used by the JS lint).
pub fn analyze(src: &str, ctx: &GuardContext, vars: &HashMap<String, Feed>) -> Vec<Finding> {
    let mut w = Walker {
        ctx,
        vars: vars.clone(),
        findings: vec![],
        depth: 0,
    };
    w.source(src, None);
    super::daemon::apply(&mut w.findings, ctx);
    w.findings
}

/// Fold findings into one verdict: the worst class wins.
pub fn verdict_of(findings: &[Finding]) -> Verdict {
    let Some(class) = findings.iter().map(|f| f.class).max() else {
        return Verdict {
            class: Class::Safe,
            reason: "no PM2 invocation: nothing here acts on PM2 processes".into(),
            safe_alternative: None,
            targets: vec![],
        };
    };
    let worst: Vec<&Finding> = findings.iter().filter(|f| f.class == class).collect();
    let mut reasons: Vec<&str> = vec![];
    for f in &worst {
        if !reasons.contains(&f.reason.as_str()) {
            reasons.push(&f.reason);
        }
    }
    let mut reason = reasons[..reasons.len().min(3)].join("; ");
    if reasons.len() > 3 {
        reason.push_str(&format!(" (+{} more)", reasons.len() - 3));
    }
    let mut targets: Vec<String> = vec![];
    for t in findings.iter().flat_map(|f| &f.targets) {
        if !targets.contains(t) {
            targets.push(t.clone());
        }
    }
    Verdict {
        class,
        reason,
        safe_alternative: worst.iter().find_map(|f| f.safe_alternative.clone()),
        targets,
    }
}

const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
    "esac",
];
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"];

pub(super) struct Walker<'c> {
    pub(super) ctx: &'c GuardContext,
    pub(super) vars: HashMap<String, Feed>,
    pub(super) findings: Vec<Finding>,
    pub(super) depth: usize,
}

/// What `xargs` hands to the command it runs.
#[derive(Clone)]
pub(super) struct Xargs {
    pub(super) feed: Feed,
    pub(super) replace: Option<String>,
}

pub(super) fn base(name: &str) -> &str {
    let b = name.rsplit('/').next().unwrap_or(name);
    // `pm2@5.3.0` (npx) → `pm2`
    match b.find('@') {
        Some(i) if i > 0 => &b[..i],
        _ => b,
    }
}

pub(super) fn is_pm2_path(s: &str) -> bool {
    base(s) == "pm2" || s.ends_with("pm2/bin/pm2")
}

pub(super) fn lit(w: &Word) -> String {
    w.literal().unwrap_or_else(|| w.raw.clone())
}

pub(super) fn joined(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| w.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Walker<'_> {
    fn push(
        &mut self,
        class: Class,
        reason: String,
        alt: Option<String>,
        offset: usize,
        command: String,
    ) {
        self.findings.push(Finding {
            class,
            reason,
            safe_alternative: alt,
            targets: vec![],
            offset,
            verb: None,
            filter: None,
            command,
        });
    }

    /// Parse and walk a source string; `at` pins offsets for re-parsed inner strings.
    fn source(&mut self, src: &str, at: Option<usize>) {
        if self.depth > 16 {
            self.push(
                Class::Caution,
                "commands nested too deeply to check".into(),
                None,
                at.unwrap_or(0),
                src.into(),
            );
            return;
        }
        match shell::parse(src) {
            Ok(script) => {
                self.depth += 1;
                self.script(&script, at);
                self.depth -= 1;
            }
            Err(e) => {
                // Refuse to guess: a line the guard cannot read is not safe to run.
                let mentions = src.to_ascii_lowercase().contains("pm2");
                let class = if mentions {
                    Class::Dangerous
                } else {
                    Class::Caution
                };
                let why = if mentions {
                    "it mentions pm2 and cannot be checked"
                } else {
                    "the guard cannot tell what it runs"
                };
                self.push(
                    class,
                    format!("cannot parse the command line: {}; {why}", e.message),
                    Some("fix the quoting so the command parses".into()),
                    at.unwrap_or(e.offset),
                    src.into(),
                );
            }
        }
    }

    fn script(&mut self, s: &Script, at: Option<usize>) {
        for p in &s.pipelines {
            for (i, cmd) in p.commands.iter().enumerate() {
                // Expansions run before the command itself.
                let words = cmd
                    .assignments
                    .iter()
                    .map(|(_, w)| w)
                    .chain(&cmd.words)
                    .chain(&cmd.redirects);
                for w in words {
                    for sub in w.subs() {
                        self.depth += 1;
                        self.script(sub, at);
                        self.depth -= 1;
                    }
                }
                for n in &cmd.nested {
                    self.script(n, at);
                }
                if cmd.words.is_empty() {
                    for (name, value) in &cmd.assignments {
                        let feed = self.feed_of_word(value);
                        self.vars.insert(name.clone(), feed);
                    }
                }
                let stdin = (i > 0).then(|| self.feed_of_stages(&p.commands[..i]));
                self.command(cmd, stdin, at);
            }
        }
    }

    fn command(&mut self, cmd: &SimpleCommand, stdin: Option<Feed>, at: Option<usize>) {
        let off = at.unwrap_or(cmd.offset);
        let words = &cmd.words;
        let mut i = 0;
        let mut xargs: Option<Xargs> = None;
        while i < words.len() && !words[i].quoted && RESERVED.contains(&words[i].raw.as_str()) {
            i += 1;
        }
        while i < words.len() {
            let w = &words[i];
            // `PM2=pm2; $PM2 delete all`: a variable bound to one literal word.
            let bound = w.sole_var().and_then(|v| match self.vars.get(v) {
                Some(Feed::Literal(ws)) if ws.len() == 1 => Some(ws[0].clone()),
                _ => None,
            });
            if w.is_dynamic() && bound.is_none() {
                // `$PM2 delete all`: a computed command name; judge by its arguments.
                if words[i..]
                    .iter()
                    .any(|w| w.literal().is_some_and(|t| t.eq_ignore_ascii_case("all")))
                    && words[i..].iter().any(|w| {
                        w.literal()
                            .is_some_and(|t| PM2_TARGET_VERBS.contains(&t.as_str()))
                    })
                {
                    self.push(
                        Class::Dangerous,
                        format!(
                            "command name `{}` is computed at run time and the arguments say `all`",
                            w.raw
                        ),
                        None,
                        off,
                        joined(&words[i..]),
                    );
                }
                return;
            }
            let name = bound.unwrap_or_else(|| lit(w));
            let rest = &words[i + 1..];
            match base(&name) {
                "for" => {
                    self.bind_for(rest);
                    return;
                }
                "case" | "select" => return,
                // `function name { body; }`: check the body as commands.
                "function" => {
                    i += 2;
                    while i < words.len()
                        && !words[i].quoted
                        && RESERVED.contains(&words[i].raw.as_str())
                    {
                        i += 1;
                    }
                }
                "read" => {
                    let feed = stdin
                        .clone()
                        .unwrap_or(Feed::Unknown("standard input".into()));
                    let mut j = 0;
                    while j < rest.len() {
                        let t = lit(&rest[j]);
                        if ["-d", "-p", "-t", "-n", "-N", "-u", "-a", "-i"].contains(&t.as_str()) {
                            j += 2;
                            continue;
                        }
                        if !t.starts_with('-') {
                            self.vars.insert(t, feed.clone());
                        }
                        j += 1;
                    }
                    return;
                }
                "sudo" | "doas" => {
                    i = skip_opts(
                        words,
                        i + 1,
                        &[
                            "-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-c",
                        ],
                    );
                    while i < words.len()
                        && lit(&words[i]).contains('=')
                        && !lit(&words[i]).starts_with('-')
                    {
                        i += 1;
                    }
                }
                "env" => {
                    i += 1;
                    while i < words.len() {
                        let t = lit(&words[i]);
                        if t == "-S" || t == "--split-string" {
                            if let Some(s) = words.get(i + 1) {
                                self.nested(&lit(s), off);
                            }
                            return;
                        } else if t == "-u" || t == "-C" || t == "--unset" || t == "--chdir" {
                            i += 2;
                        } else if t == "--" {
                            i += 1;
                            break;
                        } else if t.starts_with('-') || (t.contains('=') && !t.starts_with('=')) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
                "nohup" | "exec" | "builtin" | "setsid" | "chronic" | "unbuffer" | "time"
                | "nice" | "ionice" | "stdbuf" | "caffeinate" | "flock" => {
                    i = skip_opts(
                        words,
                        i + 1,
                        &["-n", "-c", "-p", "-o", "-e", "-i", "-w", "-E"],
                    );
                    if base(&name) == "flock" && i < words.len() {
                        i += 1; // the lock file
                    }
                }
                "command" => {
                    if rest.iter().any(|w| matches!(lit(w).as_str(), "-v" | "-V")) {
                        return; // lookup, not execution
                    }
                    i = skip_opts(words, i + 1, &[]);
                }
                "timeout" => {
                    i = skip_opts(words, i + 1, &["-s", "-k", "--signal", "--kill-after"]);
                    i += 1; // the duration
                }
                "npx" | "bunx" | "pnpx" => {
                    i += 1;
                    while i < words.len() {
                        let t = lit(&words[i]);
                        if t == "-c" || t == "--call" {
                            if let Some(s) = words.get(i + 1) {
                                self.nested(&lit(s), off);
                            }
                            return;
                        } else if t == "-p" || t == "--package" {
                            i += 2;
                        } else if t.starts_with('-') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
                "npm" | "pnpm" | "yarn" => {
                    let sub = rest.first().map(lit).unwrap_or_default();
                    if ["exec", "x", "dlx"].contains(&sub.as_str()) {
                        i = skip_opts(words, i + 2, &["-p", "--package"]);
                    } else if base(&name) == "yarn" && is_pm2_path(&sub) {
                        i += 1;
                    } else {
                        return;
                    }
                }
                "xargs" => {
                    let (next, replace) = xargs_opts(words, i + 1);
                    let feed = stdin
                        .clone()
                        .unwrap_or(Feed::Unknown("standard input".into()));
                    xargs = Some(Xargs { feed, replace });
                    i = next;
                }
                b if SHELLS.contains(&b) => {
                    self.shell(cmd, &words[i..], off);
                    return;
                }
                "eval" => {
                    let text = rest.iter().map(lit).collect::<Vec<_>>().join(" ");
                    self.nested(&text, off);
                    return;
                }
                "su" | "runuser" => {
                    if let Some(p) = rest
                        .iter()
                        .position(|w| matches!(lit(w).as_str(), "-c" | "--command"))
                    {
                        if let Some(s) = rest.get(p + 1) {
                            self.nested(&lit(s), off);
                        }
                    }
                    return;
                }
                "ssh" => {
                    self.ssh(cmd, rest, off);
                    return;
                }
                "watch" => {
                    let j = skip_opts(rest, 0, &["-n", "--interval", "-d"]);
                    let text = rest[j.min(rest.len())..]
                        .iter()
                        .map(lit)
                        .collect::<Vec<_>>()
                        .join(" ");
                    self.nested(&text, off);
                    return;
                }
                "node" | "nodejs" => {
                    self.node(rest, xargs, off);
                    return;
                }
                "systemctl" | "service" => {
                    self.systemctl(&name, rest, off);
                    return;
                }
                "pkill" | "killall" => {
                    if rest.iter().any(|w| {
                        let t = lit(w).to_ascii_lowercase();
                        !t.starts_with('-') && (t.contains("node") || t.contains("pm2"))
                    }) {
                        self.push(
                            Class::Dangerous,
                            format!("`{}` kills processes by name pattern: every Node app or the PM2 daemon, not one app", joined(&words[i..])),
                            Some(self.alt_for("restart")),
                            off,
                            joined(&words[i..]),
                        );
                    }
                    return;
                }
                "rm" => {
                    if rest.iter().any(|w| {
                        let t = lit(w);
                        let t = t.trim_end_matches('/');
                        t.ends_with(".pm2") || t.contains(".pm2/dump")
                    }) {
                        self.push(
                            Class::Dangerous,
                            "removes PM2's home or saved dump: the saved process list of every app is lost".into(),
                            None,
                            off,
                            joined(&words[i..]),
                        );
                    }
                    return;
                }
                _ if is_pm2_path(&name) => {
                    let text = joined(&words[i..]);
                    self.pm2(rest, xargs.as_ref(), off, text);
                    return;
                }
                _ => return, // echo, grep, curl...: their arguments are data, not commands
            }
        }
    }

    /// Re-parse a string that a wrapper runs as shell code.
    fn nested(&mut self, text: &str, off: usize) {
        self.depth += 1;
        self.source(text, Some(off));
        self.depth -= 1;
    }

    fn shell(&mut self, cmd: &SimpleCommand, words: &[Word], off: usize) {
        let mut j = 1;
        let mut has_c = false;
        while j < words.len() {
            let t = lit(&words[j]);
            if t == "-o" || t == "+o" {
                j += 2;
                continue;
            }
            if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 && !t.starts_with("--") {
                has_c |= t[1..].contains('c');
                j += 1;
                continue;
            }
            if t.starts_with("--") {
                j += 1;
                continue;
            }
            break;
        }
        if has_c {
            match words.get(j) {
                Some(s) if s.is_dynamic() => {
                    self.push(
                        Class::Caution,
                        format!(
                            "`{}` runs shell code computed at run time; the guard cannot check it",
                            words[0].raw
                        ),
                        None,
                        off,
                        joined(words),
                    );
                }
                Some(s) => self.nested(&lit(s), off),
                None => {}
            }
        } else if j >= words.len() || lit(&words[j]) == "-s" {
            // Reads its script from standard input: a here-document is code.
            for body in &cmd.heredocs {
                self.nested(body, off);
            }
        }
    }

    fn ssh(&mut self, cmd: &SimpleCommand, rest: &[Word], off: usize) {
        const VAL: &[&str] = &[
            "-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-e", "-m", "-O",
            "-S", "-W", "-w", "-E", "-B", "-Q",
        ];
        let j = skip_opts(rest, 0, VAL);
        if j + 1 < rest.len() {
            let text = rest[j + 1..].iter().map(lit).collect::<Vec<_>>().join(" ");
            self.nested(&text, off);
        } else {
            for body in &cmd.heredocs {
                self.nested(body, off);
            }
        }
    }

    fn node(&mut self, rest: &[Word], xargs: Option<Xargs>, off: usize) {
        let mut j = 0;
        while j < rest.len() {
            let t = lit(&rest[j]);
            if ["-e", "--eval", "-p", "--print"].contains(&t.as_str()) {
                if let Some(code) = rest.get(j + 1) {
                    for mut f in super::js::scan(&lit(code), self.ctx) {
                        f.offset = off;
                        self.findings.push(f);
                    }
                }
                return;
            }
            if t.starts_with('-') {
                j += 1;
                continue;
            }
            // `node ./node_modules/pm2/bin/pm2 delete all`
            if is_pm2_path(&t) {
                let text = format!("pm2 {}", joined(&rest[j + 1..]));
                self.pm2(&rest[j + 1..], xargs.as_ref(), off, text);
            }
            return;
        }
    }

    fn systemctl(&mut self, name: &str, rest: &[Word], off: usize) {
        let args: Vec<String> = rest
            .iter()
            .map(lit)
            .filter(|t| !t.starts_with('-'))
            .collect();
        let (verb, units): (Option<&String>, Vec<&String>) = if base(name) == "service" {
            (args.get(1), args.first().into_iter().collect())
        } else {
            (args.first(), args.iter().skip(1).collect())
        };
        let stops = verb.is_some_and(|v| {
            [
                "stop",
                "restart",
                "kill",
                "disable",
                "mask",
                "reload",
                "try-restart",
            ]
            .contains(&v.as_str())
        });
        if stops
            && units
                .iter()
                .any(|u| u.to_ascii_lowercase().starts_with("pm2"))
        {
            self.push(
                Class::Dangerous,
                "stopping or restarting the PM2 service affects every app PM2 runs on this server"
                    .into(),
                Some(self.alt_for("restart")),
                off,
                format!("{name} {}", joined(rest)),
            );
        }
    }

    fn bind_for(&mut self, rest: &[Word]) {
        let Some(var) = rest.first().and_then(|w| w.literal()) else {
            return;
        };
        let list: Vec<&Word> = match rest.get(1).and_then(|w| w.literal()) {
            Some(t) if t == "in" => rest[2..].iter().collect(),
            _ => vec![],
        };
        let feed = match list.iter().find(|w| w.is_dynamic()) {
            Some(w) => self.feed_of_word(w),
            None => Feed::Literal(list.iter().map(|w| lit(w)).collect()),
        };
        self.vars.insert(var, feed);
    }
}

/// Skip option words starting at `i`; options in `with_value` take the next word.
pub(super) fn skip_opts(words: &[Word], mut i: usize, with_value: &[&str]) -> usize {
    while i < words.len() {
        let t = lit(&words[i]);
        if t == "--" {
            return i + 1;
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        i += if with_value.contains(&t.as_str()) {
            2
        } else {
            1
        };
    }
    i
}

/// xargs options: returns the index of the command and the replace string.
fn xargs_opts(words: &[Word], mut i: usize) -> (usize, Option<String>) {
    let mut replace = None;
    while i < words.len() {
        let t = lit(&words[i]);
        if t == "--" {
            return (i + 1, replace);
        }
        if !t.starts_with('-') {
            break;
        }
        if t == "-I" {
            replace = words.get(i + 1).map(lit);
            i += 2;
        } else if let Some(r) = t.strip_prefix("--replace=") {
            replace = Some(r.to_string());
            i += 1;
        } else if t == "-i" || t == "--replace" {
            replace = Some("{}".into());
            i += 1;
        } else if let Some(r) = t.strip_prefix("-I").or_else(|| t.strip_prefix("-i")) {
            replace = Some(r.to_string());
            i += 1;
        } else if [
            "-n",
            "-L",
            "-P",
            "-s",
            "-d",
            "-E",
            "-a",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
        ]
        .contains(&t.as_str())
        {
            i += 2;
        } else {
            i += 1;
        }
    }
    (i, replace)
}
