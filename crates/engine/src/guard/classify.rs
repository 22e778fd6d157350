//! Classify a shell command line: walk the parsed script, find every PM2
//! invocation (through wrappers, `sh -c`, substitutions, `xargs`, loops), and
//! hand it to `pm2` for judging against the runbook's patterns. Pure.

use std::collections::HashMap;

use super::pm2::PM2_TARGET_VERBS;
use super::shell::{self, Heredoc, Pipeline, Script, SimpleCommand, SrcMap, Word};
use super::verdict::{Class, Feed, Finding, GuardContext, Verdict};

/// Classify one command line (or script).
pub fn classify(line: &str, ctx: &GuardContext) -> Verdict {
    verdict_of(&analyze(line, ctx, &HashMap::new()))
}

/// Every finding in `src`, with variables pre-bound to feeds (used by the JS lint).
pub fn analyze(src: &str, ctx: &GuardContext, vars: &HashMap<String, Feed>) -> Vec<Finding> {
    let mut w = Walker::new(ctx, vars.clone());
    w.source(src, &SrcMap::From(0));
    // A function body is walked at its definition and at each call: one finding each.
    let mut seen = std::collections::HashSet::new();
    let mut findings: Vec<Finding> = w
        .findings
        .into_iter()
        .filter(|f| seen.insert((f.offset, f.class, f.reason.clone(), f.command.clone())))
        .collect();
    super::daemon::apply(&mut findings, ctx);
    findings
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
    "esac", "coproc",
];

/// What a command reads on standard input.
#[derive(Debug, Clone)]
pub(super) enum Input {
    /// Text the guard can read (a here-document, a here-string, `echo '…' |`).
    Text(String, SrcMap),
    /// A file or another program's output: the description says which.
    Opaque(String),
    /// Nothing redirected: the terminal, or whatever the caller connected.
    Terminal,
}

pub(super) struct Walker<'c> {
    pub(super) ctx: &'c GuardContext,
    pub(super) vars: HashMap<String, Feed>,
    pub(super) findings: Vec<Finding>,
    pub(super) depth: usize,
    /// Functions defined so far: body and the source level it was parsed at.
    pub(super) funcs: HashMap<String, (Script, usize)>,
    /// Positional arguments while a function call is walked.
    pub(super) args: Option<Vec<Word>>,
    /// Inside a function definition: `$1`... are judged at the call sites.
    pub(super) in_def: usize,
    /// Functions being called (recursion stops here).
    pub(super) calls: Vec<String>,
    /// Standard input of the text being walked (`ssh host bash -s <<EOF`).
    pub(super) input: Input,
    /// Which parsed source the current offsets belong to.
    pub(super) level: usize,
    levels: usize,
    /// Where the current text's bytes sit in the analysed source.
    abs: SrcMap,
    /// Which findings already carry offsets in the analysed source.
    done: Vec<bool>,
    /// Function calls left to walk (a hostile script cannot make it exponential).
    call_budget: usize,
    /// What the `while`/`until` loop being entered reads on stdin.
    loop_feed: Option<Feed>,
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

/// Positional parameters: judged where the function is called.
fn is_positional(v: &str) -> bool {
    v == "@" || v == "*" || (v.len() == 1 && v.as_bytes()[0].is_ascii_digit() && v != "0")
}

impl<'c> Walker<'c> {
    pub(super) fn new(ctx: &'c GuardContext, vars: HashMap<String, Feed>) -> Self {
        Walker {
            ctx,
            vars,
            findings: vec![],
            depth: 0,
            funcs: HashMap::new(),
            args: None,
            in_def: 0,
            calls: vec![],
            input: Input::Terminal,
            level: 0,
            levels: 0,
            abs: SrcMap::From(0),
            done: vec![],
            call_budget: 256,
            loop_feed: None,
        }
    }

    /// A map into the current text, re-expressed into the analysed source.
    pub(super) fn to_abs(&self, map: &SrcMap, len: usize) -> SrcMap {
        match (&self.abs, map) {
            (SrcMap::From(0), m) => m.clone(),
            (SrcMap::From(a), SrcMap::From(b)) => SrcMap::From(a + b),
            (a, m) => SrcMap::Each((0..len).map(|i| a.at(m.at(i))).collect()),
        }
    }

    fn sync_done(&mut self) {
        self.done.resize(self.findings.len(), false);
    }

    /// Drop finding `k` (keeping the bookkeeping in step).
    pub(super) fn remove_finding(&mut self, k: usize) {
        self.sync_done();
        self.findings.remove(k);
        self.done.remove(k);
    }

    /// Give findings `n0..` of the current text (not those already placed) `offset`.
    fn pin(&mut self, n0: usize, offset: usize) {
        self.sync_done();
        for k in n0..self.findings.len() {
            self.findings[k].offset = offset;
            self.done[k] = false;
        }
    }

    pub(super) fn push(
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

    /// "runs code the guard cannot read": the floor for anything it cannot see into.
    pub(super) fn unreadable(&mut self, what: String, offset: usize, command: String) {
        self.push(
            Class::Caution,
            format!("{what}: runs code the guard cannot read"),
            Some("run the commands themselves, one by one, so each can be checked".into()),
            offset,
            command,
        );
    }

    /// Parse and walk a source string whose byte `i` sits at `map.at(i)` in the
    /// analysed source.
    pub(super) fn source(&mut self, src: &str, map: &SrcMap) {
        let n0 = self.findings.len();
        let saved_abs = std::mem::replace(&mut self.abs, map.clone());
        if self.depth > 16 {
            self.push(
                Class::Caution,
                "commands nested too deeply to check".into(),
                None,
                0,
                src.into(),
            );
        } else {
            match shell::parse(src) {
                Ok(script) => {
                    let saved = self.level;
                    self.levels += 1;
                    self.level = self.levels;
                    self.depth += 1;
                    self.script(&script);
                    self.depth -= 1;
                    self.level = saved;
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
                        e.offset,
                        src.into(),
                    );
                }
            }
        }
        self.sync_done();
        for k in n0..self.findings.len() {
            if !self.done[k] {
                self.findings[k].offset = self.abs.at(self.findings[k].offset);
                self.done[k] = true;
            }
        }
        self.abs = saved_abs;
    }

    /// Walk shell text that another shell will run, reading `input` on stdin;
    /// `map` places the text in the current text.
    pub(super) fn nested(&mut self, text: &str, map: &SrcMap, input: Input) {
        let abs = self.to_abs(map, text.len());
        self.nested_abs(text, &abs, input);
    }

    /// The same with `map` into the analysed source (text from an `Input`).
    pub(super) fn nested_abs(&mut self, text: &str, map: &SrcMap, input: Input) {
        let saved = std::mem::replace(&mut self.input, input);
        self.depth += 1;
        self.source(text, map);
        self.depth -= 1;
        self.input = saved;
    }

    /// The shell text a word hands on, resolving function arguments and
    /// variables bound to literal words. `None`: a positional parameter inside
    /// a function definition (judged at each call instead).
    pub(super) fn text_of(&self, w: &Word) -> Option<(String, SrcMap)> {
        if let Some(v) = w.sole_var() {
            if is_positional(v) {
                if let Some(args) = &self.args {
                    let picked: Vec<&Word> = match v.parse::<usize>() {
                        Ok(n) => args.get(n - 1).into_iter().collect(),
                        Err(_) => args.iter().collect(),
                    };
                    return Some(join_texts(&picked));
                }
                if self.in_def > 0 {
                    return None;
                }
            }
            if let Some(Feed::Literal(ws)) = self.vars.get(v) {
                let t = ws.join(" ");
                let n = t.len();
                return Some((t, SrcMap::Each(vec![w.offset; n])));
            }
        }
        Some(w.shell_text())
    }

    /// The shell text of several words joined by spaces (`ssh host cd /x && y`).
    pub(super) fn text_of_words(&self, words: &[Word]) -> Option<(String, SrcMap)> {
        let mut text = String::new();
        let mut at = vec![];
        for (k, w) in words.iter().enumerate() {
            let (t, m) = self.text_of(w)?;
            if k > 0 {
                text.push(' ');
                at.push(w.offset.saturating_sub(1));
            }
            at.extend((0..t.len()).map(|i| m.at(i)));
            text.push_str(&t);
        }
        Some((text, SrcMap::Each(at)))
    }

    fn script(&mut self, s: &Script) {
        for (k, p) in s.pipelines.iter().enumerate() {
            // `while read p; do ...; done < <(pgrep node)`: the loop reads what
            // its `done` is fed.
            if let Some(feed) = loop_input(&s.pipelines[k..]) {
                let feed = self.feed_of_word(feed);
                self.loop_feed = Some(feed);
            }
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
                        self.script(sub);
                        self.depth -= 1;
                    }
                }
                for h in cmd.heredocs.iter().filter(|h| h.expands) {
                    self.heredoc_expansions(h);
                }
                if let Some(name) = &cmd.defines {
                    // A definition runs nothing yet; its body is checked now
                    // (positional parameters at each call) and kept for the calls.
                    if let Some(body) = cmd.nested.last() {
                        self.funcs.insert(name.clone(), (body.clone(), self.level));
                        self.in_def += 1;
                        self.script(body);
                        self.in_def -= 1;
                    }
                    continue;
                }
                for n in &cmd.nested {
                    self.script(n);
                }
                if cmd.words.is_empty() {
                    for (name, value) in &cmd.assignments {
                        let feed = self.feed_of_word(value);
                        self.vars.insert(name.clone(), feed);
                    }
                }
                let stdin = (i > 0).then(|| self.feed_of_stages(&p.commands[..i]));
                let input = self.input_of(cmd, (i > 0).then(|| &p.commands[i - 1]));
                self.state_redirects(cmd);
                self.run(cmd, &cmd.words, stdin, &input, None);
            }
        }
    }

    fn heredoc_expansions(&mut self, h: &Heredoc) {
        let n0 = self.findings.len();
        match shell::expansions(&h.body) {
            Ok(subs) => {
                for sub in &subs {
                    self.depth += 1;
                    self.script(sub);
                    self.depth -= 1;
                }
            }
            Err(e) => self.push(
                Class::Caution,
                format!(
                    "cannot parse a `$(...)` in a here-document: {}; the guard cannot tell what it runs",
                    e.message
                ),
                None,
                e.offset,
                h.body.lines().next().unwrap_or_default().to_string(),
            ),
        }
        self.sync_done();
        for k in n0..self.findings.len() {
            if !self.done[k] {
                self.findings[k].offset = h.map.at(self.findings[k].offset);
            }
        }
    }

    /// Standard input of `cmd`: its own here-document or redirection, else the
    /// previous pipeline stage, else what the enclosing text was given.
    fn input_of(&self, cmd: &SimpleCommand, prev: Option<&SimpleCommand>) -> Input {
        if let Some(h) = cmd.heredocs.last() {
            let (text, map) = h.text();
            let map = self.to_abs(&map, text.len());
            return Input::Text(text, map);
        }
        if let Some(f) = cmd.stdin_files.last() {
            return Input::Opaque(format!("the file `{}`", f.raw));
        }
        match prev {
            Some(p) => self.stage_output(p),
            None => self.input.clone(),
        }
    }

    /// Judge the words of one command (after wrappers have been peeled off).
    pub(super) fn run(
        &mut self,
        cmd: &SimpleCommand,
        words: &[Word],
        stdin: Option<Feed>,
        input: &Input,
        mut xargs: Option<Xargs>,
    ) {
        let mut i = 0;
        while i < words.len() && !words[i].quoted && RESERVED.contains(&words[i].raw.as_str()) {
            i += 1;
        }
        // The command itself, not the `do`/`then` before it.
        let off = words
            .get(i)
            .or(words.first())
            .map(|w| w.offset)
            .unwrap_or(cmd.offset);
        while i < words.len() {
            let w = &words[i];
            match self.command_from_var(w, &words[i + 1..]) {
                Some(Some(expanded)) => return self.run(cmd, &expanded, stdin, input, xargs),
                Some(None) => return,
                None => {}
            }
            if w.is_dynamic() {
                self.computed_name(&words[i..], off);
                return;
            }
            let name = lit(w);
            let rest = &words[i + 1..];
            // Writing onto PM2's saved list or home, whatever else the program does.
            self.state_writes(base(&name), &words[i..], off);
            match base(&name) {
                "for" => {
                    self.bind_for(rest);
                    return;
                }
                "case" | "select" | "function" => return,
                "read" => {
                    self.bind_read(rest, &stdin);
                    return;
                }
                "command" => {
                    if rest.iter().any(|w| matches!(lit(w).as_str(), "-v" | "-V")) {
                        return; // lookup, not execution
                    }
                    i = skip_opts(words, i + 1, &[]);
                }
                "npx" | "bunx" | "pnpx" => match self.npx_target(words, i + 1, input) {
                    Some(next) => i = next,
                    None => return,
                },
                "npm" | "pnpm" | "yarn" => match package_exec_target(base(&name), words, i) {
                    Some(next) => i = next,
                    None => return,
                },
                "xargs" => {
                    let (next, replace) = xargs_opts(words, i + 1);
                    let feed = stdin
                        .clone()
                        .unwrap_or(Feed::Unknown("standard input".into()));
                    xargs = Some(Xargs { feed, replace });
                    i = next;
                }
                "eval" => {
                    if let Some((text, map)) = self.text_of_words(rest) {
                        self.nested(&text, &map, input.clone());
                    }
                    return;
                }
                "node" | "nodejs" => {
                    self.node(rest, xargs, input, off);
                    return;
                }
                "systemctl" | "service" => {
                    self.systemctl(&name, rest, off);
                    return;
                }
                "rm" => {
                    self.rm(&words[i..], off);
                    return;
                }
                "find" => {
                    self.find(cmd, &words[i..], off);
                    return;
                }
                "git" => {
                    self.git(cmd, &words[i..], input, off);
                    return;
                }
                k if super::kill::is_kill(k) => {
                    self.kill(&words[i..], xargs.as_ref(), off);
                    return;
                }
                _ if is_pm2_path(&name) => {
                    let text = joined(&words[i..]);
                    self.pm2(rest, xargs.as_ref(), off, text);
                    return;
                }
                b if self.funcs.contains_key(b) && !self.calls.iter().any(|c| c == b) => {
                    self.call(b.to_string(), rest, off);
                    return;
                }
                b => match super::runners::lookup(b, rest) {
                    Some(r) => match self.runner(r, &words[i..], input, xargs.as_ref(), off) {
                        Some(next) => i += next,
                        None => return,
                    },
                    // echo, grep, curl...: their arguments are data, not commands
                    None => return,
                },
            }
        }
    }

    /// The command a variable in command position stands for: `"$@"` in a function (the
    /// call's arguments), or a literal value split into words (`CMD="pm2 delete all"; $CMD`),
    /// followed by `rest`. `Some(None)`: positional arguments not known here (judged where
    /// the function is called); `None`: not such a variable.
    fn command_from_var(&self, w: &Word, rest: &[Word]) -> Option<Option<Vec<Word>>> {
        let v = w.sole_var()?;
        if is_positional(v) && (self.args.is_some() || self.in_def > 0) {
            let Some(args) = self.args.clone() else {
                return Some(None);
            };
            let mut expanded: Vec<Word> = match v.parse::<usize>() {
                Ok(n) => args.get(n - 1).cloned().into_iter().collect(),
                Err(_) => args,
            };
            expanded.extend(rest.iter().cloned());
            return Some(Some(expanded));
        }
        match self.vars.get(v) {
            Some(Feed::Literal(ws)) if !ws.is_empty() && (!w.quoted || ws.len() == 1) => {
                let mut expanded: Vec<Word> =
                    ws.iter().map(|t| Word::synthetic(t, w.offset)).collect();
                expanded.extend(rest.iter().cloned());
                Some(Some(expanded))
            }
            _ => None,
        }
    }

    /// `read` binds its variable names to what it reads: the pipeline's input, else the
    /// enclosing loop's, else unknown standard input.
    fn bind_read(&mut self, rest: &[Word], stdin: &Option<Feed>) {
        let feed = stdin
            .clone()
            .or_else(|| self.loop_feed.take())
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
    }

    /// Where the command `npx` runs starts, its options skipped from `i`; `None` when there
    /// is nothing more to judge here (`-c TEXT` is judged as a nested script).
    fn npx_target(&mut self, words: &[Word], mut i: usize, input: &Input) -> Option<usize> {
        while i < words.len() {
            let t = lit(&words[i]);
            if t == "-c" || t == "--call" {
                if let Some((text, map)) = words.get(i + 1).and_then(|s| self.text_of(s)) {
                    self.nested(&text, &map, input.clone());
                }
                return None;
            } else if t == "-p" || t == "--package" {
                i += 2;
            } else if t.starts_with('-') {
                i += 1;
            } else {
                break;
            }
        }
        Some(i)
    }

    /// `rm` of PM2's home or saved dump.
    fn rm(&mut self, words: &[Word], off: usize) {
        if words[1..]
            .iter()
            .any(|w| super::pm2_state::is_state_path(&lit(w)))
        {
            self.push(
                Class::Dangerous,
                "removes PM2's home or saved dump: the saved process list of every app is lost"
                    .into(),
                None,
                off,
                joined(words),
            );
        }
    }

    /// A command name computed at run time (`$CMD args`).
    fn computed_name(&mut self, words: &[Word], off: usize) {
        let w = &words[0];
        if w.sole_var().is_some_and(is_positional) && self.in_def > 0 {
            return; // judged where the function is called
        }
        if words
            .iter()
            .any(|w| w.literal().is_some_and(|t| t.eq_ignore_ascii_case("all")))
            && words.iter().any(|w| {
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
                joined(words),
            );
            return;
        }
        self.unreadable(
            format!("the command name `{}` is computed at run time", w.raw),
            off,
            joined(words),
        );
    }

    /// A call of a function defined earlier: its body with these arguments.
    fn call(&mut self, name: String, args: &[Word], off: usize) {
        let Some((body, level)) = self.funcs.get(&name).cloned() else {
            return;
        };
        if self.calls.len() >= 8 || self.call_budget == 0 {
            self.push(
                Class::Caution,
                format!("`{name}`: function calls nested too deeply to check"),
                None,
                off,
                name,
            );
            return;
        }
        self.call_budget -= 1;
        let n0 = self.findings.len();
        self.calls.push(name);
        let saved_args = self.args.replace(args.to_vec());
        let saved_def = std::mem::replace(&mut self.in_def, 0);
        let keys: Vec<String> = (1..=args.len().min(9))
            .map(|n| n.to_string())
            .chain(["@".to_string(), "*".to_string()])
            .collect();
        let saved_vars: Vec<(String, Option<Feed>)> = keys
            .iter()
            .map(|k| (k.clone(), self.vars.get(k).cloned()))
            .collect();
        for (n, a) in args.iter().take(9).enumerate() {
            let feed = self.feed_of_word(a);
            self.vars.insert((n + 1).to_string(), feed);
        }
        let all = if args.iter().all(|a| !a.is_dynamic()) {
            Feed::Literal(args.iter().map(lit).collect())
        } else {
            Feed::Unknown("the function's arguments".into())
        };
        self.vars.insert("@".into(), all.clone());
        self.vars.insert("*".into(), all);
        self.depth += 1;
        self.script(&body);
        self.depth -= 1;
        for (k, v) in saved_vars {
            match v {
                Some(v) => self.vars.insert(k, v),
                None => self.vars.remove(&k),
            };
        }
        self.in_def = saved_def;
        self.args = saved_args;
        self.calls.pop();
        if level != self.level {
            // Defined in another piece of text: its offsets mean nothing here.
            self.pin(n0, off);
        }
    }

    fn node(&mut self, rest: &[Word], xargs: Option<Xargs>, input: &Input, off: usize) {
        let mut j = 0;
        while j < rest.len() {
            let t = lit(&rest[j]);
            if ["-e", "--eval", "-p", "--print"].contains(&t.as_str()) {
                if let Some(code) = rest.get(j + 1) {
                    let (text, map) = code.shell_text();
                    for mut f in super::js::scan(&text, self.ctx) {
                        f.offset = map.at(f.offset);
                        self.findings.push(f);
                    }
                }
                return;
            }
            if ["-v", "--version", "-h", "--help"].contains(&t.as_str()) {
                return;
            }
            if ["-r", "--require", "--import", "--loader", "--env-file"].contains(&t.as_str()) {
                j += 2;
                continue;
            }
            if t.starts_with('-') {
                j += 1;
                continue;
            }
            // `node ./node_modules/pm2/bin/pm2 delete all`
            if is_pm2_path(&t) {
                let text = format!("pm2 {}", joined(&rest[j + 1..]));
                self.pm2(&rest[j + 1..], xargs.as_ref(), off, text);
            } else {
                self.unreadable(
                    format!("`node {}` runs a JavaScript file", rest[j].raw),
                    off,
                    format!("node {}", joined(rest)),
                );
            }
            return;
        }
        // `node` reading its program from standard input.
        self.interpreter_input("node", input, off);
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

/// Words' shell texts joined by spaces, with their source map.
fn join_texts(words: &[&Word]) -> (String, SrcMap) {
    let mut text = String::new();
    let mut at = vec![];
    for (k, w) in words.iter().enumerate() {
        let (t, m) = w.shell_text();
        if k > 0 {
            text.push(' ');
            at.push(w.offset.saturating_sub(1));
        }
        at.extend((0..t.len()).map(|i| m.at(i)));
        text.push_str(&t);
    }
    (text, SrcMap::Each(at))
}

/// For pipelines starting with a `while`/`until` loop: the word its matching
/// `done` reads from (`done < file`, `done < <(cmd)`).
fn loop_input(pipelines: &[Pipeline]) -> Option<&Word> {
    let first = |p: &Pipeline| {
        p.commands
            .first()
            .and_then(|c| c.words.first())
            .filter(|w| !w.quoted)
            .map(|w| w.raw.clone())
    };
    if !matches!(first(&pipelines[0]).as_deref(), Some("while" | "until")) {
        return None;
    }
    let mut depth = 0usize;
    // Bounded look-ahead: a file of unclosed loops must not make this quadratic.
    for p in pipelines.iter().take(2000) {
        for c in &p.commands {
            for w in c.words.iter().filter(|w| !w.quoted) {
                match w.raw.as_str() {
                    "while" | "until" | "for" | "select" => depth += 1,
                    "done" => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return c.stdin_files.last();
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

/// Where the command a package manager runs starts (`npm exec`, `pnpm dlx`, `yarn x`;
/// `yarn pm2 ...` runs pm2), `words[i]` being the manager; `None` for its other subcommands
/// (their arguments are not commands).
fn package_exec_target(manager: &str, words: &[Word], i: usize) -> Option<usize> {
    let sub = words.get(i + 1).map(lit).unwrap_or_default();
    if ["exec", "x", "dlx"].contains(&sub.as_str()) {
        Some(skip_opts(words, i + 2, &["-p", "--package"]))
    } else if manager == "yarn" && is_pm2_path(&sub) {
        Some(i + 1)
    } else {
        None
    }
}
