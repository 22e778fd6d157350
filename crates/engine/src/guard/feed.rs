//! Where computed targets come from: pipeline stages, `$(...)`, variables
//! bound by assignments, `for` and `read`. A PM2 list without a name filter is
//! the runbook's dangerous pattern.

use super::classify::{base, is_pm2_path, joined, lit, Input, Walker};
use super::js;
use super::kill::pattern_scope;
use super::names::{jq_name_filter, STATUS_WORDS};
use super::shell::{Script, SimpleCommand, SrcMap, Word};
use super::verdict::{Feed, NameFilter, ProcSet};

const PM2_LIST_VERBS: &[&str] = &["jlist", "list", "ls", "l", "ps", "status", "prettylist"];

impl Walker<'_> {
    pub(super) fn feed_of_word(&self, w: &Word) -> Feed {
        if let Some(v) = w.sole_var() {
            return self
                .vars
                .get(v)
                .cloned()
                .unwrap_or_else(|| Feed::Unknown(format!("${v}")));
        }
        if let Some(sub) = w.subs().next() {
            return self.feed_of_script(sub);
        }
        match w.literal() {
            Some(t) => Feed::Literal(t.split_whitespace().map(String::from).collect()),
            None => Feed::Unknown(w.raw.clone()),
        }
    }

    pub(super) fn feed_of_script(&self, s: &Script) -> Feed {
        match s.pipelines.last() {
            Some(p) => self.feed_of_stages(&p.commands),
            None => Feed::Unknown("an empty command".into()),
        }
    }

    /// What a pipeline prefix writes to stdout, as a target source.
    pub(super) fn feed_of_stages(&self, stages: &[SimpleCommand]) -> Feed {
        let mut source: Option<Feed> = None;
        let mut filter: Option<NameFilter> = None;
        for st in stages {
            let (name, args) = effective(&st.words);
            let args_lit: Vec<String> = args.iter().map(lit).collect();
            match name.as_str() {
                n if is_pm2_path(n) => {
                    let out = pm2_output(&args_lit, &st.words);
                    if matches!(out, Feed::PmList { .. }) {
                        filter = None;
                    }
                    source = Some(out);
                }
                "echo" | "printf" if args.iter().all(|w| !w.is_dynamic()) => {
                    let words: Vec<String> = args_lit
                        .iter()
                        .filter(|a| !a.starts_with('-'))
                        .flat_map(|a| a.split_whitespace().map(String::from).collect::<Vec<_>>())
                        .collect();
                    source = Some(Feed::Literal(words));
                }
                "cat" if args_lit.iter().any(|a| is_pm2_pid_file(a)) => {
                    source = Some(Feed::Procs(ProcSet::Pm2Daemon));
                }
                "pgrep" | "pidof" | "ps" | "lsof" | "fuser" => {
                    source = Some(Feed::Procs(processes_listed(&name, &args_lit, &st.words)));
                }
                "grep" | "egrep" | "fgrep" | "rg" | "awk" | "gawk" | "mawk"
                    if matches!(source, Some(Feed::Procs(_))) =>
                {
                    if let (Some(Feed::Procs(set)), Some(p)) =
                        (&source, process_pattern(&name, &args_lit))
                    {
                        source = Some(Feed::Procs(narrow(set, &pattern_scope(&p))));
                    }
                }
                "grep" | "egrep" | "fgrep" | "rg" | "jq" | "gojq" | "jaq" | "node" | "nodejs"
                | "awk" | "gawk" | "mawk" => {
                    if let Some(f) = list_name_filter(&name, &args_lit) {
                        filter = Some(f);
                    }
                    source.get_or_insert(Feed::Unknown(format!("`{}`", joined(&st.words))));
                }
                "head" | "tail" | "sort" | "uniq" | "cut" | "tr" | "sed" | "tee" | "column"
                | "cat" | "xargs"
                    if source.is_some() => {}
                _ => {
                    source = Some(Feed::Unknown(format!(
                        "the output of `{}`",
                        joined(&st.words)
                    )))
                }
            }
        }
        match source {
            Some(Feed::PmList { .. }) => Feed::PmList { filter },
            Some(f) => f,
            None => Feed::Unknown("standard input".into()),
        }
    }
}

/// What a `pm2` stage writes: `pm2 pid NAME` that app's pids (no name: every app's), a
/// listing (`jlist`, `ls`...) the process list, anything else unknown output.
fn pm2_output(args_lit: &[String], words: &[Word]) -> Feed {
    let verb = args_lit.iter().find(|a| !a.starts_with('-'));
    if verb.is_some_and(|v| v == "pid") {
        let names: Vec<&String> = args_lit
            .iter()
            .filter(|a| !a.starts_with('-'))
            .skip(1)
            .collect();
        Feed::Procs(match names.first() {
            Some(n) if n.as_str() != "all" => ProcSet::Pattern(n.to_string()),
            _ => ProcSet::AllNode,
        })
    } else if verb.is_some_and(|v| PM2_LIST_VERBS.contains(&v.as_str())) {
        Feed::PmList { filter: None }
    } else {
        Feed::Unknown(format!("the output of `{}`", joined(words)))
    }
}

/// The processes a listing stage prints: `pgrep`/`pidof` what they match, `ps` every
/// process, `lsof`/`fuser` what holds a port (or whatever else they were given).
fn processes_listed(name: &str, args_lit: &[String], words: &[Word]) -> ProcSet {
    match name {
        "pgrep" | "pidof" => pid_lookup(name, args_lit),
        "ps" => ProcSet::Everything,
        _ => {
            let port = args_lit
                .iter()
                .find(|a| a.contains(':') || a.ends_with("/tcp") || a.ends_with("/udp"));
            match port {
                Some(p) => ProcSet::Port(p.trim_start_matches("-i").to_string()),
                None => ProcSet::Pattern(joined(words)),
            }
        }
    }
}

/// `grep`'s pattern: the value of `-e`, else the first non-option argument.
fn grep_pattern(args_lit: &[String]) -> Option<&String> {
    args_lit
        .iter()
        .position(|a| a == "-e")
        .and_then(|p| args_lit.get(p + 1))
        .or_else(|| args_lit.iter().find(|a| !a.starts_with('-')))
}

/// The pattern a `grep` or `awk` stage narrows a process listing by (`ps aux | grep
/// node`); `None` when it does not narrow it (an inverted grep, an awk without one).
fn process_pattern(name: &str, args_lit: &[String]) -> Option<String> {
    if name.ends_with("awk") {
        let prog = args_lit.iter().find(|a| !a.starts_with('-'))?;
        return awk_pattern(prog);
    }
    let inverted = args_lit
        .iter()
        .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('v'));
    if inverted {
        return None;
    }
    grep_pattern(args_lit).cloned()
}

/// The name filter a text filter applies to a PM2 listing: `grep NAME` (not a status word,
/// not inverted), a `jq` select on `.name`, a `node -e` program, an `awk` match on a field.
fn list_name_filter(name: &str, args_lit: &[String]) -> Option<NameFilter> {
    match name {
        "jq" | "gojq" | "jaq" => jq_program(args_lit).and_then(jq_name_filter),
        "node" | "nodejs" => {
            let p = args_lit
                .iter()
                .position(|a| a == "-e" || a == "--eval" || a == "-p")?;
            args_lit.get(p + 1).and_then(|c| js::name_filter(c))
        }
        "awk" | "gawk" | "mawk" => {
            let p = args_lit.iter().find(|a| !a.starts_with('-'))?;
            ((p.contains("~ /") || p.contains("~/") || p.contains("== \"")) && !p.contains("!~"))
                .then(|| NameFilter {
                    explicit: p.contains("== \""),
                    text: format!("awk {p}"),
                })
        }
        _ => {
            let inverted = args_lit
                .iter()
                .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('v'))
                || args_lit.iter().any(|a| a == "--invert-match");
            let p = grep_pattern(args_lit)?;
            (!inverted && !STATUS_WORDS.iter().any(|s| p.contains(s))).then(|| NameFilter {
                explicit: false,
                text: format!("grep {p}"),
            })
        }
    }
}

/// The jq program: the first non-option argument (skipping `--arg NAME VALUE`).
fn jq_program(args: &[String]) -> Option<&str> {
    let mut j = 0;
    while j < args.len() {
        let a = args[j].as_str();
        if ["--arg", "--argjson", "--slurpfile", "--rawfile"].contains(&a) {
            j += 3;
        } else if a == "-f" || a == "--from-file" || a == "--indent" {
            j += 2;
        } else if a.starts_with('-') {
            j += 1;
        } else {
            return Some(a);
        }
    }
    None
}

/// Command name and arguments after common wrappers (for pipeline-stage analysis).
fn effective(words: &[Word]) -> (String, &[Word]) {
    let mut i = 0;
    while i < words.len() {
        let t = lit(&words[i]);
        match base(&t) {
            "sudo" | "env" | "nohup" | "command" | "npx" | "exec" | "time" => {
                i += 1;
                while i < words.len() {
                    let t = lit(&words[i]);
                    if t == "-u" || t == "-p" {
                        i += 2;
                    } else if t.starts_with('-') || t.contains('=') {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            b => {
                let b = if is_pm2_path(&t) {
                    "pm2".to_string()
                } else {
                    b.to_string()
                };
                return (b, &words[i + 1..]);
            }
        }
    }
    (String::new(), &[])
}

/// `cat ~/.pm2/pm2.pid`, `$PM2_HOME/pm2.pid`: the daemon's pid file.
pub(super) fn is_pm2_pid_file(path: &str) -> bool {
    path.trim_end_matches(['"', '\'']).ends_with("pm2.pid")
}

/// `pgrep [-f] PATTERN`, `pidof NAME`: which processes the pids belong to.
fn pid_lookup(name: &str, args: &[String]) -> ProcSet {
    let mut user = None;
    let mut pats = vec![];
    let mut j = 0;
    while j < args.len() {
        let a = &args[j];
        if ["-u", "-U", "--euid", "--uid"].contains(&a.as_str()) {
            user = args.get(j + 1).cloned();
            j += 2;
            continue;
        }
        if [
            "-g",
            "-G",
            "-P",
            "-s",
            "-t",
            "-F",
            "--pidfile",
            "-d",
            "--delimiter",
            "-o",
        ]
        .contains(&a.as_str())
        {
            j += 2;
            continue;
        }
        if !a.starts_with('-') {
            pats.push(a.clone());
        }
        j += 1;
    }
    let _ = name;
    match (pats.first(), user) {
        (Some(p), _) => pats
            .iter()
            .skip(1)
            .fold(pattern_scope(p), |acc, q| widest(acc, pattern_scope(q))),
        (None, Some(u)) => ProcSet::User(u),
        (None, None) => ProcSet::Everything,
    }
}

/// The wider of two process sets (several patterns: any of them).
fn widest(a: ProcSet, b: ProcSet) -> ProcSet {
    fn rank(s: &ProcSet) -> u8 {
        match s {
            ProcSet::Everything | ProcSet::User(_) => 3,
            ProcSet::AllNode | ProcSet::Pm2Daemon | ProcSet::Port(_) => 2,
            ProcSet::Pattern(_) | ProcSet::Pids(_) => 1,
        }
    }
    if rank(&b) > rank(&a) {
        b
    } else {
        a
    }
}

/// A listing narrowed by a pattern: the narrower of the two.
fn narrow(set: &ProcSet, by: &ProcSet) -> ProcSet {
    match set {
        ProcSet::Everything | ProcSet::User(_) => by.clone(),
        ProcSet::AllNode if matches!(by, ProcSet::Pattern(_) | ProcSet::Pm2Daemon) => by.clone(),
        other => other.clone(),
    }
}

/// The regex of an awk program's `/re/` or `$0 ~ "re"` condition.
fn awk_pattern(prog: &str) -> Option<String> {
    let delimited = |d: char| {
        let s = prog.find(d)?;
        let e = prog[s + 1..].find(d)? + s + 1;
        Some(prog[s + 1..e].to_string())
    };
    // `/node/ {print $2}`, else `$2 == "node" {print $1}`.
    delimited('/').or_else(|| delimited('"'))
}

impl Walker<'_> {
    /// What the previous pipeline stage writes, as text another program reads.
    pub(super) fn stage_output(&self, st: &SimpleCommand) -> Input {
        let (name, args) = effective(&st.words);
        let dynamic = args.iter().any(|w| w.is_dynamic());
        match name.as_str() {
            "echo" => {
                let mut k = 0;
                let mut escapes = false;
                while k < args.len()
                    && matches!(lit(&args[k]).as_str(), "-n" | "-e" | "-E" | "-ne" | "-en")
                {
                    escapes |= lit(&args[k]).contains('e');
                    k += 1;
                }
                let words: Vec<&Word> = args[k..].iter().collect();
                let mut text = String::new();
                let mut at = vec![];
                for (n, w) in words.iter().enumerate() {
                    let (t, m) = w.shell_text();
                    if n > 0 {
                        text.push(' ');
                        at.push(w.offset.saturating_sub(1));
                    }
                    at.extend((0..t.len()).map(|i| m.at(i)));
                    text.push_str(&t);
                }
                if escapes {
                    let n = text.len();
                    text = text.replace("\\n", "\n").replace("\\t", "\t");
                    at = vec![st.offset; n.max(text.len())];
                }
                text.push('\n');
                at.push(st.offset);
                let n = text.len();
                Input::Text(text, self.to_abs(&SrcMap::Each(at), n))
            }
            "printf" if !dynamic && !args.is_empty() => {
                let lits: Vec<String> = args.iter().map(lit).collect();
                let text = printf(&lits[0], &lits[1..]);
                let n = text.len();
                Input::Text(text, self.to_abs(&SrcMap::Each(vec![args[0].offset; n]), n))
            }
            "cat" if args.is_empty() => match st.heredocs.last() {
                Some(h) => {
                    let (text, map) = h.text();
                    let map = self.to_abs(&map, text.len());
                    Input::Text(text, map)
                }
                None => self.input.clone(),
            },
            _ => Input::Opaque(format!("the output of `{}`", joined(&st.words))),
        }
    }
}

/// What `printf FORMAT ARGS...` prints (`%s`, `%b`, `%d`, `%%`, `\n`, `\t`),
/// the format reused while arguments remain, as printf does.
fn printf(format: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut k = 0;
    loop {
        let mut chars = format.chars().peekable();
        let mut used = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(o) => out.push(o),
                    None => out.push('\\'),
                },
                '%' => {
                    // Skip flags and width: `%-10s`.
                    let mut conv = chars.next();
                    while conv.is_some_and(|c| c.is_ascii_digit() || "-+ #.".contains(c)) {
                        conv = chars.next();
                    }
                    match conv {
                        Some('%') => out.push('%'),
                        Some(_) => {
                            used = true;
                            if let Some(a) = args.get(k) {
                                out.push_str(a);
                            }
                            k += 1;
                        }
                        None => out.push('%'),
                    }
                }
                c => out.push(c),
            }
        }
        if !used || k >= args.len() {
            break;
        }
    }
    out
}
